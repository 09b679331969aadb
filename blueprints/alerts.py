"""Alerts: the SNS topic that receives pipeline failures and alarms, KMS-encrypted, with e-mail subscriptions.

The topic is encrypted with its own customer-managed key (rotated). The key policy lets the account's
administrators manage it (and IAM policies grant its use, as the state machine's role does), and lets the
AWS services that publish to the topic on the account's behalf (CloudWatch alarms, EventBridge rules)
encrypt, pinned to this account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Template, kms, sns

from blueprints.common import new_template
from blueprints.grants import KMS_KEY_ADMIN, KMS_PUBLISH
from blueprints.outputs import Key, Outputs

# Services that publish to the topic themselves (alarm actions, rule targets) and so call KMS as themselves.
PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


class AlertsOutputs(Outputs):
    """Outputs of the alerts stack."""

    alert_topic_arn = Key("SNS topic ARN for alerts")
    alert_key_arn = Key("KMS key encrypting the alert topic")


@dataclass(frozen=True)
class AlertsProps:
    """Inputs of the alerts blueprint."""

    topic_name: str
    emails: tuple[str, ...] = ()


def topic_key_policy(services: tuple[str, ...]) -> PolicyDocument:
    """Key policy of a topic's KMS key: the account administers it, ``services`` publish with it (this account)."""
    account = Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
    # In a key policy, Resource '*' means this key (the only form KMS accepts there).
    statements = [
        Statement(Sid="AccountAdministers", Effect=Allow, Principal=Principal("AWS", [account]),
                  Action=list(KMS_KEY_ADMIN), Resource=["*"]),
        Statement(Sid="ServicesPublish", Effect=Allow, Principal=Principal("Service", list(services)),
                  Action=list(KMS_PUBLISH), Resource=["*"],
                  Condition=Condition(StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")}))),
    ]
    return PolicyDocument(Version="2012-10-17", Statement=statements)


def _key(template: Template) -> kms.Key:
    # Not retained: the key protects messages in flight only, and SNS keeps no data once delivered.
    return template.add_resource(kms.Key(
        "AlertKey", Description="dsplatform alert topic", EnableKeyRotation=True, PendingWindowInDays=7,
        KeyPolicy=topic_key_policy(PUBLISHING_SERVICES)))


def build(props: AlertsProps) -> Template:
    """Render the alerts template."""
    template = new_template("alerts (KMS-encrypted SNS topic for failures and alarms)")
    key = _key(template)
    topic = template.add_resource(sns.Topic("AlertTopic", TopicName=props.topic_name,
                                            DisplayName="dsplatform alerts", KmsMasterKeyId=GetAtt(key, "Arn")))
    for email in props.emails:
        # Keyed by the address, so removing one subscriber never replaces the others.
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:10].upper()
        template.add_resource(sns.SubscriptionResource(
            f"EmailSubscription{digest}", TopicArn=Ref(topic), Protocol="email", Endpoint=email))
    AlertsOutputs.alert_topic_arn.emit(template, Ref(topic))
    AlertsOutputs.alert_key_arn.emit(template, GetAtt(key, "Arn"))
    return template
