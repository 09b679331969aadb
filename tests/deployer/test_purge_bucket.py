"""Purging a retained bucket (dsplatform.deployer.destroy.purge_bucket) with botocore's Stubber: an object that
lands after the bucket was emptied (ELB's last access logs, delivered as its load balancer is deleted) is emptied
again before the bucket goes; another error, or a bucket that keeps filling, is not hidden."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from dsplatform.deployer.destroy import purge_bucket

BUCKET = "ml-dev-api-logs-111111111111"
LATE = {"Versions": [{"Key": "AWSLogs/1/elasticloadbalancing/last.log.gz", "VersionId": "v1"}]}


def _s3() -> Any:
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _empty_then_delete(stub: Stubber, listed: dict[str, Any], error: str | None = None) -> None:
    stub.add_response("list_object_versions", {**listed, "IsTruncated": False}, {"Bucket": BUCKET})
    if listed.get("Versions"):
        stub.add_response("delete_objects", {}, {"Bucket": BUCKET, "Delete": {"Objects": [
            {"Key": v["Key"], "VersionId": v["VersionId"]} for v in listed["Versions"]], "Quiet": True}})
    if error:
        stub.add_client_error("delete_bucket", error, "The bucket you tried to delete is not empty",
                              http_status_code=409, expected_params={"Bucket": BUCKET})
    else:
        stub.add_response("delete_bucket", {}, {"Bucket": BUCKET})


def test_an_object_written_after_the_emptying_is_emptied_again_and_the_bucket_goes() -> None:
    s3 = _s3()
    with Stubber(s3) as stub:
        _empty_then_delete(stub, {}, error="BucketNotEmpty")  # the last access log landed in between
        _empty_then_delete(stub, LATE)
        purge_bucket(s3, BUCKET, pause=0)
        stub.assert_no_pending_responses()


def test_a_bucket_that_keeps_filling_fails_after_the_attempts_and_another_error_at_once() -> None:
    s3 = _s3()
    with Stubber(s3) as stub:
        for _ in range(2):
            _empty_then_delete(stub, LATE, error="BucketNotEmpty")
        with pytest.raises(ClientError, match="BucketNotEmpty"):
            purge_bucket(s3, BUCKET, attempts=2, pause=0)
        stub.assert_no_pending_responses()
    with Stubber(s3) as stub:
        _empty_then_delete(stub, {}, error="AccessDenied")
        with pytest.raises(ClientError, match="AccessDenied"):
            purge_bucket(s3, BUCKET, pause=0)
        stub.assert_no_pending_responses()
