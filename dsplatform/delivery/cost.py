"""`invoke cost`: an environment's monthly cost estimated from its rendered templates, its config and a price
table versioned beside this module (``prices.json``: its date and source are shown with every estimate)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from dsplatform.config import ProjectConfig
from dsplatform.stackspec import Plan

DAYS_PER_MONTH = 30.42
WEEKS_PER_MONTH = 4.35
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
TRANSITIONS_PER_RUN = 8  # the stock state machine: start, task, retries' checks, notify, end


def load_prices() -> dict[str, Any]:
    """The price table shipped with dsplatform (``dsplatform/delivery/prices.json``)."""
    return dict(json.loads(resources.files("dsplatform.delivery").joinpath("prices.json").read_text("utf-8")))


def _count(field_text: str, low: int, high: int) -> int:
    """How many values a cron field takes (``*``, ``?``, lists, ranges, ``a/b`` steps)."""
    if field_text in ("*", "?"):
        return high - low + 1
    total = 0
    for part in field_text.split(","):
        base, _, step = part.partition("/")
        start, end = (low, high) if base in ("*", "") else (
            (int(base.split("-")[0]), int(base.split("-")[1])) if "-" in base and base.split("-")[0].isdigit()
            else (int(base), int(base) if not step else high) if base.isdigit() else (low, low))
        total += len(range(start, end + 1, int(step) if step else 1))
    return max(total, 1)


def runs_per_month(expression: str) -> float:
    """Scheduled runs in an average month of an EventBridge ``rate(...)`` or ``cron(...)`` expression."""
    rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if rate:
        minutes = int(rate.group(1)) * {"m": 1, "h": 60, "d": 1440}[rate.group(2)[0]]
        return 730 * 60 / minutes
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    if not cron:
        raise ValueError(f"{expression!r} is not an EventBridge schedule")
    minute, hour, dom, month, dow, _year = cron.groups()
    per_day = _count(minute, 0, 59) * _count(hour, 0, 23)
    if dom not in ("*", "?"):
        days = float(_count(dom.rstrip("LW") or "1", 1, 31)) if dom not in ("L", "LW") else 1.0
    elif dow not in ("*", "?"):
        numeric = re.sub(r"[A-Z]{3}", lambda m: str(_WEEKDAYS.index(m.group(0)) + 1), dow.upper())
        days = _count(numeric, 1, 7) * WEEKS_PER_MONTH if "#" not in dow else 1.0
    else:
        days = DAYS_PER_MONTH
    months = 1.0 if month in ("*", "?") else _count(month, 1, 12) / 12
    return per_day * days * months


@dataclass
class CostEstimate:
    """Monthly line items (what, quantity, USD) and the price table's date and source."""

    env: str
    price_date: str
    price_source: str
    items: list[tuple[str, str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """The monthly total in USD."""
        return sum(cost for _, _, cost in self.items)

    def to_text(self) -> str:
        """A table for the terminal, with the price table's date."""
        lines = [f"estimated monthly cost of {self.env} (prices of {self.price_date}, us-east-1 on-demand list):"]
        lines += [f"  {what:<56} {qty:<34} ${cost:>9.2f}" for what, qty, cost in self.items]
        lines += [f"  {'total':<56} {'':<34} ${self.total:>9.2f}"]
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"price table dated {self.price_date}: dsplatform/delivery/prices.json; {self.price_source}")
        return "\n".join(lines)

    def to_json(self) -> str:
        """The estimate as JSON."""
        return json.dumps({"env": self.env, "price_date": self.price_date, "total_usd": round(self.total, 2),
                           "items": [{"what": w, "quantity": q, "usd": round(c, 2)} for w, q, c in self.items],
                           "notes": self.notes}, indent=2)


def _resources(plan: Plan) -> list[dict[str, Any]]:
    return [r for spec in plan.stacks for r in spec.template.get("Resources", {}).values()]


def estimate(project: ProjectConfig, plan: Plan, prices: dict[str, Any] | None = None) -> CostEstimate:
    """Price the plan's resources for a month; assumptions not in the templates come from ``delivery.cost``."""
    p = prices or load_prices()
    hours = float(p["hours_per_month"])
    assume = project.delivery.cost
    env = project.environments[plan.target.env]
    out = CostEstimate(env=plan.target.env, price_date=str(p["date"]), price_source=str(p["source"]))
    res = _resources(plan)
    tasks = {r["Properties"].get("Family"): r["Properties"] for r in res if r["Type"] == "AWS::ECS::TaskDefinition"}
    for rule in (r["Properties"] for r in res if r["Type"] == "AWS::Events::Rule"):
        expression = rule.get("ScheduleExpression")
        if not expression:
            continue
        task = tasks.get(str(rule.get("Name", "")).removesuffix("-schedule")) or next(iter(tasks.values()), None)
        if rule.get("State") != "ENABLED":
            out.notes.append(f"schedule {rule.get('Name')} is disabled here: its runs are not counted")
            continue
        if task is None:
            continue
        runs = runs_per_month(expression)
        task_hours = runs * assume.run_minutes / 60
        vcpu, gb = int(task["Cpu"]) / 1024, int(task["Memory"]) / 1024
        out.items.append((f"Fargate {task.get('Family')} ({vcpu:g} vCPU, {gb:g} GB)",
                          f"{runs:.1f} runs x {assume.run_minutes:g} min",
                          task_hours * (vcpu * p["fargate_vcpu_hour"] + gb * p["fargate_gb_hour"])))
        out.items.append((f"Step Functions transitions of {rule.get('Name')}", f"{runs * TRANSITIONS_PER_RUN:.0f}",
                          runs * TRANSITIONS_PER_RUN * p["sfn_transition"]))
    _services(out, plan, p, hours)
    _hourly(out, res, p, hours)
    counts = {t: sum(1 for r in res if r["Type"] == t) for t in
              ("AWS::KMS::Key", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard")}
    for rtype, key, label in (("AWS::KMS::Key", "kms_key_month", "KMS keys"),
                              ("AWS::CloudWatch::Alarm", "alarm_month", "CloudWatch alarms"),
                              ("AWS::CloudWatch::Dashboard", "dashboard_month", "CloudWatch dashboards")):
        if counts[rtype]:
            out.items.append((label, str(counts[rtype]), counts[rtype] * p[key]))
    out.items.append(("S3 storage (delivery.cost.storage_gb)", f"{assume.storage_gb:g} GB",
                      assume.storage_gb * p["s3_standard_gb_month"]))
    kept_months = min(env.settings.logs.retention_days / DAYS_PER_MONTH, 12)
    out.items.append(("CloudWatch Logs (delivery.cost.log_gb_per_month)",
                      f"{assume.log_gb_per_month:g} GB in, {kept_months:.1f} months kept",
                      assume.log_gb_per_month * (p["logs_ingest_gb"] + kept_months * p["logs_storage_gb_month"])))
    return out


def _services(out: CostEstimate, plan: Plan, p: dict[str, Any], hours: float) -> None:
    """Long-running Fargate services (e.g. the api): desired count x their task's vCPU and GB, all month."""
    for spec in plan.stacks:
        resources = spec.template.get("Resources", {})
        for service in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::ECS::Service"):
            ref = service.get("TaskDefinition")
            task = resources.get(ref.get("Ref")) if isinstance(ref, dict) else None
            if not task:
                out.notes.append(f"service in {spec.name}: its task definition is not in the stack; not priced")
                continue
            count = int(service.get("DesiredCount", 1))
            vcpu, gb = int(task["Properties"]["Cpu"]) / 1024, int(task["Properties"]["Memory"]) / 1024
            out.items.append((f"Fargate service of {spec.component} ({vcpu:g} vCPU, {gb:g} GB)",
                              f"{count} tasks x {hours:g} h",
                              count * hours * (vcpu * p["fargate_vcpu_hour"] + gb * p["fargate_gb_hour"])))


def _hourly(out: CostEstimate, res: list[dict[str, Any]], p: dict[str, Any], hours: float) -> None:
    """Resources billed per hour whether or not a job runs: load balancers, NAT, endpoints, instances."""
    albs = sum(1 for r in res if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer")
    if albs:
        out.items.append(("Application load balancers", f"{albs} x {hours:g} h", albs * hours * p["alb_hour"]))
    nats = sum(1 for r in res if r["Type"] == "AWS::EC2::NatGateway")
    if nats:
        out.items.append(("NAT gateways", f"{nats} x {hours:g} h", nats * hours * p["nat_gateway_hour"]))
    az_hours = sum(len(r["Properties"].get("SubnetIds") or [1]) for r in res if r["Type"] == "AWS::EC2::VPCEndpoint"
                   and r["Properties"].get("VpcEndpointType") == "Interface")
    if az_hours:
        out.items.append(("VPC interface endpoints (per AZ)", f"{az_hours} x {hours:g} h",
                          az_hours * hours * p["interface_endpoint_az_hour"]))
    for config in (r["Properties"] for r in res if r["Type"] == "AWS::SageMaker::EndpointConfig"):
        for variant in config.get("ProductionVariants", []):
            kind, count = variant.get("InstanceType"), int(variant.get("InitialInstanceCount", 1))
            price = p["sagemaker_instance_hour"].get(kind)
            if price is None:
                out.notes.append(f"no price for endpoint instance type {kind}: add it to prices.json")
                continue
            out.items.append((f"SageMaker endpoint {kind}", f"{count} x {hours:g} h", count * hours * price))
