"""Test data under unique run ids, cleaned up in reverse order with every failure reported."""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from dsplatform.errors import DsPlatformError
from dsplatform.jobdata import job_module
from harness.platform import Platform


class Clients(Protocol):
    """Anything that hands out boto3 clients by service name (dsplatform.deployer.ClientFactory)."""

    def client(self, service: str) -> Any:
        """Return a boto3 client for ``service``."""
        ...


class CleanupFailed(DsPlatformError):
    """One or more cleanup steps failed; every failure is listed, none swallowed."""

    def __init__(self, run_id: str, failures: list[str]) -> None:
        self.run_id, self.failures = run_id, failures
        super().__init__(f"cleanup of run {run_id} failed in {len(failures)} step(s): " + "; ".join(failures))


def new_run_id(prefix: str = "e2e") -> str:
    """A unique, sortable run id that is also a valid Step Functions execution name and S3 key part."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Queue:
    """An SQS queue the test created (e.g. subscribed to the alert topic)."""

    url: str
    arn: str


@dataclass
class Run:
    """One test run's data: everything it creates registers its own undo step."""

    id: str
    platform: Platform
    clients: Clients
    _cleanups: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    # -- generic ---------------------------------------------------------------------------------
    def add_cleanup(self, description: str, undo: Callable[[], None]) -> None:
        """Register an undo step; steps run in reverse order of registration."""
        self._cleanups.append((description, undo))

    def cleanup(self) -> list[str]:
        """Run every undo step in reverse order; return one line per failed step (never raises)."""
        failures: list[str] = []
        while self._cleanups:
            description, undo = self._cleanups.pop()
            try:
                undo()
            except Exception as err:  # reported to the caller below, never dropped
                failures.append(f"{description}: {type(err).__name__}: {err}")
        return failures

    def param(self, name: str) -> str:
        """Read SSM parameter ``<prefix><name>`` of the deployed environment."""
        ssm = self.clients.client("ssm")
        return str(ssm.get_parameter(Name=self.platform.ssm_prefix + name)["Parameter"]["Value"])

    # -- S3 --------------------------------------------------------------------------------------
    def put_object(self, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None) -> str:
        """Put an object and register its undo (restores any previous object); return the key."""
        undo = self._prepare_overwrite(bucket, key)
        s3 = self.clients.client("s3")
        response = s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata or {})
        self.add_cleanup(f"s3://{bucket}/{key}", lambda: undo(response.get("VersionId")))
        return key

    def put_input(self, data: bytes, key: str | None = None) -> str:
        """Upload input CSV bytes to the input bucket (default key ``e2e/<run-id>/input.csv``)."""
        return self.put_object(self.platform.input_bucket, key or f"e2e/{self.id}/input.csv", data)

    def upload_model(self, pipeline: Any) -> tuple[str, str, str]:
        """Upload ``pipeline`` where the job reads its model (SSM artifact-bucket/model-key).

        Returns (bucket, key, sha256). The previous model, if any, comes back at cleanup.
        """
        upload_model = job_module("model").upload_model

        bucket, key = self.param("artifact-bucket"), self.param("model-key")
        undo = self._prepare_overwrite(bucket, key)
        s3 = self.clients.client("s3")
        sha = upload_model(s3, bucket, key, pipeline)
        version = s3.head_object(Bucket=bucket, Key=key).get("VersionId")
        self.add_cleanup(f"model s3://{bucket}/{key}", lambda: undo(version))
        return bucket, key, sha

    def use_model(self, pipeline: Any) -> Any:
        """Make sure the job has a model; return the pipeline it will apply (for independent checks).

        When the job reads its own environment's artifact bucket, ``pipeline`` is uploaded there (the
        previous model returns at cleanup). When it reads another environment's bucket (prod reading
        stg's), that bucket is read-only to this environment: the model already there is loaded.
        """
        bucket = self.param("artifact-bucket")
        if bucket == self.platform.artifact_bucket:
            self.upload_model(pipeline)
            return pipeline
        load_model = job_module("model").load_model

        return load_model(self.clients.client("s3"), bucket, self.param("model-key")).pipeline

    def expect_outputs(self) -> None:
        """Register removal of the job's outputs for this run id (processed/ and rejected/)."""
        bucket = self.platform.output_bucket
        for prefix in (f"processed/{self.id}/", f"rejected/{self.id}/"):
            self.add_cleanup(f"s3://{bucket}/{prefix}*", functools.partial(delete_prefix, self.clients, bucket, prefix))

    def _prepare_overwrite(self, bucket: str, key: str) -> Callable[[str | None], None]:
        """Remember what is at bucket/key now and return the undo for a put made after this call."""
        s3 = self.clients.client("s3")
        previous: dict[str, Any] | None = None
        try:
            got = s3.get_object(Bucket=bucket, Key=key)
            previous = {"Body": got["Body"].read(), "Metadata": got.get("Metadata", {})}
        except s3.exceptions.NoSuchKey:
            previous = None

        def undo(version_id: str | None) -> None:
            if version_id and version_id != "null":
                # Versioned bucket: deleting our version makes the previous one current again.
                s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
            elif previous is not None:
                s3.put_object(Bucket=bucket, Key=key, Body=previous["Body"], Metadata=previous["Metadata"])
            else:
                s3.delete_object(Bucket=bucket, Key=key)

        return undo

    # -- SNS -> SQS ------------------------------------------------------------------------------
    def subscribe_queue(self, topic_arn: str) -> Queue:
        """Create an SQS queue subscribed to ``topic_arn`` (raw delivery off, as an operator's would be)."""
        sqs, sns = self.clients.client("sqs"), self.clients.client("sns")
        # Named with the project's prefix: the deploy role runs `invoke e2e --keep` and may only touch those.
        url = sqs.create_queue(QueueName=f"{self.platform.project}-{self.id}"[:80])["QueueUrl"]
        self.add_cleanup(f"sqs queue {url}", lambda: sqs.delete_queue(QueueUrl=url))
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        sub = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)
        sub_arn = sub["SubscriptionArn"]
        self.add_cleanup(f"sns subscription {sub_arn}", lambda: sns.unsubscribe(SubscriptionArn=sub_arn))
        return Queue(url=url, arn=arn)


def delete_prefix(clients: Clients, bucket: str, prefix: str) -> None:
    """Delete every object version and delete marker under ``prefix`` (paginated)."""
    s3 = clients.client("s3")
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            result = s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            errors = result.get("Errors", [])
            if errors:
                raise DsPlatformError(
                    f"could not delete {len(errors)} object(s) under s3://{bucket}/{prefix}: {errors[0]}"
                )
