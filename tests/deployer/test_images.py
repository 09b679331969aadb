"""The deployer pins job images by digest: ImageDigest from ECR under the job's tag, and the registry goes first."""

from __future__ import annotations

from pathlib import Path

import boto3
from botocore.stub import Stubber

from blueprints.compute import IMAGE_DIGEST_PARAMETER as BLUEPRINT_PARAMETER
from dsplatform.deployer.images import IMAGE_DIGEST_PARAMETER, image_stacks_first, with_image_digests
from dsplatform.stackspec import JobImage, Plan
from tests.deployer.deployer_stubs import TARGET, spec

DIGEST = "sha256:" + "ab" * 32
IMAGE = JobImage(job="preprocessing", component="compute", repository="ds-preprocessing", tag="latest",
                 source=Path("containers/preprocessing"))
WANTS = {IMAGE_DIGEST_PARAMETER: {"Type": "String", "Default": ""}}


def _plan() -> Plan:
    return Plan(TARGET, (spec("ds-dev-registry"), spec("ds-dev-storage"),
                         spec("ds-dev-compute", parameters_decl=dict(WANTS),
                              depends_on=("ds-dev-registry", "ds-dev-storage")),
                         spec("ds-dev-orchestration", depends_on=("ds-dev-compute",))), images=(IMAGE,))


def _ecr() -> tuple[object, Stubber]:
    client = boto3.client("ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_the_blueprint_and_the_deployer_name_the_same_parameter():
    assert BLUEPRINT_PARAMETER == IMAGE_DIGEST_PARAMETER


def test_image_digest_is_the_one_ecr_holds_under_the_tag():
    ecr, stub = _ecr()
    stub.add_response("describe_images", {"imageDetails": [{"imageDigest": DIGEST}]},
                      {"repositoryName": "ds-preprocessing", "imageIds": [{"imageTag": "latest"}]})
    with stub:
        plan = with_image_digests(_plan(), ecr)
    assert plan.stack("ds-dev-compute").parameters == {IMAGE_DIGEST_PARAMETER: DIGEST}
    assert all(plan.stack(n).parameters == {} for n in ("ds-dev-registry", "ds-dev-orchestration"))


def test_nothing_pushed_leaves_the_default_so_a_first_deploy_works():
    for code in ("RepositoryNotFoundException", "ImageNotFoundException"):
        ecr, stub = _ecr()
        stub.add_client_error("describe_images", service_error_code=code)
        with stub:
            plan = with_image_digests(_plan(), ecr)
        assert IMAGE_DIGEST_PARAMETER not in plan.stack("ds-dev-compute").parameters


def test_the_registry_and_everything_not_running_an_image_deploy_before_the_push():
    first = image_stacks_first(_plan())
    assert first is not None and [s.name for s in first.stacks] == ["ds-dev-registry", "ds-dev-storage"]
    assert image_stacks_first(Plan(TARGET, (spec("ds-dev-registry"),))) is None
