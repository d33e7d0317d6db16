"""batch-infer on Kubeflow Pipelines v2 (and Vertex AI Pipelines): one dataset scored in SHARDS parallel tasks.

The component comes from component.yaml beside this file. Each task gets the same input artifact and its own
shard "i/N", scores that slice against the model server and returns predictions, rejects and summary artifacts
in the pipeline root.

    pip install 'kfp>=2.7'
    python pipeline.py            # writes batch_infer_pipeline.yaml, to upload in the KFP UI or submit:
    # kfp run create --experiment-name batch-infer --package-file batch_infer_pipeline.yaml
"""

from __future__ import annotations

from pathlib import Path

from kfp import compiler, components, dsl

SHARDS = 4

batch_infer = components.load_component_from_file(str(Path(__file__).with_name("component.yaml")))


@dsl.pipeline(
    name="batch-infer-sharded",
    description="Score a CSV dataset with batch-infer in parallel shards against the model server.",
)
def batch_infer_pipeline(
    # What to set: your bucket (gs:// on Vertex AI, minio:// or s3:// on a KFP cluster), and the server's URL as
    # seen from pipeline pods (deploy/kubernetes/server.yaml in namespace batch-infer), or "" to score in process.
    input_uri: str = "gs://my-bucket/batch-infer/input/weather.csv",
    server_url: str = "http://batch-infer.batch-infer.svc.cluster.local:8080",
    model: str = "weather",
    max_reject_ratio: float = 0.01,
) -> None:
    dataset = dsl.importer(artifact_uri=input_uri, artifact_class=dsl.Dataset, reimport=False)
    with dsl.ParallelFor(items=[f"{i}/{SHARDS}" for i in range(SHARDS)], parallelism=SHARDS) as shard:
        score = batch_infer(
            input_csv=dataset.output,
            url=server_url,
            shard=shard,
            model=model,
            max_reject_ratio=max_reject_ratio,
            concurrency=8,
        )
        score.set_display_name("score-shard")
        score.set_cpu_request("500m").set_cpu_limit("1")
        score.set_memory_request("256Mi").set_memory_limit("512Mi")
        # KFP retries every failure alike: exit 65 (bad data) and 2 (usage) are retried too, and fail again fast.
        score.set_retry(num_retries=2, backoff_duration="60s")


if __name__ == "__main__":
    compiler.Compiler().compile(batch_infer_pipeline, package_path="batch_infer_pipeline.yaml")
