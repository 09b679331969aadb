"""What matters in the rendered templates, asserted directly (CDK assertions' hasResourceProperties style)."""

from __future__ import annotations

import json

import pytest

from blueprints import compute, network, orchestration, storage
from dsplatform.lint import check_policies
from harness.policy_eval import Decision, evaluate, parse_document
from tests.blueprints.conftest import resources_of

ENVS = ("dev", "stg", "prod")
PUBLIC_ACCESS_BLOCKED = {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                         "RestrictPublicBuckets": True}


def stack(plans, env, component):
    return next(s for s in plans[env].stacks if s.component == component).template


def actions_of(template):
    out = []
    for role in resources_of(template, "AWS::IAM::Role").values():
        for pol in role["Properties"]["Policies"]:
            for st in pol["PolicyDocument"]["Statement"]:
                out.append((st["Sid"], st["Action"], st["Resource"]))
    return out


@pytest.mark.parametrize("env", ENVS)
def test_every_policy_rule_holds(plans, env):
    findings = [f for s in plans[env].stacks for f in check_policies(s.name, s.template)]
    assert findings == []


@pytest.mark.parametrize("env", ENVS)
def test_buckets_are_encrypted_blocked_retained_and_tls_only(plans, env):
    template = stack(plans, env, "storage")
    buckets = resources_of(template, "AWS::S3::Bucket")
    assert set(buckets) == {"InputBucket", "OutputBucket", "ArtifactBucket"}
    for bucket in buckets.values():
        props = bucket["Properties"]
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert sse["SSEAlgorithm"] == ("aws:kms" if env == "prod" else "AES256")
        assert props["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCKED  # all four keys, each true
        assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
        assert props["LifecycleConfiguration"]["Rules"]
    assert buckets["ArtifactBucket"]["Properties"]["VersioningConfiguration"]["Status"] == "Enabled"
    policies = resources_of(template, "AWS::S3::BucketPolicy")
    assert {p["Properties"]["Bucket"]["Ref"] for p in policies.values()} == set(buckets)
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        bucket = policy["Properties"]["Bucket"]["Ref"]
        tls = [st for st in statements if st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
        assert len(tls) == 1, statements
        deny = tls[0]
        assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", ["s3:*"])
        assert {json.dumps(r, sort_keys=True) for r in deny["Resource"]} == {
            json.dumps({"Fn::GetAtt": [bucket, "Arn"]}, sort_keys=True),
            json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]}, sort_keys=True)}
        for st in statements:  # every statement, not only the first: nothing public, nothing wildcard
            assert st["Effect"] == "Deny" or (st["Principal"] != "*" and "*" not in json.dumps(st["Action"])), st


def test_stg_artifacts_are_readable_by_prod_and_prod_reads_them(plans):
    policy = resources_of(stack(plans, "stg", "storage"), "AWS::S3::BucketPolicy")["ArtifactBucketPolicy"]
    readers = [st for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Effect"] == "Allow"]
    assert {tuple(st["Principal"]["AWS"]) for st in readers} == {("arn:aws:iam::333333333333:root",)}
    assert {a for st in readers for a in st["Action"]} == {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
    # Only prod's task role, by ARN and account: evaluated as AWS would, per calling principal.
    statements = parse_document({"Statement": [{**st, "Resource": ["arn:aws:s3:::stg-art/*"]} for st in readers]})
    task_role = "arn:aws:iam::333333333333:role/ds-preprocessing-task"
    assert next(s for s in plans["prod"].stacks if s.component == "compute").template["Resources"]["TaskRole"][
        "Properties"]["RoleName"] == "ds-preprocessing-task"

    def decision(principal, account="333333333333"):
        context = {"aws:PrincipalArn": principal, "aws:PrincipalAccount": account}
        return evaluate(statements, "s3:GetObject", "arn:aws:s3:::stg-art/models/m.pkl", context)

    assert decision(task_role) is Decision.ALLOWED
    assert decision("arn:aws:iam::333333333333:role/someone-else") is Decision.IMPLICIT_DENY
    assert decision("arn:aws:iam::333333333333:user/admin") is Decision.IMPLICIT_DENY
    assert decision(task_role, account="444444444444") is Decision.IMPLICIT_DENY
    params = resources_of(stack(plans, "prod", "parameters"), "AWS::SSM::Parameter")
    assert params["ArtifactBucketParameter"]["Properties"]["Value"] == "ds-artifacts-stg-222222222222-us-east-1"
    grants = {sid: res for sid, _, res in actions_of(stack(plans, "prod", "compute"))}
    assert grants["ReadArtifactsList"] == ["arn:aws:s3:::ds-artifacts-stg-222222222222-us-east-1"]


def role_statements(role):
    """Every statement of every inline policy of a role (a second policy must not slip past a check)."""
    assert "ManagedPolicyArns" not in role["Properties"], role["Properties"]["ManagedPolicyArns"]
    return [st for pol in role["Properties"]["Policies"] for st in pol["PolicyDocument"]["Statement"]]


def test_task_role_has_exactly_read_input_read_artifacts_write_output_read_parameters(plans):
    role = resources_of(stack(plans, "dev", "compute"), "AWS::IAM::Role")["TaskRole"]
    listed = role_statements(role)
    statements = {st["Sid"]: st for st in listed}
    assert len(statements) == len(listed)  # no two statements share a Sid (one would hide the other here)
    assert set(statements) == {"ReadInputObjects", "ReadInputList", "ReadArtifactsObjects", "ReadArtifactsList",
                               "WriteOutputObjects", "WriteOutputList", "ReadParameters", "ReadRunState"}
    # The only reads of the output bucket: a sharded run's plan and its shards' records, for the commit.
    assert [r["Fn::Join"][1][1] for r in statements["ReadRunState"]["Resource"]] == [
        "/processed/*/_shards.json", "/processed/*/_parts/*"]
    assert statements["ReadInputObjects"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert "s3:PutObject" not in json.dumps(statements["ReadInputObjects"])
    assert statements["WriteOutputObjects"]["Resource"] == [{"Fn::Join": ["", [{"Ref": "OutputBucketArn"}, "/*"]]}]
    assert statements["ReadParameters"]["Action"] == ["ssm:GetParameter", "ssm:GetParameters",
                                                      "ssm:GetParametersByPath"]
    assert "/ds/preprocessing/*" in json.dumps(statements["ReadParameters"]["Resource"])


def test_kms_environment_grants_the_data_key(plans):
    role = resources_of(stack(plans, "prod", "compute"), "AWS::IAM::Role")["TaskRole"]
    sids = {st["Sid"] for st in role_statements(role)}
    assert "UseDataKey" in sids
    assert "UseDataKey" not in json.dumps(stack(plans, "dev", "compute"))


def test_task_definition_is_fargate_sized_from_config_and_logs_to_its_group(plans):
    task = resources_of(stack(plans, "dev", "compute"), "AWS::ECS::TaskDefinition")["TaskDefinition"]["Properties"]
    assert (task["Cpu"], task["Memory"], task["RequiresCompatibilities"]) == ("1024", "2048", ["FARGATE"])
    container = task["ContainerDefinitions"][0]
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}
    assert container["Environment"] == [{"Name": "DS_SSM_PREFIX", "Value": "/ds/preprocessing/"}]
    stg = resources_of(stack(plans, "stg", "compute"), "AWS::ECS::TaskDefinition")["TaskDefinition"]["Properties"]
    assert (stg["Cpu"], stg["Memory"]) == ("2048", "4096")  # the seed's 2 vCPU / 4 GiB default
    cluster = resources_of(stack(plans, "dev", "compute"), "AWS::ECS::Cluster")["Cluster"]["Properties"]
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]


@pytest.mark.parametrize("env", ENVS)
def test_log_group_retention_follows_config(plans, project, env):
    group = resources_of(stack(plans, env, "compute"), "AWS::Logs::LogGroup")["LogGroup"]["Properties"]
    assert group["RetentionInDays"] == project.environment(env).settings.logs.retention_days


def test_state_machine_runs_the_task_synchronously_with_retry_catch_and_timeout():
    definition = orchestration.definition(orchestration.OrchestrationProps("sm", "preprocessing"))
    run = definition["States"]["RunJob"]
    assert run["Resource"].endswith(":states:::ecs:runTask.sync")
    assert run["Parameters"]["LaunchType"] == "FARGATE"
    env = run["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]
    assert [e["Name"] for e in env] == ["DS_RUN_ID", "DS_INPUT_KEY", "DS_MODE", "DS_SHARD_SIZE_BYTES"]
    assert "ECS.AmazonECSException" in run["Retry"][0]["ErrorEquals"]
    assert run["Catch"][0]["Next"] == "NotifyFailure"
    assert definition["States"]["NotifyFailure"]["Resource"].endswith(":states:::sns:publish")
    assert definition["States"]["Failed"] == {"Type": "Fail", "ErrorPath": "$.error.Error",
                                              "CausePath": "$.error.Cause"}
    assert definition["TimeoutSeconds"] == 3600


def test_state_machine_role_is_scoped_to_cluster_task_and_roles(plans):
    grants = {sid: (action, res) for sid, action, res in actions_of(stack(plans, "dev", "orchestration"))}
    assert grants["RunTask"] == (["ecs:RunTask"], [{"Ref": "TaskDefinitionArn"}])
    assert grants["PassTaskRoles"][1] == [{"Ref": "TaskRoleArn"}, {"Ref": "ExecutionRoleArn"}]
    assert grants["SyncRule"][0] == ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    # The Distributed Map: child executions of this machine only, and only the run plans of the output bucket.
    machine = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
    assert grants["RunShards"] == (["states:StartExecution"], [{"Fn::Sub": machine + "ds-preprocessing-pipeline"}])
    assert grants["TrackShards"] == (["states:DescribeExecution", "states:StopExecution"], [{"Fn::Sub": machine.replace(
        "stateMachine:", "execution:") + "ds-preprocessing-pipeline/*"}])
    assert grants["ReadPlan"] == (["s3:GetObject"], [{"Fn::Join": ["", [{"Ref": "OutputBucketArn"},
                                                                         "/processed/*/_shards.json"]]}])


def test_sharded_runs_use_a_distributed_map_with_limits_from_config(plans, project):
    settings = project.environment("dev").settings.orchestration
    props = orchestration.OrchestrationProps("sm", "preprocessing", shard_size_bytes=7, max_concurrency=3,
                                             tolerated_failure_count=2)
    states = orchestration.definition(props)["States"]
    assert states["Defaults"]["Parameters"]["shard_size_bytes"] == 7
    shards = states["Shards"]
    assert shards["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert (shards["MaxConcurrency"], shards["ToleratedFailureCount"]) == (3, 2)
    assert "ItemBatcher" not in shards  # LocalStack's parser rejects it; one shard per item anyway
    assert shards["ItemReader"]["Resource"].endswith(":states:::s3:getObject")
    run_shard = shards["ItemProcessor"]["States"]["RunShard"]
    assert run_shard["Resource"].endswith(":states:::ecs:runTask.sync") and run_shard["End"] is True
    # The commit runs only after the map, and the one manifest is its work: nothing after it but success.
    assert states["AnyShards"]["Choices"][0]["Next"] == "Commit" and states["Commit"]["Next"] == "Succeeded"
    body = stack(plans, "dev", "orchestration")["Resources"]["StateMachine"]["Properties"]["DefinitionString"]
    deployed = json.loads(body["Fn::Sub"][0])["States"]
    assert deployed["Shards"]["MaxConcurrency"] == settings.max_concurrency
    assert deployed["Shards"]["ToleratedFailureCount"] == settings.tolerated_failure_count == 0
    assert deployed["Defaults"]["Parameters"]["shard_size_bytes"] == settings.shard_size_mb * 1_000_000


def test_schedule_expression_and_state_follow_config(plans):
    for env, state in (("dev", "DISABLED"), ("prod", "ENABLED")):
        rule = resources_of(stack(plans, env, "schedule"), "AWS::Events::Rule")["ScheduleRule"]["Properties"]
        assert (rule["ScheduleExpression"], rule["State"]) == ("cron(0 9 15 * ? *)", state)
        assert rule["Targets"][0]["Arn"] == {"Ref": "StateMachineArn"}


def test_alarms_notify_the_topic_with_configured_thresholds(plans):
    alarms = resources_of(stack(plans, "dev", "monitoring"), "AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {
        "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionThrottled"}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertTopicArn"}]
        assert alarm["Properties"]["Threshold"] == 1


def test_prod_alert_emails_are_subscribed(plans):
    subs = resources_of(stack(plans, "prod", "alerts"), "AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Endpoint"] for s in subs.values()) == ["ds-alerts@example.com",
                                                                          "ds-oncall@example.com"]


def test_network_existing_vpc_creates_only_the_security_group():
    template = network.build(network.NetworkProps(
        name="x", existing_vpc_id="vpc-0123456789abcdef0",
        existing_subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"))).to_dict()
    assert [r["Type"] for r in template["Resources"].values()] == ["AWS::EC2::SecurityGroup"]
    assert template["Outputs"]["SubnetIds"]["Value"] == {
        "Fn::Join": [",", ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]]}


def test_task_security_group_has_no_ingress(plans):
    sg = resources_of(stack(plans, "dev", "network"), "AWS::EC2::SecurityGroup")["TaskSecurityGroup"]
    assert "SecurityGroupIngress" not in sg["Properties"]


def test_logical_ids_are_stable_constants():
    # Logical ids are a public contract; renaming one replaces a resource (a bucket: data left behind).
    template = storage.build(storage.StorageProps("a-in", "a-out", "a-art")).to_dict()
    assert sorted(template["Resources"]) == ["ArtifactBucket", "ArtifactBucketPolicy", "InputBucket",
                                             "InputBucketPolicy", "OutputBucket", "OutputBucketPolicy"]
    props = compute.ComputeProps("c", "f", "n", "/l", "/p/")
    assert sorted(compute.build(props).to_dict()["Resources"]) == [
        "Cluster", "ExecutionRole", "LogGroup", "TaskDefinition", "TaskRole"]


@pytest.mark.parametrize("env", ENVS)
def test_task_definition_runs_the_image_by_digest_once_one_is_known(plans, env):
    template = stack(plans, env, "compute")
    param = template["Parameters"][compute.IMAGE_DIGEST_PARAMETER]
    assert param["Default"] == "" and param["AllowedPattern"] == "^(sha256:[0-9a-f]{64})?$"
    [task] = resources_of(template, "AWS::ECS::TaskDefinition").values()
    condition, by_digest, by_tag = task["Properties"]["ContainerDefinitions"][0]["Image"]["Fn::If"]
    assert template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ImageDigest"}, ""]}]}
    assert by_digest["Fn::Sub"][0] == "${Uri}@${Digest}" and by_digest["Fn::Sub"][1]["Digest"] == {"Ref": "ImageDigest"}
    assert by_tag["Fn::Sub"][0].startswith("${Uri}:")  # only before the first push (docs/deployer.md)


def test_protected_environments_get_immutable_tags_by_default(plans, project):
    mutability = {env: resources_of(stack(plans, env, "registry"), "AWS::ECR::Repository")["Repository"][
        "Properties"]["ImageTagMutability"] for env in ENVS}
    protected = {env: project.environments[env].protected for env in ENVS}
    assert mutability == {env: "IMMUTABLE" if protected[env] else "MUTABLE" for env in ENVS}
    assert protected["prod"] and not protected["dev"]
