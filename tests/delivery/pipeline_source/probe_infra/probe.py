"""Component ``probe``: one SSM parameter holding the release being delivered (``project.tags.release``).

The cheapest component with a scenario, so the pipeline scenario's deliver and promote stages deploy and test
something real in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Template, ssm

from blueprints.outputs import Key, Outputs
from dsplatform.components import Component, Context


class ProbeOutputs(Outputs):
    """What the probe stack tells its scenario."""

    parameter_name = Key("SSM parameter holding the delivered release")


@dataclass(frozen=True)
class ProbeProps:
    """The parameter's name and value."""

    name: str
    release: str


def build(props: ProbeProps) -> Template:
    """One String parameter."""
    template = Template(Description="pipeline scenario probe")
    parameter = template.add_resource(ssm.Parameter("Release", Name=props.name, Type="String", Value=props.release))
    ProbeOutputs.parameter_name.emit(template, Ref(parameter))
    return template


def props(ctx: Context) -> ProbeProps:
    """The name under the project's prefix, the release from the project's tags."""
    return ProbeProps(name=f"/{ctx.names.project}/{ctx.env.name}/release",
                      release=ctx.project.project.tags.get("release", "none"))


PROBE = Component("probe", build, props, ProbeOutputs, ("storage",), scenarios="scenarios",
                  source="probe_infra.probe:PROBE")
