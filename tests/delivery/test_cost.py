"""`invoke cost`: schedule arithmetic, line items priced from the templates and config, the price table's date."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from dsplatform.config import load_config
from dsplatform.delivery.cost import estimate, load_prices, runs_per_month
from dsplatform.stackspec import StackSpec
from dsplatform.synth import plan_from_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("expression", "runs"), [
    ("rate(1 hour)", 730.0),
    ("rate(30 minutes)", 1460.0),
    ("rate(2 days)", 730 / 48),
    ("cron(0 9 15 * ? *)", 1.0),                  # the stock schedule: once a month
    ("cron(0/15 * * * ? *)", 4 * 24 * 30.42),
    ("cron(0 8 ? * MON-FRI *)", 5 * 4.35),
    ("cron(0 6,18 1 1,7 ? *)", 2 * 1 * 2 / 12),
])
def test_runs_per_month(expression: str, runs: float) -> None:
    assert runs_per_month(expression) == pytest.approx(runs)


def test_stg_estimate_prices_its_task_endpoints_and_storage() -> None:
    project = load_config(ROOT / "dsplatform.yml")
    prices = load_prices()
    result = estimate(project, plan_from_config(project, "stg"), prices)
    items = {what: cost for what, _, cost in result.items}
    # stg: cron(0 9 15 * ? *) -> 1 run of 15 minutes with 2 vCPU and 4 GB (dsplatform.yml defaults).
    fargate = 0.25 * (2 * prices["fargate_vcpu_hour"] + 4 * prices["fargate_gb_hour"])
    assert items["Fargate ds-preprocessing (2 vCPU, 4 GB)"] == pytest.approx(fargate)
    # four interface endpoints (ECR api, ECR dkr, Logs, SSM) in two subnets, all month
    assert items["VPC interface endpoints (per AZ)"] == pytest.approx(8 * 730 * prices["interface_endpoint_az_hour"])
    assert items["S3 storage (delivery.cost.storage_gb)"] == pytest.approx(50 * prices["s3_standard_gb_month"])
    assert result.total == pytest.approx(sum(items.values()))
    keys = sum(1 for s in plan_from_config(project, "stg").stacks for r in s.template["Resources"].values()
               if r["Type"] == "AWS::KMS::Key")
    assert items.get("KMS keys", 0.0) == pytest.approx(keys * prices["kms_key_month"])


def test_load_balancers_and_endpoint_instances_are_priced_per_hour() -> None:
    project = load_config(ROOT / "dsplatform.yml")
    plan = plan_from_config(project, "dev")
    extra = StackSpec(name="ds-dev-serving", component="serving", template={"Resources": {
        "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
        "Cfg": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [
            {"InstanceType": "ml.m5.large", "InitialInstanceCount": 2}]}}}})
    prices = load_prices()
    items = {w: c for w, _, c in estimate(project, dataclasses.replace(plan, stacks=(*plan.stacks, extra)),
                                          prices).items}
    assert items["Application load balancers"] == pytest.approx(730 * prices["alb_hour"])
    assert items["SageMaker endpoint ml.m5.large"] == pytest.approx(2 * 730 * prices["sagemaker_instance_hour"]
                                                                   ["ml.m5.large"])
    assert not any(w.startswith("Fargate") for w in items)  # dev's schedule is disabled


def test_the_task_shows_the_price_table_date() -> None:
    out = subprocess.run([sys.executable, "-m", "invoke", "cost", "--env", "stg"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"prices of {load_prices()['date']}" in out.stdout and "total" in out.stdout


def test_the_api_component_is_priced_all_month_and_bootstraps() -> None:
    """The opt-in api (ALB + Fargate service): both priced per hour; the bootstrap scope covers its types."""
    from blueprints.bootstrap import build
    from dsplatform.config import parse_config
    from dsplatform.delivery.bootstrap import bootstrap_props

    text = (ROOT / "dsplatform.yml").read_text().replace("# Component settings shared",
                                                         "components: {plugins: [api]}\n\n# Component settings shared")
    text = text.replace("      storage: {encryption: s3}\n",  # stg is an aws target: HTTPS only, with a certificate
                        "      storage: {encryption: s3}\n"
                        "      api: {certificate_arn: 'arn:aws:acm:us-east-1:222222222222:certificate/0a1b2c3d'}\n")
    project = parse_config(text, source=str(ROOT / "dsplatform.yml"))
    plan = plan_from_config(project, "stg", "aws")
    prices = load_prices()
    items = {w: (q, c) for w, q, c in estimate(project, plan, prices).items}
    assert items["Application load balancers"][1] == pytest.approx(730 * prices["alb_hour"])
    [(_, usd)] = [v for w, v in items.items() if w.startswith("Fargate service of api")]
    count = next(r["Properties"]["DesiredCount"] for s in plan.stacks if s.component == "api"
                 for r in s.template["Resources"].values() if r["Type"] == "AWS::ECS::Service")
    assert count > 1  # so a price of one task would show
    task = next(r["Properties"] for s in plan.stacks if s.component == "api"
                for r in s.template["Resources"].values() if r["Type"] == "AWS::ECS::TaskDefinition")
    per_hour = int(task["Cpu"]) / 1024 * prices["fargate_vcpu_hour"] + int(task["Memory"]) / 1024 * prices[
        "fargate_gb_hour"]
    assert usd == pytest.approx(count * 730 * per_hour)
    template = build(bootstrap_props(project, "stg")).to_dict()
    sids = {s["Sid"] for s in template["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"]}
    assert {"ECSService", "ElasticLoadBalancingV2LoadBalancer"} <= sids
