"""The pipeline component: config, where it deploys, its template (snapshots, properties, policy rules) and that
its buildspecs run the very commands of the GitHub workflows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsplatform.config.loader import parse_config
from dsplatform.delivery.bootstrap import bootstrap_props
from dsplatform.delivery.github import deliver_workflow, promote_workflow
from dsplatform.errors import ConfigError
from dsplatform.lint.policy import check_policies
from dsplatform.synth import plan_from_config, template_json
from tests.blueprints.conftest import assert_matches_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots_pipeline"
CONNECTION = "arn:aws:codestar-connections:us-east-1:444444444444:connection/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"

BASE = """
project: {name: ds}
components: {plugins: [pipeline]}
delivery:
  github: {repository: acme/dsplatform, install: pip install -e .}
  branches: {test: dev}
  promote: {from: dev, to: prod}
  pipeline:
PIPELINE
environments:
  tooling: {account_id: "444444444444"}
  dev: {account_id: "111111111111"}
  prod: {account_id: "333333333333"}
"""


def _project(pipeline: str = "    {deliver: dev, promote_to: prod}") -> Any:
    return parse_config(BASE.replace("PIPELINE", pipeline), "dsplatform.yml")


def _template(project: Any, env: str = "tooling") -> dict[str, Any]:
    return next(s for s in plan_from_config(project, env).stacks if s.component == "pipeline").template


def _resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _buildspec(template: dict[str, Any], stem: str) -> dict[str, Any]:
    return yaml.safe_load(template["Resources"][f"{stem}Project"]["Properties"]["Source"]["BuildSpec"])


S3_SOURCE = _project("    {deliver: dev, promote_to: prod, dev_approval: true, approval_emails: [team@example.com]}")
GITHUB_SOURCE = _project("    deliver: dev\n    promote_to: prod\n"
                         f"    source: {{kind: codestar, connection_arn: {CONNECTION}, branch: main}}")


@pytest.mark.parametrize(("name", "project"),
                         [("s3-source-dev-approval", S3_SOURCE), ("codestar-source", GITHUB_SOURCE)])
def test_pipeline_template_matches_snapshot(name: str, project: Any) -> None:
    path = SNAPSHOTS / f"{name}.json"
    actual = template_json(_template(project))
    assert_matches_snapshot(path, actual, f"{name}")


def test_the_tooling_environment_holds_only_the_pipeline_and_no_other_environment_has_one() -> None:
    assert [s.component for s in plan_from_config(S3_SOURCE, "tooling").stacks] == ["pipeline"]
    for env in ("dev", "prod"):
        assert "pipeline" not in [s.component for s in plan_from_config(S3_SOURCE, env).stacks]


def test_without_a_tooling_environment_the_delivered_one_hosts_it_beside_its_platform() -> None:
    text = BASE.replace("PIPELINE", "    {deliver: dev, promote_to: prod}").replace(
        '  tooling: {account_id: "444444444444"}\n', "")
    components = [s.component for s in plan_from_config(parse_config(text, "dsplatform.yml"), "dev").stacks]
    assert "pipeline" in components and "storage" in components


def test_stages_in_order_with_the_required_approval_before_promotion() -> None:
    stages = _template(S3_SOURCE)["Resources"]["Pipeline"]["Properties"]["Stages"]
    assert [s["Name"] for s in stages] == ["Source", "Test", "ApproveDev", "Deliver", "ApprovePromotion", "Promote"]
    approvals = [s["Actions"][0] for s in stages if s["Name"].startswith("Approve")]
    assert all(a["Configuration"]["NotificationArn"] == {"Ref": "ApprovalTopic"} for a in approvals)
    plain = [s["Name"] for s in _template(GITHUB_SOURCE)["Resources"]["Pipeline"]["Properties"]["Stages"]]
    assert plain == ["Source", "Test", "Deliver", "ApprovePromotion", "Promote"]  # dev approval is optional
    source = stages[0]["Actions"][0]
    assert (source["ActionTypeId"]["Provider"], source["Configuration"]["S3ObjectKey"]) == ("S3", "source/source.zip")
    github = _template(GITHUB_SOURCE)["Resources"]["Pipeline"]["Properties"]["Stages"][0]["Actions"][0]
    assert github["Configuration"]["ConnectionArn"] == CONNECTION
    assert github["Configuration"]["FullRepositoryId"] == "acme/dsplatform"


def test_buildspecs_run_the_commands_of_the_github_workflows() -> None:
    """One source of stage commands: what CodeBuild runs is what `invoke ci.github` writes (target aws)."""
    template = _template(S3_SOURCE)
    deliver_steps = deliver_workflow(S3_SOURCE, "test", "dev")["jobs"]["deliver"]["steps"]
    workflow_runs = [s["run"] for s in deliver_steps if s.get("run", "").startswith("invoke ")]
    commands = _buildspec(template, "Deliver")["phases"]["build"]["commands"]
    assert [c.replace("$GITHUB_SHA", "TAG") for c in workflow_runs] == \
        [c.replace("${CODEBUILD_RESOLVED_SOURCE_VERSION:-build-$CODEBUILD_BUILD_NUMBER}", "TAG")
         for c in commands if c.startswith("invoke ")]
    promote_runs = [s["run"] for s in promote_workflow(S3_SOURCE, "dev", "prod")["jobs"]["promote"]["steps"]
                    if s.get("run", "").startswith("invoke ")]
    assert promote_runs == [c for c in _buildspec(template, "Promote")["phases"]["build"]["commands"]
                            if c.startswith("invoke ")]
    test = _buildspec(template, "Test")["phases"]
    assert test["install"]["commands"] == ["pip install -e ."]
    assert test["build"]["commands"] == ["python -m pytest"]


def test_each_build_role_assumes_only_its_environments_deploy_role() -> None:
    template = _template(S3_SOURCE)

    def assumed(role: str) -> list[Any]:
        statements = template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        return [r for s in statements if "sts:AssumeRole" in s["Action"] for r in s["Resource"]]

    assert assumed("TestRole") == []
    assert assumed("DeliverRole") == ["arn:aws:iam::111111111111:role/ds-deploy-us-east-1"]
    assert assumed("PromoteRole") == ["arn:aws:iam::333333333333:role/ds-deploy-us-east-1",
                                      "arn:aws:iam::111111111111:role/ds-deploy-us-east-1"]  # reads dev's evidence
    promote = _buildspec(template, "Promote")["phases"]["build"]["commands"]
    assert "--role-arn arn:aws:iam::333333333333:role/ds-deploy-us-east-1" in promote[0]


def test_artifacts_and_topics_are_encrypted_private_tls_only_and_retained() -> None:
    template = _template(S3_SOURCE)
    bucket = template["Resources"]["ArtifactBucket"]
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values())
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    deny = template["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for topic in _resources(template, "AWS::SNS::Topic").values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["PipelineKey", "Arn"]}
    store = template["Resources"]["Pipeline"]["Properties"]["ArtifactStore"]
    assert store["EncryptionKey"]["Type"] == "KMS"
    assert check_policies("ds-tooling-pipeline", template) == []


def test_failures_reach_the_failure_topic_through_an_eventbridge_rule() -> None:
    template = _template(S3_SOURCE)
    rule = template["Resources"]["FailureRule"]["Properties"]
    assert rule["EventPattern"]["source"] == ["aws.codepipeline"]
    assert rule["EventPattern"]["detail"]["state"] == ["FAILED"]
    assert rule["Targets"][0]["Arn"] == {"Ref": "FailureTopic"}


def test_putting_the_source_archive_starts_a_run_through_eventbridge() -> None:
    template = _template(S3_SOURCE)
    bucket = template["Resources"]["ArtifactBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    rule = template["Resources"]["SourceRule"]["Properties"]
    assert rule["EventPattern"]["detail"] == {"bucket": {"name": [{"Ref": "ArtifactBucket"}]},
                                              "object": {"key": ["source/source.zip"]}}
    target = rule["Targets"][0]
    assert target["RoleArn"] == {"Fn::GetAtt": ["SourceTriggerRole", "Arn"]}
    trigger = template["Resources"]["SourceTriggerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert [(st["Action"], st["Resource"]) for st in trigger] == [(["codepipeline:StartPipelineExecution"],
                                                                   [target["Arn"]])]
    assert "SourceRule" not in _template(GITHUB_SOURCE)["Resources"]  # a CodeStar source triggers on push


def test_no_wildcard_actions_in_any_role() -> None:
    template = _template(GITHUB_SOURCE)
    for name, role in _resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"]["Policies"]:
            for st in policy["PolicyDocument"]["Statement"]:
                assert all("*" not in action for action in st["Action"]), (name, st)
    pipeline_role = json.dumps(template["Resources"]["PipelineRole"])
    assert "codestar-connections:UseConnection" in pipeline_role and CONNECTION in pipeline_role


def test_the_promotion_targets_bootstrap_trusts_the_hosting_account() -> None:
    assert "arn:aws:iam::444444444444:root" in bootstrap_props(S3_SOURCE, "prod").trusted_principals
    assert "AWS::CodePipeline::Pipeline" in bootstrap_props(S3_SOURCE, "tooling").resource_types


@pytest.mark.parametrize(("pipeline", "expected"), [
    ("    {deliver: dev, colour: red}", "delivery.pipeline.colour"),
    ("    {deliver: qa}", "delivery.pipeline.deliver: no environment 'qa'"),
    ("    {deliver: dev, promote_to: dev}", "delivery.pipeline.promote_to: 'dev' is the delivered environment"),
    ("    {source: {kind: codestar}}", "kind codestar needs connection_arn"),
    ("    {source: {kind: codestar, connection_arn: arn:aws:iam::1:role/x}}",
     "connection_arn: must be a CodeStar connection ARN"),
    ("    {image: ubuntu}", "image: must be a CodeBuild image"),
    ("    {timeout_minutes: 1}", "delivery.pipeline.timeout_minutes"),
    ("    {variables: {CODEBUILD_X: a}}", "'CODEBUILD_X' is not a build variable name"),
])
def test_bad_pipeline_config_is_one_line_naming_the_key(pipeline: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:  # when loaded, or (environment names) when the pipeline is rendered
        plan_from_config(_project(pipeline), "dev")
    assert len(err.value.problems) == 1 and expected in err.value.problems[0], err.value.problems


def test_variables_reach_every_build_as_plain_text() -> None:
    template = _template(_project("    {deliver: dev, variables: {STAGE_HINT: ci}}"))
    for stem in ("Test", "Deliver"):
        env = template["Resources"][f"{stem}Project"]["Properties"]["Environment"]
        assert env["EnvironmentVariables"] == [{"Name": "STAGE_HINT", "Type": "PLAINTEXT", "Value": "ci"}]


def test_a_config_whose_environments_are_replaced_still_loads_while_it_does_not_use_the_pipeline() -> None:
    """As `delivery.promote`: a rehearsal or test with fresh environments keeps the rest of the config."""
    text = BASE.replace("PIPELINE", "    {deliver: dev, promote_to: prod}")
    text = text.replace("plugins: [pipeline]", "plugins: []")
    text = text.split("environments:")[0] + "environments:\n  it1: {account_id: '555555555555'}\n"
    components = [s.component for s in plan_from_config(parse_config(text, "x.yml"), "it1").stacks]
    assert "storage" in components and "pipeline" not in components


def test_the_component_without_its_config_is_one_line() -> None:
    text = BASE.replace("  pipeline:\nPIPELINE\n", "")
    with pytest.raises(ConfigError, match=r"delivery.pipeline: missing; component 'pipeline' needs it"):
        plan_from_config(parse_config(text, "dsplatform.yml"), "dev")


@pytest.mark.parametrize("project", [S3_SOURCE, GITHUB_SOURCE], ids=["s3", "codestar"])
def test_invoke_lint_is_clean_on_the_pipeline_stack(project: Any) -> None:
    """cfn-lint, checkov (cached venv, offline) and the policy rules, as `invoke lint` runs them."""
    from dsplatform.lint.run import lint_plan
    from dsplatform.localstack.settings import cache_dir

    report = lint_plan(plan_from_config(project, "tooling"), None, tools_dir=cache_dir())
    assert report.ok, [str(f) for f in report.findings]
