"""destroy(): delete the plan's stacks in reverse dependency order; data buckets and tables stay unless purged."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from typing import Any

from botocore.exceptions import ClientError

from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.deploy import polling_for
from dsplatform.deployer.errors import ProtectedTargetError
from dsplatform.deployer.events import failure_events, first_reason
from dsplatform.deployer.graph import Graph, run_graph
from dsplatform.deployer.inventory import deployed_stacks
from dsplatform.deployer.lock import env_lock
from dsplatform.deployer.models import DeployOptions, DeployResult, Outcome, StackResult
from dsplatform.deployer.progress import NullReporter, Reporter
from dsplatform.deployer.retained import ENDPOINT, sweep
from dsplatform.deployer.status import StackState, classify
from dsplatform.deployer.waiters import Polling, wait_settled
from dsplatform.stackspec import Plan

_S3_BATCH = 1000  # DeleteObjects takes at most 1000 keys
_ECR_BATCH = 100  # BatchDeleteImage takes at most 100 image ids


def destroy(
    plan: Plan,
    clients: ClientFactory,
    purge_data: bool = False,
    options: DeployOptions | None = None,
    reporter: Reporter | None = None,
    keep_images: bool = False,
) -> DeployResult:
    """Delete every stack of ``plan`` in reverse order; ECR images are purged first (a repository with
    images cannot be deleted) unless ``keep_images``, which keeps the repositories holding images, and their
    images, out of the delete; with ``purge_data`` buckets are emptied (all versions and delete markers)
    and deleted, otherwise retained buckets stay as their DeletionPolicy says. Refuses protected targets.
    """
    if plan.target.protected:
        raise ProtectedTargetError(plan.target.env, "destroy")
    options = options or DeployOptions()
    reporter = reporter or NullReporter()
    graph = Graph.for_destroy(plan)
    clients.verify_account()
    cfn = clients.client("cloudformation")
    polling = polling_for(clients, options)
    result = DeployResult(plan.target.env)
    t0 = time.monotonic()
    guard = threading.Lock()
    with env_lock(clients.client("ssm"), plan.target.env, options.lock_ttl_seconds, force=options.break_lock,
                  name=plan.target.lock_name or None):
        current = deployed_stacks(cfn, graph.nodes)
        reporter.started("destroy", plan.target.env, list(reversed(Graph.for_deploy(plan).order())))

        def work(name: str) -> bool:
            started = time.monotonic()
            try:
                res = _destroy_stack(clients, cfn, name, current.get(name), purge_data, polling, reporter,
                                     keep_images)
                if res.outcome is Outcome.ABSENT and purge_data:
                    # An earlier destroy kept the buckets; the template still names them.
                    for bucket in retained_bucket_names(plan.stack(name).template):
                        reporter.stack_phase(name, f"purging retained bucket {bucket}")
                        purge_bucket(clients.client("s3"), bucket)
            except ClientError as err:
                res = StackResult(
                    name, Outcome.FAILED, None, reason=err.response.get("Error", {}).get("Message") or str(err)
                )
            res.elapsed = time.monotonic() - started
            with guard:
                result.stacks[name] = res
            reporter.stack_finished(res)
            return res.ok

        def blocked(name: str, dep: str) -> None:
            res = StackResult(
                name,
                Outcome.BLOCKED,
                (current.get(name) or {}).get("StackStatus"),
                reason=f"kept: {dep} failed to delete",
            )
            with guard:
                result.stacks[name] = res
            reporter.stack_finished(res)

        run_graph(graph, work, concurrency=options.concurrency, on_blocked=blocked)
    result.elapsed = time.monotonic() - t0
    reporter.finished(result)
    return result


def _destroy_stack(
    clients: ClientFactory,
    cfn: Any,
    name: str,
    desc: dict[str, Any] | None,
    purge_data: bool,
    polling: Polling,
    reporter: Reporter,
    keep_images: bool = False,
) -> StackResult:
    if desc is None:
        return StackResult(name, Outcome.ABSENT, None)
    stack_id = desc["StackId"]
    if classify(desc["StackStatus"]) is StackState.IN_PROGRESS:
        reporter.stack_phase(name, f"waiting for {desc['StackStatus']}")
        desc = wait_settled(cfn, stack_id, polling)
        if desc is None:
            return StackResult(name, Outcome.ABSENT, None)
    if desc.get("EnableTerminationProtection"):
        return StackResult(
            name,
            Outcome.FAILED,
            desc["StackStatus"],
            reason="termination protection is on; turn it off in the console if this stack really must go",
        )
    resources = _physical_ids(cfn, stack_id)
    for repo in [] if keep_images else resources.get("AWS::ECR::Repository", []):
        reporter.stack_phase(name, f"purging images of {repo}")
        purge_images(clients.client("ecr"), repo)
    buckets = resources.get("AWS::S3::Bucket", [])
    if purge_data:
        for bucket in buckets:
            reporter.stack_phase(name, f"emptying bucket {bucket}")
            empty_bucket(clients.client("s3"), bucket)
    elif buckets:
        holding = [b for b in deleted_buckets(cfn, stack_id) if _has_objects(clients.client("s3"), b)]
        if holding:
            # AWS refuses to delete a non-empty bucket (DELETE_FAILED, BucketNotEmpty) but LocalStack deletes
            # it with its objects: refuse before the stack is touched, on every target, so no data is lost.
            return StackResult(
                name, Outcome.FAILED, desc["StackStatus"],
                reason=f"not deleted: bucket(s) {', '.join(holding)} would be deleted with the stack (no Retain "
                       f"policy) and still hold objects; copy what you need, then run again with --purge-data")
    reporter.stack_phase(name, "deleting")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    cfn.delete_stack(StackName=stack_id)
    after = wait_settled(cfn, stack_id, polling)
    if after is not None and keep_images and after["StackStatus"] == "DELETE_FAILED":
        # A repository holding images fails its delete, as on AWS; RetainResources (accepted only on
        # DELETE_FAILED) then leaves it, with its images, outside the stack, which is deleted.
        kept = _logical_ids(cfn, stack_id, "AWS::ECR::Repository")
        if kept:
            reporter.stack_phase(name, f"keeping {', '.join(resources.get('AWS::ECR::Repository', []))} and its "
                                       f"images")
            cfn.delete_stack(StackName=stack_id, RetainResources=kept)
            after = wait_settled(cfn, stack_id, polling)
    if after is not None:
        events = failure_events(cfn, stack_id, since)
        return StackResult(
            name, Outcome.FAILED, after["StackStatus"], events=tuple(events), reason=first_reason(events)
        )
    endpoints = resources.get(ENDPOINT, [])
    if endpoints:  # the models and configs the stack kept for rollbacks (and its last ones, kept by DeletionPolicy)
        kept = sweep(clients.client("sagemaker"), endpoints)
        if kept:
            reporter.stack_phase(name, f"deleted {len(kept)} kept SageMaker model(s) and config(s)")
    if purge_data:
        for bucket in buckets:  # retained by DeletionPolicy: emptied before, deleted by us now
            purge_bucket(clients.client("s3"), bucket)
        for table in resources.get("AWS::DynamoDB::Table", []):  # retained too (the ingest catalogue)
            _delete_table(clients.client("dynamodb"), table)
    return StackResult(name, Outcome.DELETED, "DELETE_COMPLETE")


def deleted_buckets(cfn: Any, stack_id: str) -> list[str]:
    """Physical names of the deployed stack's buckets whose DeletionPolicy deletes them (read from the stack)."""
    body = cfn.get_template(StackName=stack_id, TemplateStage="Original")["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    doomed = {logical for logical, res in (template.get("Resources") or {}).items()
              if res.get("Type") == "AWS::S3::Bucket" and res.get("DeletionPolicy", "Delete") == "Delete"}
    if not doomed:
        return []
    names = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        for r in page.get("StackResourceSummaries", []):
            if r["LogicalResourceId"] in doomed and r.get("PhysicalResourceId"):
                names.append(r["PhysicalResourceId"])
    return names


def _has_objects(s3: Any, bucket: str) -> bool:
    try:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=1)
    except s3.exceptions.NoSuchBucket:
        return False
    return bool(page.get("Versions") or page.get("DeleteMarkers"))


def _delete_table(ddb: Any, table: str) -> None:
    with contextlib.suppress(ddb.exceptions.ResourceNotFoundException):
        ddb.delete_table(TableName=table)


def retained_bucket_names(template: dict[str, Any]) -> list[str]:
    """Literal BucketName values of a template's buckets (names built with intrinsics are not known here)."""
    return [
        str(res["Properties"]["BucketName"])
        for res in (template.get("Resources") or {}).values()
        if res.get("Type") == "AWS::S3::Bucket" and isinstance((res.get("Properties") or {}).get("BucketName"), str)
    ]


def _logical_ids(cfn: Any, stack_id: str, resource_type: str) -> list[str]:
    out = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        out += [r["LogicalResourceId"] for r in page.get("StackResourceSummaries", [])
                if r["ResourceType"] == resource_type and r.get("ResourceStatus") != "DELETE_COMPLETE"]
    return out


def _physical_ids(cfn: Any, stack_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        for r in page.get("StackResourceSummaries", []):
            if r.get("PhysicalResourceId") and r.get("ResourceStatus") != "DELETE_COMPLETE":
                out.setdefault(r["ResourceType"], []).append(r["PhysicalResourceId"])
    return out


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker of a bucket; returns how many were deleted."""
    deleted = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            keys = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            for i in range(0, len(keys), _S3_BATCH):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + _S3_BATCH], "Quiet": True})
                deleted += len(keys[i : i + _S3_BATCH])
    except s3.exceptions.NoSuchBucket:
        return deleted
    return deleted


def purge_bucket(s3: Any, bucket: str, attempts: int = 4, pause: float = 1.0) -> None:
    """Empty a bucket and delete it; emptied again when something wrote to it in between (BucketNotEmpty).

    Why again: a writer can outlive the stack by moments. ELB delivers a load balancer's last access logs when
    the load balancer is deleted, which is during the stack delete, after the bucket was emptied; the purge
    then met "The bucket you tried to delete is not empty". The pauses grow (1, 2, 4 s by default).
    """
    for attempt in range(attempts):
        empty_bucket(s3, bucket)
        try:
            _delete_bucket(s3, bucket)
            return
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "BucketNotEmpty" or attempt == attempts - 1:
                raise
        time.sleep(pause * 2**attempt)


def _delete_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        pass
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise


def purge_images(ecr: Any, repository: str) -> int:
    """Delete every image of an ECR repository; a missing repository counts as already purged."""
    deleted = 0
    try:
        for page in ecr.get_paginator("list_images").paginate(repositoryName=repository):
            ids = page.get("imageIds", [])
            for i in range(0, len(ids), _ECR_BATCH):
                ecr.batch_delete_image(repositoryName=repository, imageIds=ids[i : i + _ECR_BATCH])
                deleted += len(ids[i : i + _ECR_BATCH])
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "RepositoryNotFoundException":
            raise
    return deleted
