"""batch-infer on Airflow: score a PostgreSQL table into another table, in SHARDS parallel pods.

score (KubernetesPodOperator, mapped with .expand over the shards)

Each pod runs `batch-infer run --input postgres://… --query … --shard i/N --shard-by id --output postgres://…
--output-table weather_predictions --if-exists append`: it reads the rows whose `id` hashes to shard i and
appends their predictions in one transaction of its own, committed only when the shard succeeds, so a retried
shard appends its rows once. Host, port, user and database come from the Airflow Connection `CONN_ID`; the
password comes from the Kubernetes Secret `PASSWORD_SECRET` as PGPASSWORD, so it is in neither the pod's
arguments nor Airflow's rendered templates. Rejects, summary and metrics go to
/data/output/score_postgres_table/<run id>/part-0000<i>-of-0000<N>.* on the `batch-infer-data` volume. A pod
that exits 2 (usage error) or 65 (bad data: the query fails, rejects exceed --max-reject-ratio) fails its task
without retries; any other failure is retried. Clearing a whole run that succeeded appends every row again.

Needs apache-airflow >= 2.6 and apache-airflow-providers-cncf-kubernetes >= 7.0.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from kubernetes.client import models as k8s

try:  # Airflow 3
    from airflow.sdk import dag
except ImportError:  # Airflow 2
    from airflow.decorators import dag

# What to set: the image in your registry, e.g. "registry.example.com/ml/batch-infer:0.1.0"; the namespace of the
# `batch-infer-data` claim (deploy/kubernetes/storage.yaml) and of the Secret; the connection and the tables.
IMAGE = "batch-infer:0.1.0"
NAMESPACE = "batch-infer"
# An Airflow Connection of type postgres: host, port, login and schema (the database). Its password is not used.
CONN_ID = "batch_infer_postgres"
# kubectl -n batch-infer create secret generic batch-infer-postgres --from-literal=password='…'
PASSWORD_SECRET = "batch-infer-postgres"
QUERY = "SELECT id, location, date, precipitation, temp_max, temp_min, wind FROM weather"
SHARD_BY = "id"
OUTPUT_TABLE = "weather_predictions"
KEEP_COLUMNS = "id,location,date"
MODEL = "weather"
SHARDS = 4
OUTPUT_ROOT = "/data/output"

# bin/cli/exit-codes.ts: 2 = usage error, 65 = bad data. Retrying either cannot succeed.
NO_RETRY_EXIT_CODES = frozenset({2, 65})

# Rendered when each task runs (Airflow's `conn` template variable); the URL carries no password.
_CONN = "conn." + CONN_ID
DATABASE_URL = (
    "postgres://{{ %s.login | urlencode }}@{{ %s.host }}:{{ %s.port or 5432 }}/{{ %s.schema | urlencode }}"
    % (_CONN, _CONN, _CONN, _CONN)
)
RUN_DIR = OUTPUT_ROOT + "/score_postgres_table/{{ run_id }}"


def shard_arguments(index: int) -> list[str]:
    """The arguments of shard `index`: the same query, output table and settings for every shard."""
    part = f"{RUN_DIR}/part-{index:05d}-of-{SHARDS:05d}"
    return [
        "run",
        "--input",
        DATABASE_URL,
        "--query",
        QUERY,
        "--shard",
        f"{index}/{SHARDS}",
        "--shard-by",
        SHARD_BY,
        "--output",
        DATABASE_URL,
        "--output-table",
        OUTPUT_TABLE,
        # Every shard writes this one table: with the default, fail, all but the first would find it there.
        "--if-exists",
        "append",
        "--columns",
        KEEP_COLUMNS,
        "--model",
        MODEL,
        "--max-reject-ratio",
        "0.01",
        "--rejects",
        f"{part}.rejects.csv",
        "--summary",
        f"{part}.summary.json",
        "--metrics-file",
        f"{part}.metrics.prom",
    ]


def _exit_code(pod: k8s.V1Pod | None, container: str) -> int | None:
    statuses = getattr(getattr(pod, "status", None), "container_statuses", None) or []
    for status in statuses:
        terminated = status.state.terminated if status.state else None
        if status.name == container and terminated is not None:
            return terminated.exit_code
    return None


class BatchInferPodOperator(KubernetesPodOperator):
    """A KubernetesPodOperator that fails without retries when batch-infer exits 2 or 65.

    The same subclass as in batch_infer_dag.py, repeated so that this file stands alone.
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


@dag(
    dag_id="score_postgres_table",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["batch-infer"],
)
def score_postgres_table() -> None:
    BatchInferPodOperator.partial(
        task_id="score",
        name="batch-infer-score-postgres",
        namespace=NAMESPACE,
        image=IMAGE,
        secrets=[Secret("env", "PGPASSWORD", PASSWORD_SECRET, "password")],
        get_logs=True,
        on_finish_action="delete_succeeded_pod",
        retries=2,
        retry_delay=timedelta(minutes=1),
        max_active_tis_per_dagrun=SHARDS,
        termination_grace_period=30,
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "1", "memory": "256Mi"},
            limits={"cpu": "1", "memory": "512Mi"},
        ),
        security_context=k8s.V1PodSecurityContext(
            run_as_non_root=True, run_as_user=1000, run_as_group=1000, fs_group=1000
        ),
        container_security_context=k8s.V1SecurityContext(
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
        # A list known when the DAG is parsed, not a task's output: Airflow renders the templates in it
        # (the connection, the run id) when each mapped task runs.
    ).expand(arguments=[shard_arguments(i) for i in range(SHARDS)])


score_postgres_table()
