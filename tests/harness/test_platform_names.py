"""The harness finds a deployment by the plan's stack names, whatever the project is called."""

from __future__ import annotations

import pytest

from dsplatform.config import parse_config
from dsplatform.synth import plan_from_config
from harness.platform import REQUIRED_OUTPUTS, PlatformNotDeployedError, platform_from_outputs

CONFIG = """
project: {name: ml}
environments:
  qa: {account_id: "444444444444", target: localstack}
"""


def _outputs(plan):
    by_component = {spec.component: spec.name for spec in plan.stacks}
    return {by_component[c]: {k: f"{c}-{k}" for k in keys} for c, keys in REQUIRED_OUTPUTS.items()}


def test_platform_of_a_project_with_its_own_name():
    plan = plan_from_config(parse_config(CONFIG), "qa")
    platform = platform_from_outputs(plan, _outputs(plan))
    assert platform.input_bucket == "storage-InputBucketName"
    assert platform.stack_name("monitoring") == "ml-qa-monitoring"


def test_missing_outputs_are_named_by_their_real_stack():
    plan = plan_from_config(parse_config(CONFIG), "qa")
    outputs = _outputs(plan)
    del outputs["ml-qa-storage"]
    with pytest.raises(PlatformNotDeployedError, match=r"ml-qa-storage\.InputBucketName"):
        platform_from_outputs(plan, outputs)
