"""Pure parts of the local ALB and service scheduler: deployment arithmetic, rule routing, matchers, addresses."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localstack" / "extension"))

from dsplatform_localstack.alb import addresses, deployments, routing, targets
from dsplatform_localstack.cfn.elbv2_common import actions, attributes, default_name


@pytest.mark.parametrize(
    ("desired", "minimum", "maximum", "min_healthy", "max_running"),
    [(2, 100, 200, 2, 4), (3, 50, 150, 2, 4), (1, 100, 200, 1, 2), (4, 0, 100, 0, 4), (5, 75, 125, 4, 6)],
)
def test_limits_round_minimum_up_and_maximum_down(
    desired: int, minimum: int, maximum: int, min_healthy: int, max_running: int
) -> None:
    limits = deployments.Limits(desired, minimum, maximum)
    assert (limits.min_healthy, limits.max_running) == (min_healthy, max_running)


def test_rolling_update_starts_new_tasks_only_within_maximum_percent() -> None:
    limits = deployments.Limits.of(2, {"minimumHealthyPercent": 100, "maximumPercent": 150})
    assert deployments.to_launch(limits, primary_active=0, all_active=2) == 1  # 3 of 3 allowed
    assert deployments.to_launch(limits, primary_active=1, all_active=3) == 0
    assert deployments.to_launch(limits, primary_active=1, all_active=2) == 1


def test_old_tasks_stop_only_above_minimum_healthy_percent() -> None:
    limits = deployments.Limits.of(2, None)  # AWS defaults: 100 % / 200 %
    assert (limits.minimum_healthy_percent, limits.maximum_percent) == (100, 200)
    assert deployments.to_stop(limits, healthy=2) == 0
    assert deployments.to_stop(limits, healthy=3) == 1
    assert deployments.to_stop(deployments.Limits(4, 50, 100), healthy=4) == 2


@pytest.mark.parametrize(("desired", "threshold"), [(1, 3), (2, 3), (7, 4), (10, 5), (1000, 200)])
def test_circuit_breaker_threshold_is_half_the_desired_count_between_3_and_200(desired: int, threshold: int) -> None:
    assert deployments.failure_threshold(desired) == threshold


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (None, (False, False)),
        ({"deploymentCircuitBreaker": {"enable": True, "rollback": True}}, (True, True)),
        ({"deploymentCircuitBreaker": {"enable": "true", "rollback": "false"}}, (True, False)),
    ],
)
def test_circuit_breaker_settings_accept_cloudformation_strings(config: object, expected: tuple[bool, bool]) -> None:
    assert deployments.breaker(config) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("matcher", "status", "expected"),
    [
        ("200", 200, True),
        ("200", 204, False),
        ("200-299", 200, True),
        ("200-299", 204, True),
        ("200,302", 302, True),
        ("200,302", 301, False),
    ],
)
def test_health_check_matcher(matcher: str, status: int, expected: bool) -> None:
    assert targets.matches(matcher, status) is expected


def test_thresholds_new_target_healthy_after_one_pass_unhealthy_after_the_unhealthy_threshold() -> None:
    check = targets.Check(
        "/",
        "traffic-port",
        1,
        1,
        healthy_threshold=3,
        unhealthy_threshold=2,
        matcher="200",
        enabled=True,
        deregistration_delay=5,
    )
    target = targets.Target("arn:tg", "127.0.0.2", 8080)
    target.record(True, "", "", check)
    assert target.state == "healthy"
    target.record(False, "Target.Timeout", "Request timed out", check)
    assert target.state == "healthy"
    target.record(False, "Target.Timeout", "Request timed out", check)
    assert (target.state, target.reason) == ("unhealthy", "Target.Timeout")
    target.record(True, "", "", check)
    target.record(True, "", "", check)
    assert target.state == "unhealthy"  # an unhealthy target needs the healthy threshold again
    target.record(True, "", "", check)
    assert target.state == "healthy"


def _rule(priority: int, conditions: list[dict[str, object]], name: str) -> SimpleNamespace:
    return SimpleNamespace(is_default=False, priority=priority, conditions=conditions, actions=[name])


def test_rules_are_evaluated_by_priority_before_the_default_actions() -> None:
    listener = SimpleNamespace(
        rules={
            "b": _rule(20, [{"Field": "path-pattern", "Values": ["/v1/*"]}], "v1"),
            "a": _rule(10, [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/v1/model"]}}], "model"),
            "c": _rule(30, [{"Field": "host-header", "Values": ["API.example.com"]}], "host"),
            "d": SimpleNamespace(is_default=True, priority="default", conditions=[], actions=["default"]),
        },
        default_actions=["default"],
    )
    route = lambda host, path: routing.actions_for(listener, "GET", host, path, {}, {})  # noqa: E731
    assert route("x", "/v1/model") == ["model"]
    assert route("x", "/v1/transform") == ["v1"]
    assert route("api.example.com:8080", "/health") == ["host"]
    assert route("x", "/health") == ["default"]


def test_weighted_forward_never_picks_a_zero_weight_group() -> None:
    action = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": "blue", "Weight": 0}, {"TargetGroupArn": "green", "Weight": 5}]
        },
    }
    chooser = random.Random(1)
    assert {routing.forward_group(action, chooser) for _ in range(50)} == {"green"}
    assert routing.forward_group({"Type": "forward", "TargetGroupArn": "one"}) == "one"


def test_redirect_to_https_keeps_host_path_and_query() -> None:
    config = {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
    assert (
        routing.redirect_location(config, "http", "api.internal:8080", 80, "/v1/model", "a=1")
        == "https://api.internal/v1/model?a=1"
    )


def test_each_instance_gets_its_own_loopback_block_and_addresses_are_reused_after_release() -> None:
    assert addresses.block_for_port(4566) != addresses.block_for_port(4660)
    first = addresses.allocate(4660)
    second = addresses.allocate(4660)
    assert first != second and first.startswith("127.18.52.")
    addresses.release(first)
    assert addresses.allocate(4660) == first
    addresses.release(first)
    addresses.release(second)


def test_listen_everywhere_maps_to_the_task_address() -> None:
    argv, env = addresses.map_any_address(
        ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8080", "--bind=0.0.0.0:9000"],
        {"BIND": "0.0.0.0:9000", "ALLOWED": "0.0.0.0/0", "NOTE": "listen on 0.0.0.0 please"},
        "127.18.52.2",
    )
    assert argv[3] == "127.18.52.2" and argv[6] == "--bind=127.18.52.2:9000"
    assert env == {
        "BIND": "127.18.52.2:9000",
        "ALLOWED": "0.0.0.0/0",
        "NOTE": "listen on 0.0.0.0 please",
        "DSPLATFORM_TASK_IP": "127.18.52.2",
    }  # a CIDR or a sentence is not an address to bind


def test_cloudformation_actions_and_attributes_become_api_shapes() -> None:
    converted = actions(
        [
            {"Type": "redirect", "Order": "1", "RedirectConfig": {"Port": 443, "Protocol": "HTTPS"}},
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": 404}},
        ]
    )
    assert converted[0]["Order"] == 1 and converted[0]["RedirectConfig"]["Port"] == "443"
    assert converted[1]["FixedResponseConfig"]["StatusCode"] == "404"
    assert attributes([{"Key": "deletion_protection.enabled", "Value": False}]) == [
        {"Key": "deletion_protection.enabled", "Value": "false"}
    ]
    name = default_name("ds-dev-api-with-a-long-name", "LoadBalancer")
    assert len(name) <= 32 and not name.endswith("-")


def test_stand_alone_security_group_rules_become_ip_permissions() -> None:
    from dsplatform_localstack.cfn.shapes import permission

    peer = permission(
        {
            "IpProtocol": "tcp",
            "FromPort": "8080",
            "ToPort": 8080,
            "SourceSecurityGroupId": "sg-1",
            "Description": "alb",
        },
        "SourceSecurityGroupId",
        "CidrIp",
    )
    assert peer == {
        "IpProtocol": "tcp",
        "FromPort": 8080,
        "ToPort": 8080,
        "UserIdGroupPairs": [{"GroupId": "sg-1", "Description": "alb"}],
    }
    cidr = permission(
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"},
        "DestinationSecurityGroupId",
        "CidrIp",
    )
    assert cidr["IpRanges"] == [{"CidrIp": "10.0.0.0/8"}]


def test_scaling_policy_numbers_come_back_from_cloudformation_strings() -> None:
    from dsplatform_localstack.cfn.shapes import cast_numbers as _cast
    from dsplatform_localstack.cfn.shapes import target_id

    assert target_id("service/c/s", "ecs:service:DesiredCount", "ecs") == "service/c/s|ecs:service:DesiredCount|ecs"
    config = {
        "TargetValue": "60.0",
        "ScaleInCooldown": "120",
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    }
    assert _cast(config) == {
        "TargetValue": 60.0,
        "ScaleInCooldown": 120,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    }
