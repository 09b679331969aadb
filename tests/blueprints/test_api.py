"""The api component's blueprint: snapshots of two configurations and the properties that matter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsplatform.config.loader import parse_config
from dsplatform.errors import ConfigError
from dsplatform.lint.run import lint_plan
from dsplatform.synth import plan_from_config, template_json
from tests.blueprints.conftest import assert_matches_snapshot

ROOT = Path(__file__).parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots_api"  # apart: the stock suite owns snapshots/<env>/
CERT = "arn:aws:acm:us-east-1:222222222222:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"


def _project() -> Any:
    """The repository's dsplatform.yml with the api component."""
    text = (ROOT / "dsplatform.yml").read_text() + "\ncomponents:\n  plugins: [api]\n"
    return parse_config(text, str(ROOT / "dsplatform.yml"))


def _api_template(project: Any, env: str) -> dict[str, Any]:
    spec = next(s for s in plan_from_config(project, env).stacks if s.name.endswith("-api"))
    return spec.template


def _with_settings(env: str, settings: str) -> Any:
    text = (ROOT / "dsplatform.yml").read_text() + "\ncomponents:\n  plugins: [api]\n"
    marker = f"\n  {env}:\n"
    head, _, tail = text.partition(marker)
    body, sep, rest = tail.partition("    settings:\n")
    text = head + marker + body + sep + settings + rest
    return parse_config(text, str(ROOT / "dsplatform.yml"))


def _resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


DEV = _project()
STG = _with_settings(
    "stg",
    "      network: {public_subnets: true}\n"
    "      api: {internet_facing: true, allowed_cidrs: [203.0.113.0/24], "
    f'certificate_arn: "{CERT}", desired_count: 3, min_capacity: 3, max_capacity: 9}}\n',
)


@pytest.mark.parametrize(
    ("name", "project", "env"), [("dev-internal-http", DEV, "dev"), ("stg-public-https", STG, "stg")]
)
def test_api_template_matches_snapshot(name: str, project: Any, env: str) -> None:
    path = SNAPSHOTS / f"{name}.json"
    actual = template_json(_api_template(project, env))
    assert_matches_snapshot(path, actual, f"{name}")


def test_internal_http_by_default_with_tasks_reachable_only_from_the_alb() -> None:
    template = _api_template(DEV, "dev")
    balancer = _resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["LoadBalancer"]["Properties"]
    assert balancer["Scheme"] == "internal"
    listeners = _resources(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert [(v["Properties"]["Protocol"], v["Properties"]["Port"]) for v in listeners.values()] == [("HTTP", 80)]
    ingress = _resources(template, "AWS::EC2::SecurityGroupIngress")["ApiTaskIngressFromAlb"]["Properties"]
    assert ingress["SourceSecurityGroupId"] == {"Ref": "AlbSecurityGroup"} and ingress["FromPort"] == 8080
    task_sg = template["Resources"]["ApiTaskSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in task_sg  # nothing else gets in
    alb_sg = template["Resources"]["AlbSecurityGroup"]["Properties"]
    assert {r["CidrIp"] for r in alb_sg["SecurityGroupIngress"]} == {"10.0.0.0/8"}
    group = template["Resources"]["TargetGroup"]["Properties"]
    assert (group["TargetType"], group["HealthCheckPath"]) == ("ip", "/ready")
    assert template["Outputs"]["Url"]["Value"]["Fn::Join"][1][0] == "http://"


def test_public_https_redirects_http_and_admits_only_the_configured_cidrs() -> None:
    template = _api_template(STG, "stg")
    balancer = template["Resources"]["LoadBalancer"]["Properties"]
    assert balancer["Scheme"] == "internet-facing"
    assert balancer["Subnets"] == {"Fn::Split": [",", {"Ref": "PublicSubnetIds"}]}
    https = template["Resources"]["HttpsListener"]["Properties"]
    assert https["Certificates"] == [{"CertificateArn": CERT}] and https["SslPolicy"].startswith(
        "ELBSecurityPolicy-TLS13"
    )
    redirect = template["Resources"]["HttpListener"]["Properties"]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    rules = template["Resources"]["AlbSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert {(r["CidrIp"], r["FromPort"]) for r in rules} == {("203.0.113.0/24", 80), ("203.0.113.0/24", 443)}
    service = template["Resources"]["ApiService"]["Properties"]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"] == {
        "Fn::Split": [",", {"Ref": "SubnetIds"}]
    }  # the tasks stay private
    network = next(s for s in plan_from_config(STG, "stg").stacks if s.name.endswith("-network")).template
    assert "PublicSubnetIds" in network["Outputs"] and "InternetGateway" in network["Resources"]


def test_rolling_deploys_circuit_breaker_and_scaling_between_min_and_max() -> None:
    template = _api_template(STG, "stg")
    service = template["Resources"]["ApiService"]["Properties"]
    assert service["DeploymentConfiguration"] == {
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        "MaximumPercent": 200,
        "MinimumHealthyPercent": 100,
    }
    assert service["DesiredCount"] == 3 and service["HealthCheckGracePeriodSeconds"] == 30
    target = template["Resources"]["ScalableTarget"]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 9)
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in _resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    # A replaced revision stays registered: `invoke rollback` moves the service back to it natively; the last one
    # stays with the stack's deletion too (cfn-lint W3011: one policy without the other protects nothing).
    task = template["Resources"]["ApiTaskDefinition"]
    assert (task["UpdateReplacePolicy"], task["DeletionPolicy"]) == ("Retain", "Retain")


def test_health_check_interval_and_draining_come_from_settings() -> None:
    fast = _with_settings("dev", "      api: {health_check_interval_seconds: 5, deregistration_delay_seconds: 5}\n")
    group = _api_template(fast, "dev")["Resources"]["TargetGroup"]["Properties"]
    assert (group["HealthCheckIntervalSeconds"], group["HealthCheckTimeoutSeconds"]) == (5, 4)
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "5"} in group["TargetGroupAttributes"]
    default = _api_template(DEV, "dev")["Resources"]["TargetGroup"]["Properties"]
    assert (default["HealthCheckIntervalSeconds"], default["HealthCheckTimeoutSeconds"]) == (10, 5)


def test_alarms_notify_the_platform_topic() -> None:
    alarms = _resources(_api_template(DEV, "dev"), "AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms.values()} == {
        "HTTPCode_Target_5XX_Count",
        "TargetResponseTime",
        "UnHealthyHostCount",
    }
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlertTopicArn"}] for a in alarms.values())
    assert (
        next(a for a in alarms.values() if a["Properties"]["MetricName"] == "TargetResponseTime")["Properties"][
            "ExtendedStatistic"
        ]
        == "p99"
    )


def test_the_task_role_reads_only_the_model_key_and_the_jobs_parameters() -> None:
    template = _api_template(DEV, "dev")
    document = template["Resources"]["ApiTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {"ReadModel", "ReadParameters"}
    assert statements["ReadModel"]["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert statements["ReadModel"]["Resource"] == [
        {"Fn::Join": ["", [{"Ref": "ArtifactBucketArn"}, "/models/preprocessing_model.pkl"]]}
    ]
    text = json.dumps(_resources(template, "AWS::IAM::Role"))  # the log bucket's TLS-only Deny names s3:*
    assert '"s3:*"' not in text and '"*:*"' not in text
    container = template["Resources"]["ApiTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["ReadonlyRootFilesystem"] is True
    assert {"Name": "DS_SSM_PREFIX", "Value": "/ds/preprocessing/"} in container["Environment"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("      api: {internet_facing: true, allowed_cidrs: [203.0.113.0/24]}\n", "needs public subnets"),
        ("      network: {public_subnets: true}\n      api: {internet_facing: true}\n", "explicit api.allowed_cidrs"),
        ("      api: {certificate_arn: not-an-arn}\n", "is not an ACM certificate ARN"),
        ("      api: {desired_count: 9, max_capacity: 6}\n", "must lie between min_capacity"),
        ("      api: {allowed_cidrs: [10.0.0.300/8]}\n", "is not an IPv4 network"),
        ("      api: {access_log_days: 0}\n", "access_log_days"),
    ],
)
def test_bad_api_settings_are_one_line_naming_the_value(settings: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _with_settings("dev", settings)


def test_an_aws_target_without_a_certificate_is_refused_with_one_line_naming_the_field_and_the_fix() -> None:
    # stg is an aws target: without api.certificate_arn the api would serve plain HTTP, which AWS targets never do.
    with pytest.raises(ConfigError) as refused:
        _api_template(DEV, "stg")
    (line,) = refused.value.problems
    assert line.endswith(
        "environments.stg.settings.api.certificate_arn: is unset (got null) on target aws, where the api serves "
        "HTTPS only; set it to the ACM certificate ARN of the api's domain, e.g. "
        "arn:aws:acm:us-east-1:222222222222:certificate/0a1b2c3d")
    with pytest.raises(ConfigError, match=r"environments\.dev\.settings\.api\.certificate_arn: is unset"):
        plan_from_config(DEV, "dev", target="aws")  # rehearsing a LocalStack environment on AWS is refused too


def test_only_a_localstack_target_serves_plain_http_and_its_listener_says_why_checkov_skips_tls() -> None:
    local = _api_template(DEV, "dev")["Resources"]["HttpListener"]
    skips = local["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skips] == ["CKV_AWS_2", "CKV_AWS_103"]
    assert all(s["comment"].startswith("LocalStack target: no ACM certificate") for s in skips)
    aws = _api_template(STG, "stg")
    assert all("Metadata" not in r for r in aws["Resources"].values())  # an AWS target carries no skip
    assert {r["Properties"]["Protocol"] for r in _resources(aws, "AWS::ElasticLoadBalancingV2::Listener").values()} \
        == {"HTTPS", "HTTP"}  # HTTP only redirects (test_public_https_redirects_http_...)


@pytest.mark.parametrize(("env", "project"), [("dev", DEV), ("stg", STG)])
def test_the_load_balancer_logs_to_a_private_tls_only_expiring_retained_sse_s3_bucket(env: str, project: Any) -> None:
    template = _api_template(project, env)
    bucket = template["Resources"]["AccessLogBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = bucket["Properties"]
    assert props["BucketName"] == f"ds-api-logs-{env}-{project.environments[env].account_id}-us-east-1"
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption == {"SSEAlgorithm": "AES256"}  # ALB log delivery supports SSE-S3 only
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 90
    balancer = template["Resources"]["LoadBalancer"]
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "AccessLogBucket"}
    assert attributes["access_logs.s3.prefix"] == f"ds-{env}-api"
    assert balancer["DependsOn"] == ["AccessLogBucketPolicy"]  # AWS checks the policy when logging starts
    statements = {s["Sid"]: s for s in template["Resources"]["AccessLogBucketPolicy"]["Properties"]
                  ["PolicyDocument"]["Statement"]}
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    write = statements["LoadBalancerWritesLogs"]
    assert write["Principal"] == {"AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::127311923021:root"}]}  # us-east-1
    assert write["Action"] == ["s3:PutObject"]
    assert write["Resource"][0]["Fn::Sub"][0] == f"${{Arn}}/ds-{env}-api/AWSLogs/${{AWS::AccountId}}/*"


def test_regions_opened_since_august_2022_get_logs_from_the_log_delivery_service_principal() -> None:
    from troposphere import encode_to_dict

    from blueprints.access_logs import log_delivery_principal

    def rendered(region: str) -> Any:
        return encode_to_dict(log_delivery_principal(region))

    assert rendered("eu-central-2") == {"Service": ["logdelivery.elasticloadbalancing.amazonaws.com"]}
    assert rendered("eu-west-1") == {"AWS": [{"Fn::Sub": "arn:${AWS::Partition}:iam::156460612806:root"}]}


@pytest.mark.parametrize(("env", "project"), [("dev", DEV), ("stg", STG)])
def test_lint_passes_on_localstack_and_on_aws_with_a_certificate_and_shows_the_listeners_skips(
        env: str, project: Any, tmp_path: Path) -> None:
    report = lint_plan(plan_from_config(project, env), tmp_path)  # cfn-lint, checkov and the policy rules
    assert [str(f) for f in report.findings] == []
    skipped = {k: v for k, v in report.suppressed.items() if "HttpListener" in k}
    if env == "dev":  # LocalStack: the plain-HTTP listener's two skips are printed with their reason
        assert sorted(skipped) == ["CKV_AWS_103 (ds-dev-api HttpListener)", "CKV_AWS_2 (ds-dev-api HttpListener)"]
        assert all(reason.startswith("LocalStack target:") for reason in skipped.values())
    else:
        assert skipped == {}


def test_the_service_keeps_connections_open_longer_than_the_load_balancer_is_idle() -> None:
    # ELB's troubleshooting guide: a target whose keep-alive is shorter than the idle timeout closes connections the
    # load balancer is about to reuse, and those requests end 502.
    balancer = next(iter(_resources(_api_template(DEV, "dev"), "AWS::ElasticLoadBalancingV2::LoadBalancer").values()))
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    cmd = next(line for line in (ROOT / "containers" / "api" / "Dockerfile").read_text().splitlines()
               if line.startswith("CMD"))
    argv = json.loads(cmd.removeprefix("CMD"))
    keep_alive = int(argv[argv.index("--timeout-keep-alive") + 1]) if "--timeout-keep-alive" in argv else 5
    assert keep_alive > int(attributes["idle_timeout.timeout_seconds"]), (keep_alive, attributes)
