"""Render the configuration reference (docs/configuration.md) from the models' field descriptions.

Run ``python -m dsplatform.config.reference > docs/configuration.md``; a test fails when the doc drifts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from dsplatform.config.models import (
    ComponentsConfig,
    ComponentSettings,
    CostAssumptions,
    DeliveryConfig,
    EnvironmentConfig,
    GitHubSettings,
    LifecycleSettings,
    LocalStackConfig,
    ProjectSettings,
    PromotionRoute,
)
from dsplatform.config.pipeline_settings import PipelineSettings, PipelineSource

HEADER = """# Configuration reference

`dsplatform.yml` at the repository root (or `--config PATH`) defines the project and its environments.
Every key is typed and validated when the file is loaded; unknown keys are refused, and every problem is
reported at once, one line each: `<file>: <key path>: <what is wrong> (got <value>)`.

```yaml
project: {name: ds, tags: {owner: data-science}}
localstack: {endpoint_url: http://127.0.0.1:4566}
defaults:            # component settings shared by every environment
  compute: {cpu: 2048, memory: 4096}
environments:
  dev:
    account_id: "111111111111"   # quoted: account ids are text
    region: us-east-1
    target: localstack
    settings:                    # overrides of `defaults`, merged key by key
      compute: {cpu: 1024, memory: 2048}
```

What is checked, beyond each key's own rule below: types are strict (`true` is not `1`, `"30"` is not `30`;
write numbers and booleans unquoted, account ids quoted); a repeated key or environment is an error naming
both lines; aliases may not expand past 10,000 values; the file must be UTF-8 and under 1 MB; a region must
be one botocore knows (every partition); a schedule is parsed as EventBridge does (`cron(min hour
day-of-month month day-of-week year)` with ranges, lists, steps, `L`, `W`, `#` and `?` in exactly one day
field; `rate(1 day)` singular, `rate(5 days)` plural); tags follow AWS's limits (keys 1-128 characters,
values up to 256, no `aws:` or `dsplatform:` prefix, at most 47). Values shown in errors are cut at 80
characters. The order of `environments` is the promotion chain: `invoke promote` goes one step forward.

Any environment can be rehearsed on LocalStack with `--target localstack`: it keeps its own account id,
which LocalStack simulates, so dev, stg and prod can run side by side on one LocalStack.

This file is generated from the code: `python -m dsplatform.config.reference > docs/configuration.md`.
"""


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "required"
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{value!r}`" if value not in ((), None) else "none"


def _table(model: type[BaseModel], path: str) -> list[str]:
    lines = [f"### `{path}`", "", (model.__doc__ or "").strip().splitlines()[0], "",
             "| key | default | meaning |", "|---|---|---|"]
    for name, field in model.model_fields.items():
        if name in ("name", "source", "settings"):
            continue
        lines.append(f"| `{field.alias or name}` | {_default(field)} | {field.description or ''} |")
    return [*lines, ""]


def render() -> str:
    """The whole reference as Markdown."""
    out = [HEADER, "## Top level", ""]
    out += _table(ProjectSettings, "project")
    out += _table(LocalStackConfig, "localstack")
    out += _table(ComponentsConfig, "components")
    out += _table(DeliveryConfig, "delivery")
    out += _table(PromotionRoute, "delivery.promote")
    out += _table(GitHubSettings, "delivery.github")
    out += _table(CostAssumptions, "delivery.cost")
    out += _table(PipelineSettings, "delivery.pipeline")
    out += _table(PipelineSource, "delivery.pipeline.source")
    out += _table(EnvironmentConfig, "environments.<name>")
    out += ["## Component settings", "",
            "Each section may appear under `defaults` and under `environments.<name>.settings`.", ""]
    for name, field in ComponentSettings.model_fields.items():
        out += _table(field.annotation, name)  # type: ignore[arg-type]
    out += _table(LifecycleSettings, "storage.lifecycle")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
