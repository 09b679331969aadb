"""Alerts: the SNS topic that receives pipeline failures and alarms, with e-mail subscriptions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from troposphere import Ref, Template, sns

from blueprints.common import new_template
from blueprints.outputs import Key, Outputs


class AlertsOutputs(Outputs):
    """Outputs of the alerts stack."""

    alert_topic_arn = Key("SNS topic ARN for alerts")


@dataclass(frozen=True)
class AlertsProps:
    """Inputs of the alerts blueprint."""

    topic_name: str
    emails: tuple[str, ...] = ()


def build(props: AlertsProps) -> Template:
    """Render the alerts template."""
    template = new_template("alerts (SNS topic for failures and alarms)")
    topic = template.add_resource(sns.Topic("AlertTopic", TopicName=props.topic_name,
                                            DisplayName="dsplatform alerts"))
    for email in props.emails:
        # Keyed by the address, so removing one subscriber never replaces the others.
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:10].upper()
        template.add_resource(sns.SubscriptionResource(
            f"EmailSubscription{digest}", TopicArn=Ref(topic), Protocol="email", Endpoint=email))
    AlertsOutputs.alert_topic_arn.emit(template, Ref(topic))
    return template
