"""The harness finds a deployment by the plan's stack names, whatever the project is called, through the one
typed reader of deployed outputs."""

from __future__ import annotations

import pytest

from dsplatform.config import parse_config
from dsplatform.deployer.outputs import Deployed, MissingOutputError
from dsplatform.synth import plan_from_config
from harness.platform import PlatformNotDeployedError, platform_from_deployed

CONFIG = """
project: {name: ml}
environments:
  qa: {account_id: "444444444444", target: localstack}
"""


def _deployed(plan, drop=()):
    # Every output each component's Outputs class declares, valued "<component>-<key>".
    typed = {spec.component: spec.outputs.read({k: f"{spec.component}-{k}" for k in spec.outputs.key_names()})
             for spec in plan.stacks if spec.component not in drop}
    return Deployed(env=plan.target.env, by_component=typed,
                    stack_names={spec.component: spec.name for spec in plan.stacks})


def test_platform_of_a_project_with_its_own_name():
    plan = plan_from_config(parse_config(CONFIG), "qa")
    platform = platform_from_deployed(plan, _deployed(plan))
    assert platform.input_bucket == "storage-InputBucketName"
    assert platform.task_definition_arn == "compute-TaskDefinitionArn"
    assert platform.subnet_ids == ("network-SubnetIds",)
    assert platform.stack_name("monitoring") == "ml-qa-monitoring"


def test_missing_stacks_are_named_by_their_real_stack():
    plan = plan_from_config(parse_config(CONFIG), "qa")
    with pytest.raises(PlatformNotDeployedError, match=r"ml-qa-storage"):
        platform_from_deployed(plan, _deployed(plan, drop=("storage",)))


def test_a_stack_missing_a_required_output_is_reported_with_the_key():
    from blueprints.storage import StorageOutputs

    with pytest.raises(KeyError, match="InputBucketName"):
        StorageOutputs.read({"OutputBucketName": "x"})
    deployed = Deployed(env="qa", by_component={}, stack_names={"storage": "ml-qa-storage"})
    with pytest.raises(MissingOutputError, match="ml-qa-storage is not deployed"):
        deployed.get(StorageOutputs)


def test_the_job_repository_is_the_stock_registrys_even_beside_the_api_registry():
    plan = plan_from_config(parse_config(CONFIG + "components: {plugins: [api]}\n"), "qa")
    deployed = _deployed(plan)
    # api-registry's outputs first: the job's repository is still read by the component's name, not guessed.
    first = Deployed(env=deployed.env, stack_names=deployed.stack_names,
                     by_component=dict(reversed(list(deployed.by_component.items()))))
    assert platform_from_deployed(plan, first).repository_uri == "registry-RepositoryUri"
    from blueprints.registry import RegistryOutputs

    with pytest.raises(ValueError, match=r"outputs of .*api-registry.*deployed\["):
        first.get(RegistryOutputs)
