"""batch-infer on Airflow: score /data/input/*.csv in SHARDS parallel pods, one mapped task per shard.

plan_shards -> score (KubernetesPodOperator, mapped with .expand over the shards) -> collect

Each pod runs the batch-infer image against the model server (deploy/kubernetes/server.yaml) and writes
/data/output/<run id>/part-0000<i>-of-0000<N>.csv on the `batch-infer-data` volume; the paths it writes come back
by XCom (xcom_wrapper.sh writes them to /airflow/xcom/return.json), and `collect` gathers them. A pod that exits 2
(usage error) or 65 (bad data) fails its task without retries; any other failure is retried.

Needs apache-airflow >= 2.6 and apache-airflow-providers-cncf-kubernetes >= 7.0. Put this file and
xcom_wrapper.sh side by side in the DAGs folder.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task

# What to set: the image in your registry, e.g. "registry.example.com/ml/batch-infer:0.1.0"; the namespace that
# holds the server and the `batch-infer-data` claim (deploy/kubernetes); the number of shards.
IMAGE = "batch-infer:0.1.0"
NAMESPACE = "batch-infer"
SERVER_URL = "http://batch-infer:8080"
MODEL = "weather"
SHARDS = 4
INPUT = "/data/input/*.csv"
OUTPUT_ROOT = "/data/output"

# bin/cli/exit-codes.ts: 2 = usage error, 65 = bad data. Retrying either cannot succeed.
NO_RETRY_EXIT_CODES = frozenset({2, 65})

WRAPPER = (Path(__file__).parent / "xcom_wrapper.sh").read_text()


def _exit_code(pod: k8s.V1Pod | None, container: str) -> int | None:
    statuses = getattr(getattr(pod, "status", None), "container_statuses", None) or []
    for status in statuses:
        terminated = status.state.terminated if status.state else None
        if status.name == container and terminated is not None:
            return terminated.exit_code
    return None


class BatchInferPodOperator(KubernetesPodOperator):
    """A KubernetesPodOperator that fails without retries when batch-infer exits 2 or 65.

    KubernetesPodOperator retries every failed pod alike. Its cleanup() raises AirflowException once the pod
    has failed; here that becomes AirflowFailException, which Airflow never retries, when the main container's
    exit code says the failure is permanent.
    """

    def cleanup(self, pod: k8s.V1Pod, remote_pod: k8s.V1Pod) -> None:
        try:
            super().cleanup(pod, remote_pod)
        except AirflowFailException:
            raise
        except AirflowException as err:
            code = _exit_code(remote_pod, getattr(self, "base_container_name", "base"))
            if code in NO_RETRY_EXIT_CODES:
                reason = "usage error" if code == 2 else "bad data"
                raise AirflowFailException(f"batch-infer exited {code} ({reason}); not retried") from err
            raise


@task
def plan_shards(run_id: str | None = None) -> list[list[str]]:
    """One argument list per shard. --output is the run's folder: with --shard the CLI writes
    part-0000<i>-of-0000<N>.csv (and its .rejects.csv, .summary.json, .metrics.prom) in it, named after the shard,
    so a retry overwrites its own files."""
    run_dir = f"{OUTPUT_ROOT}/{re.sub(r'[^A-Za-z0-9_.-]', '_', run_id or 'manual')}"
    return [
        [
            "run",
            "--input",
            INPUT,
            "--shard",
            f"{i}/{SHARDS}",
            "--output",
            run_dir,
            "--url",
            SERVER_URL,
            "--model",
            MODEL,
            "--concurrency",
            "8",
            "--max-reject-ratio",
            "0.01",
        ]
        for i in range(SHARDS)
    ]


@task
def collect(shards: list[dict[str, str]]) -> dict[str, list[str]]:
    """Every shard's output, rejects and summary paths, for downstream tasks."""
    result = {
        "outputs": [s["output"] for s in shards],
        "rejects": [s["rejects"] for s in shards],
        "summaries": [s["summary"] for s in shards],
    }
    print(f"batch-infer wrote {len(result['outputs'])} parts: {result['outputs']}")
    return result


@dag(
    dag_id="batch_infer",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["batch-infer"],
)
def batch_infer() -> None:
    score = BatchInferPodOperator.partial(
        task_id="score",
        name="batch-infer-score",
        namespace=NAMESPACE,
        image=IMAGE,
        # sh -c <wrapper> batch-infer <arguments...>: the wrapper writes the XCom, then execs batch-infer.
        cmds=["sh", "-c", WRAPPER, "batch-infer"],
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_succeeded_pod",
        retries=2,
        retry_delay=timedelta(minutes=1),
        max_active_tis_per_dagrun=SHARDS,
        termination_grace_period=30,
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "500m", "memory": "256Mi"},
            limits={"cpu": "1", "memory": "512Mi"},
        ),
        # Pod-level: only fsGroup, because the XCom sidecar the operator adds runs as root.
        security_context=k8s.V1PodSecurityContext(fs_group=1000),
        container_security_context=k8s.V1SecurityContext(
            run_as_non_root=True,
            run_as_user=1000,
            run_as_group=1000,
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.V1Capabilities(drop=["ALL"]),
        ),
        volumes=[
            k8s.V1Volume(
                name="data",
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name="batch-infer-data"),
            ),
            k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="64Mi")),
        ],
        volume_mounts=[
            k8s.V1VolumeMount(name="data", mount_path="/data"),
            k8s.V1VolumeMount(name="tmp", mount_path="/tmp"),
        ],
    ).expand(arguments=plan_shards())

    collect(score.output)


batch_infer()
