"""Task definitions run the job image by digest: a fresh deploy names the tag, the deploy after a push pins the
digest, and a later push under the same tag changes nothing that runs until the next deploy."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dsplatform.deployer import Outcome, deploy
from dsplatform.images import push_images
from tests.integration.conftest import REPO, clients_for

pytestmark = pytest.mark.localstack


def _running_image(clients, plan) -> str:
    compute = next(s for s in plan.stacks if s.component == "compute")
    stack = clients.client("cloudformation").describe_stacks(StackName=compute.name)["Stacks"][0]
    arn = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "TaskDefinitionArn")
    definition = clients.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]
    return str(definition["containerDefinitions"][0]["image"])


def test_the_task_definition_pins_the_pushed_digest(platform_plan) -> None:
    made = platform_plan()  # its config sits in a temporary folder: the job's source is the repository's
    plan = dataclasses.replace(made, images=tuple(
        dataclasses.replace(i, source=REPO / "containers" / i.job) for i in made.images))
    clients = clients_for(plan)
    assert deploy(plan, clients).ok
    assert _running_image(clients, plan).endswith(":latest")  # nothing pushed yet: a plain deploy still works

    [pushed] = push_images(plan, clients).values()
    result = deploy(plan, clients)
    compute = next(s.name for s in plan.stacks if s.component == "compute")
    assert result.ok and result.stacks[compute].outcome is Outcome.UPDATED
    uri = _running_image(clients, plan).split("@")[0]
    assert _running_image(clients, plan) == f"{uri}@{pushed.digest}"

    # Someone pushes another image under the same (mutable) tag: what runs does not change without a deploy.
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                                      "digest": "sha256:" + "c" * 64}, "layers": []})
    clients.client("ecr").put_image(repositoryName=pushed.repository, imageTag=pushed.tag, imageManifest=manifest)
    assert _running_image(clients, plan) == f"{uri}@{pushed.digest}"
