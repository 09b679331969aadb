"""API: the real-time FastAPI service on ECS Fargate behind an Application Load Balancer.

The service runs ``desired_count`` tasks of the API image (from the ``api-registry`` stack's ECR repository,
by digest once pushed) in the private subnets,
registered in an ip target group whose health check is ``/ready``. Deployments are rolling (minimum healthy
100 %, maximum 200 %) with the circuit breaker rolling back a version that never gets healthy. Application
Auto Scaling tracks CPU and requests per target between ``min_capacity`` and ``max_capacity``; alarms on 5xx,
p99 latency and unhealthy hosts notify the platform's topic. The task role reads the artifact bucket's model
key and the job's SSM prefix, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import ecr
from awacs.aws import Statement
from troposphere import GetAtt, Join, Ref, Split, Sub, Template, applicationautoscaling, cloudwatch, ecs, iam
from troposphere import logs as logs_res

from blueprints.alerts import AlertsOutputs
from blueprints.api_alb import AccessLogs, AlbParts, full_names, load_balancer
from blueprints.common import new_template, retain
from blueprints.compute import ComputeOutputs
from blueprints.grants import (
    ECR_PULL,
    KMS_DECRYPT,
    LOGS_WRITE,
    S3_READ,
    assume_role_policy,
    grant_parameters,
    policy,
    statement,
)
from blueprints.network import NetworkOutputs
from blueprints.outputs import Key, Outputs
from blueprints.registry import RegistryOutputs, pinned_image
from blueprints.storage import StorageOutputs


class ApiOutputs(Outputs):
    """Outputs of the api stack."""

    url = Key("the URL clients call (scheme and load balancer DNS name)")
    load_balancer_arn = Key("load balancer ARN")
    load_balancer_dns_name = Key("load balancer DNS name")
    target_group_arn = Key("target group ARN")
    service_name = Key("ECS service name")
    log_group_name = Key("log group of the API tasks")


@dataclass(frozen=True)
class ApiProps:
    """Inputs of the api blueprint."""

    name: str  # prefix of the service's resources, e.g. ds-dev-api
    task_family: str
    container_name: str
    log_group_name: str
    ssm_prefix: str  # the job's parameters (artifact-bucket, model-key, model-version)
    model_key: str
    alarm_prefix: str
    access_log_bucket: str  # the ALB's access-log bucket (Names.api_log_bucket)
    region: str  # picks who delivers the logs (blueprints.access_logs)
    image_tag: str = "latest"
    container_port: int = 8080
    cpu: int = 512
    memory: int = 1024
    desired_count: int = 2
    min_capacity: int = 2
    max_capacity: int = 6
    cpu_target_percent: int = 60
    requests_per_target: int = 500
    health_check_grace_seconds: int = 30
    deregistration_delay_seconds: int = 30
    health_check_interval_seconds: int = 10
    internet_facing: bool = False
    allowed_cidrs: tuple[str, ...] = ("10.0.0.0/8",)
    certificate_arn: str | None = None
    plain_http_reason: str | None = None  # why plain HTTP is allowed without a certificate (LocalStack target)
    access_log_days: int = 90
    max_body_bytes: int = 1_048_576
    log_retention_days: int = 30
    kms: bool = False
    artifact_bucket_arn: str | None = None  # another environment's artifact bucket (cross-account)
    error_5xx_threshold: int = 5
    p99_latency_seconds: float = 1.0
    alarm_period_seconds: int = 60
    alarm_evaluation_periods: int = 3


def _roles(template: Template, props: ApiProps, repository_arn: object,
           log_group: logs_res.LogGroup) -> tuple[iam.Role, iam.Role]:
    artifact_arn = props.artifact_bucket_arn or Ref(
        StorageOutputs.artifact_bucket_arn.parameter(template, "artifact bucket ARN (storage stack)"))
    statements: list[Statement | list[Statement]] = [
        statement("ReadModel", S3_READ, [Join("", [artifact_arn, f"/{props.model_key}"])]),
        grant_parameters("ReadParameters", props.ssm_prefix)]
    if props.kms:
        key_arn = Ref(StorageOutputs.data_key_arn.parameter(template, "KMS data key ARN (storage stack)"))
        statements.append(statement("DecryptModel", KMS_DECRYPT, [key_arn]))
    task_role = template.add_resource(iam.Role(
        "ApiTaskRole", Description="dsplatform api: read the model and the job's parameters",
        AssumeRolePolicyDocument=assume_role_policy("ecs-tasks.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="model-access", PolicyDocument=policy(*statements))]))
    execution_role = template.add_resource(iam.Role(
        "ApiExecutionRole", Description="dsplatform api: pull the image, write the logs",
        AssumeRolePolicyDocument=assume_role_policy("ecs-tasks.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="pull-and-log", PolicyDocument=policy(
            statement("PullImage", ECR_PULL, [repository_arn]),
            statement("RegistryToken", (ecr.GetAuthorizationToken,), ["*"]),
            statement("WriteLogs", LOGS_WRITE, [GetAtt(log_group, "Arn")])))]))
    return task_role, execution_role


def _task_definition(template: Template, props: ApiProps) -> ecs.TaskDefinition:
    # The repository is the api-registry stack's, deployed (and the image pushed) before this stack is created.
    repository_uri = Ref(RegistryOutputs.repository_uri.parameter(template, "API image repository (api-registry)"))
    repository_arn = Ref(RegistryOutputs.repository_arn.parameter(template, "its ARN (api-registry stack)"))
    log_group = template.add_resource(logs_res.LogGroup(
        "ApiLogGroup", LogGroupName=props.log_group_name, RetentionInDays=props.log_retention_days))
    task_role, execution_role = _roles(template, props, repository_arn, log_group)
    container = ecs.ContainerDefinition(
        Name=props.container_name, Essential=True, ReadonlyRootFilesystem=True,
        Image=pinned_image(template, props.image_tag, repository_uri, "the API image"),
        PortMappings=[ecs.PortMapping(ContainerPort=props.container_port, Protocol="tcp")],
        Environment=[ecs.Environment(Name="DS_SSM_PREFIX", Value=props.ssm_prefix),
                     ecs.Environment(Name="DS_MAX_BODY_BYTES", Value=str(props.max_body_bytes)),
                     ecs.Environment(Name="DS_API_RELEASE", Value=props.image_tag)],
        LogConfiguration=ecs.LogConfiguration(LogDriver="awslogs", Options={
            "awslogs-group": Ref(log_group), "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": props.container_name}))
    ApiOutputs.log_group_name.emit(template, Ref(log_group))
    # Replaced revisions stay registered (they cost nothing), so `invoke rollback` can put the service back on
    # a release's revision with UpdateService instead of waiting for the change sets (dsplatform.native); the
    # last one stays too when the stack goes (Retain on deletion), like every revision before it.
    return template.add_resource(retain(ecs.TaskDefinition(
        "ApiTaskDefinition", Family=props.task_family, Cpu=str(props.cpu), Memory=str(props.memory),
        NetworkMode="awsvpc", RequiresCompatibilities=["FARGATE"],
        RuntimePlatform=ecs.RuntimePlatform(OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"),
        ExecutionRoleArn=GetAtt(execution_role, "Arn"), TaskRoleArn=GetAtt(task_role, "Arn"),
        ContainerDefinitions=[container])))


def _service(template: Template, props: ApiProps, alb: AlbParts, task: ecs.TaskDefinition,
             subnets: object) -> ecs.Service:
    cluster_arn = Ref(ComputeOutputs.cluster_arn.parameter(template, "ECS cluster ARN (compute stack)"))
    return template.add_resource(ecs.Service(
        "ApiService", Cluster=cluster_arn, TaskDefinition=Ref(task), LaunchType="FARGATE",
        DesiredCount=props.desired_count, HealthCheckGracePeriodSeconds=props.health_check_grace_seconds,
        DeploymentConfiguration=ecs.DeploymentConfiguration(
            MinimumHealthyPercent=100, MaximumPercent=200,
            DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True)),
        LoadBalancers=[ecs.LoadBalancer(TargetGroupArn=Ref(alb.target_group), ContainerName=props.container_name,
                                        ContainerPort=props.container_port)],
        NetworkConfiguration=ecs.NetworkConfiguration(AwsvpcConfiguration=ecs.AwsvpcConfiguration(
            Subnets=subnets, SecurityGroups=[Ref(alb.task_security_group)], AssignPublicIp="DISABLED")),
        PropagateTags="SERVICE", EnableECSManagedTags=True,
        DependsOn=[listener.title for listener in alb.listeners]))


def _scaling(template: Template, props: ApiProps, alb: AlbParts, service: ecs.Service) -> None:
    cluster_name = Ref(ComputeOutputs.cluster_name.parameter(template, "ECS cluster name (compute stack)"))
    target = template.add_resource(applicationautoscaling.ScalableTarget(
        "ScalableTarget", ServiceNamespace="ecs", ScalableDimension="ecs:service:DesiredCount",
        ResourceId=Join("/", ["service", cluster_name, GetAtt(service, "Name")]),
        MinCapacity=props.min_capacity, MaxCapacity=props.max_capacity))
    balancer_name, group_name = full_names(alb)
    for title, metric, value, label in (
        ("CpuScaling", "ECSServiceAverageCPUUtilization", props.cpu_target_percent, None),
        ("RequestScaling", "ALBRequestCountPerTarget", props.requests_per_target,
         Join("/", [balancer_name, group_name])),
    ):
        spec = applicationautoscaling.PredefinedMetricSpecification(
            PredefinedMetricType=metric, **({"ResourceLabel": label} if label is not None else {}))
        template.add_resource(applicationautoscaling.ScalingPolicy(
            title, PolicyName=Sub(f"${{AWS::StackName}}-{title}"), PolicyType="TargetTrackingScaling",
            ScalingTargetId=Ref(target), TargetTrackingScalingPolicyConfiguration=(
                applicationautoscaling.TargetTrackingScalingPolicyConfiguration(
                    TargetValue=float(value), PredefinedMetricSpecification=spec,
                    ScaleInCooldown=120, ScaleOutCooldown=30))))


def _alarms(template: Template, props: ApiProps, alb: AlbParts) -> None:
    topic_arn = Ref(AlertsOutputs.alert_topic_arn.parameter(template, "alert topic ARN (alerts stack)"))
    balancer_name, group_name = full_names(alb)
    dims = [cloudwatch.MetricDimension(Name="LoadBalancer", Value=balancer_name),
            cloudwatch.MetricDimension(Name="TargetGroup", Value=group_name)]
    common = {"Namespace": "AWS/ApplicationELB", "Dimensions": dims, "Period": props.alarm_period_seconds,
              "EvaluationPeriods": props.alarm_evaluation_periods, "TreatMissingData": "notBreaching",
              "AlarmActions": [topic_arn], "OKActions": [topic_arn]}
    template.add_resource(cloudwatch.Alarm(
        "Target5xxAlarm", AlarmName=f"{props.alarm_prefix}-5xx", MetricName="HTTPCode_Target_5XX_Count",
        AlarmDescription=f"api: 5xx answers >= {props.error_5xx_threshold} per period", Statistic="Sum",
        Threshold=props.error_5xx_threshold, ComparisonOperator="GreaterThanOrEqualToThreshold", **common))
    template.add_resource(cloudwatch.Alarm(
        "LatencyP99Alarm", AlarmName=f"{props.alarm_prefix}-p99-latency", MetricName="TargetResponseTime",
        AlarmDescription=f"api: p99 latency > {props.p99_latency_seconds}s", ExtendedStatistic="p99",
        Threshold=props.p99_latency_seconds, ComparisonOperator="GreaterThanThreshold", **common))
    template.add_resource(cloudwatch.Alarm(
        "UnhealthyHostsAlarm", AlarmName=f"{props.alarm_prefix}-unhealthy-hosts", MetricName="UnHealthyHostCount",
        AlarmDescription="api: a target is unhealthy", Statistic="Maximum", Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold", **common))


def build(props: ApiProps) -> Template:
    """Render the api template."""
    template = new_template("api (FastAPI on ECS Fargate behind an ALB, auto scaling, alarms)")
    vpc_id = Ref(NetworkOutputs.vpc_id.parameter(template, "VPC id (network stack)"))
    private = Split(",", Ref(NetworkOutputs.subnet_ids.parameter(template, "private subnets (network stack)")))
    public = (Split(",", Ref(NetworkOutputs.public_subnet_ids.parameter(template, "public subnets (network stack)")))
              if props.internet_facing else private)
    alb = load_balancer(template, name=props.name, vpc_id=vpc_id, subnets=public,
                        internet_facing=props.internet_facing, cidrs=props.allowed_cidrs,
                        certificate_arn=props.certificate_arn, port=props.container_port,
                        deregistration_delay=props.deregistration_delay_seconds,
                        health_check_interval=props.health_check_interval_seconds,
                        plain_http_reason=props.plain_http_reason,
                        logs=AccessLogs(props.access_log_bucket, props.region, props.name, props.access_log_days))
    task = _task_definition(template, props)
    service = _service(template, props, alb, task, private)
    _scaling(template, props, alb, service)
    _alarms(template, props, alb)
    dns = GetAtt(alb.load_balancer, "DNSName")
    ApiOutputs.url.emit(template, Join("", [f"{alb.scheme}://", dns]))
    ApiOutputs.load_balancer_arn.emit(template, Ref(alb.load_balancer))
    ApiOutputs.load_balancer_dns_name.emit(template, dns)
    ApiOutputs.target_group_arn.emit(template, Ref(alb.target_group))
    ApiOutputs.service_name.emit(template, GetAtt(service, "Name"))
    return template


