"""`invoke destroy --keep-images` on a real LocalStack: the stack goes, the repository and its image stay;
without the flag the images are purged and the repository deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsplatform.deployer import deploy, destroy
from dsplatform.images import push_local_image
from dsplatform.stackspec import Plan, StackSpec
from tests.integration.conftest import clients_for
from tests.integration.conftest import small_target as small_target  # the fixture, shared

pytestmark = pytest.mark.localstack
SOURCE = Path(__file__).resolve().parents[2] / "containers" / "preprocessing"


def _plan(target: Any) -> Plan:
    repo = f"kept-{target.env}"
    template = {"Resources": {"Repository": {"Type": "AWS::ECR::Repository",
                                             "Properties": {"RepositoryName": repo}}}}
    return Plan(target, (StackSpec(name=f"ds-{target.env}-registry", component="registry", template=template),))


@pytest.mark.parametrize("keep", [True, False])
def test_destroy_keeps_images_only_when_asked(small_target: Any, keep: bool) -> None:
    plan = _plan(small_target())
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    ecr, repo = clients.client("ecr"), f"kept-{plan.target.env}"
    digest = push_local_image(ecr, repo, "v1", SOURCE)
    assert destroy(plan, clients, keep_images=keep).ok
    cfn = clients.client("cloudformation")
    assert not [s for s in cfn.list_stacks()["StackSummaries"]
                if s["StackName"] == plan.stacks[0].name and s["StackStatus"] != "DELETE_COMPLETE"]
    if keep:
        images = ecr.describe_images(repositoryName=repo)["imageDetails"]
        assert [(i["imageDigest"], i["imageTags"]) for i in images] == [(digest, ["v1"])]
        ecr.delete_repository(repositoryName=repo, force=True)  # the test's own cleanup
    else:
        with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
            ecr.describe_repositories(repositoryNames=[repo])
