"""The API's load balancer: security groups, the ALB, its ip target group (health checks on /ready) and listeners.

HTTPS with the configured ACM certificate and a TLS 1.2+ policy (HTTP answers a redirect to it); plain
HTTP only without a certificate, which config allows on a LocalStack target only: that listener carries
checkov skip metadata for exactly the two TLS checks, with the reason. Access logs go to the bucket of
``blueprints.access_logs``. The ALB's group admits the configured CIDRs on the listener ports and may only reach
the tasks' group on the container port; the tasks' group admits only the ALB's group.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template, ec2
from troposphere import elasticloadbalancingv2 as elb

from blueprints.access_logs import access_log_bucket

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
PLAIN_HTTP_CHECKS = ("CKV_AWS_2", "CKV_AWS_103")  # HTTPS listener; TLS 1.2 or later


@dataclass(frozen=True)
class AccessLogs:
    """Where the ALB writes its access logs: a bucket this stack creates, under a prefix, kept this many days."""

    bucket_name: str
    region: str
    prefix: str
    expiration_days: int


@dataclass(frozen=True)
class AlbParts:
    """What the service and alarms need from the load balancer part."""

    load_balancer: elb.LoadBalancer
    target_group: elb.TargetGroup
    listeners: tuple[elb.Listener, ...]
    task_security_group: ec2.SecurityGroup
    scheme: str  # http or https, for the URL output


def security_groups(
    template: Template, name: str, vpc_id: object, port: int, cidrs: tuple[str, ...], listener_ports: tuple[int, ...]
) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
    """The ALB's and the tasks' groups; rules between them are separate resources (no reference cycle)."""
    alb_sg = template.add_resource(ec2.SecurityGroup(
        "AlbSecurityGroup", VpcId=vpc_id, GroupDescription=f"{name} load balancer: listeners from allowed CIDRs",
        SecurityGroupIngress=[
            ec2.SecurityGroupRule(IpProtocol="tcp", FromPort=p, ToPort=p, CidrIp=cidr,
                                  Description=f"clients on {p}")
            for cidr in cidrs for p in listener_ports],
        # A rule that allows nothing replaces the default allow-all egress; the real egress is added below.
        SecurityGroupEgress=[ec2.SecurityGroupRule(IpProtocol="icmp", FromPort=252, ToPort=86,
                                                   CidrIp="255.255.255.255/32", Description="no default egress")]))
    task_sg = template.add_resource(ec2.SecurityGroup(
        "ApiTaskSecurityGroup", VpcId=vpc_id, GroupDescription=f"{name} tasks: the ALB only, HTTPS out",
        SecurityGroupEgress=[ec2.SecurityGroupRule(IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0",
                                                   Description="HTTPS to AWS APIs")]))
    template.add_resource(ec2.SecurityGroupIngress(
        "ApiTaskIngressFromAlb", GroupId=Ref(task_sg), IpProtocol="tcp", FromPort=port, ToPort=port,
        SourceSecurityGroupId=Ref(alb_sg), Description="the load balancer to the container port"))
    template.add_resource(ec2.SecurityGroupEgress(
        "AlbEgressToTasks", GroupId=Ref(alb_sg), IpProtocol="tcp", FromPort=port, ToPort=port,
        DestinationSecurityGroupId=Ref(task_sg), Description="to the tasks' container port"))
    return alb_sg, task_sg


def load_balancer(
    template: Template, *, name: str, vpc_id: object, subnets: object, internet_facing: bool, cidrs: tuple[str, ...],
    certificate_arn: str | None, port: int, deregistration_delay: int, logs: AccessLogs,
    health_check_interval: int = 10, plain_http_reason: str | None = None,
) -> AlbParts:
    """The ALB, its access-log bucket, target group and listeners.

    Without ``certificate_arn`` the listener is plain HTTP, which needs ``plain_http_reason`` (why the target
    allows it); ValueError otherwise, so no template serves plain HTTP without saying why.
    """
    if not certificate_arn and not plain_http_reason:
        raise ValueError("api: no certificate_arn, and no reason to serve plain HTTP; give one of them")
    listener_ports = (80, 443) if certificate_arn else (80,)
    alb_sg, task_sg = security_groups(template, name, vpc_id, port, cidrs, listener_ports)
    log_bucket, log_policy = access_log_bucket(template, name=logs.bucket_name, region=logs.region,
                                               prefix=logs.prefix, expiration_days=logs.expiration_days)
    balancer = template.add_resource(elb.LoadBalancer(
        "LoadBalancer", Type="application", Scheme="internet-facing" if internet_facing else "internal",
        Subnets=subnets, SecurityGroups=[Ref(alb_sg)], LoadBalancerAttributes=[
            elb.LoadBalancerAttributes(Key="routing.http.drop_invalid_header_fields.enabled", Value="true"),
            elb.LoadBalancerAttributes(Key="idle_timeout.timeout_seconds", Value="60"),
            elb.LoadBalancerAttributes(Key="access_logs.s3.enabled", Value="true"),
            elb.LoadBalancerAttributes(Key="access_logs.s3.bucket", Value=Ref(log_bucket)),
            elb.LoadBalancerAttributes(Key="access_logs.s3.prefix", Value=logs.prefix)],
        # AWS checks the bucket policy when logging is switched on.
        DependsOn=[log_policy.title]))
    group = template.add_resource(elb.TargetGroup(
        "TargetGroup", TargetType="ip", Protocol="HTTP", Port=port, VpcId=vpc_id,
        HealthCheckEnabled=True, HealthCheckPath="/ready", HealthCheckProtocol="HTTP",
        # The timeout must be shorter than the interval (ELBv2 refuses otherwise).
        HealthCheckIntervalSeconds=health_check_interval, HealthCheckTimeoutSeconds=min(5, health_check_interval - 1),
        HealthyThresholdCount=2,
        UnhealthyThresholdCount=3, Matcher=elb.Matcher(HttpCode="200"),
        TargetGroupAttributes=[elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds",
                                                        Value=str(deregistration_delay))]))
    forward = [elb.Action(Type="forward", TargetGroupArn=Ref(group))]
    if certificate_arn:
        https = template.add_resource(elb.Listener(
            "HttpsListener", LoadBalancerArn=Ref(balancer), Port=443, Protocol="HTTPS", SslPolicy=TLS_POLICY,
            Certificates=[elb.Certificate(CertificateArn=certificate_arn)], DefaultActions=forward))
        redirect = template.add_resource(elb.Listener(
            "HttpListener", LoadBalancerArn=Ref(balancer), Port=80, Protocol="HTTP", DefaultActions=[elb.Action(
                Type="redirect", RedirectConfig=elb.RedirectConfig(
                    Protocol="HTTPS", Port="443", StatusCode="HTTP_301"))]))
        return AlbParts(balancer, group, (https, redirect), task_sg, "https")
    http = template.add_resource(elb.Listener(
        "HttpListener", LoadBalancerArn=Ref(balancer), Port=80, Protocol="HTTP", DefaultActions=forward,
        Metadata={"checkov": {"skip": [{"id": check, "comment": plain_http_reason} for check in PLAIN_HTTP_CHECKS]}}))
    return AlbParts(balancer, group, (http,), task_sg, "http")


def full_names(parts: AlbParts) -> tuple[object, object]:
    """(LoadBalancerFullName, TargetGroupFullName) for CloudWatch dimensions and the request-count metric."""
    return GetAtt(parts.load_balancer, "LoadBalancerFullName"), GetAtt(parts.target_group, "TargetGroupFullName")
