"""Schedule: the EventBridge rule that starts the pipeline (monthly by default), through a scoped role."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template, events, iam

from blueprints.common import new_template
from blueprints.grants import STATES_START, assume_role_policy, policy, statement
from blueprints.orchestration import OrchestrationOutputs
from blueprints.outputs import Key, Outputs


class ScheduleOutputs(Outputs):
    """Outputs of the schedule stack."""

    schedule_rule_name = Key("EventBridge rule name")


@dataclass(frozen=True)
class ScheduleProps:
    """Inputs of the schedule blueprint."""

    rule_name: str
    expression: str = "cron(0 9 15 * ? *)"
    enabled: bool = True


def build(props: ScheduleProps) -> Template:
    """Render the schedule template."""
    template = new_template("schedule (EventBridge rule starting the pipeline)")
    machine_arn = Ref(OrchestrationOutputs.state_machine_arn.parameter(
        template, "state machine ARN (orchestration stack)"))
    role = template.add_resource(iam.Role(
        "ScheduleRole", Description="dsplatform schedule: start this state machine",
        AssumeRolePolicyDocument=assume_role_policy("events.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="start-pipeline",
                             PolicyDocument=policy(statement("StartPipeline", STATES_START, [machine_arn])))]))
    rule = template.add_resource(events.Rule(
        "ScheduleRule", Name=props.rule_name, ScheduleExpression=props.expression,
        State="ENABLED" if props.enabled else "DISABLED", Description="dsplatform: start the pipeline",
        Targets=[events.Target(Id="Pipeline", Arn=machine_arn, RoleArn=GetAtt(role, "Arn"), Input="{}")]))
    ScheduleOutputs.schedule_rule_name.emit(template, Ref(rule))
    return template
