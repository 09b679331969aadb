"""Serving: a SageMaker endpoint for one registered model version, its scoped role, scaling and alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from awacs import ecr, logs, s3
from troposphere import (
    GetAtt,
    Ref,
    Sub,
    Template,
    applicationautoscaling,
    cloudwatch,
    iam,
    sagemaker,
)

from blueprints.alerts import AlertsOutputs
from blueprints.common import new_template
from blueprints.grants import ECR_PULL, assume_role_policy, policy, statement
from blueprints.outputs import Key, Outputs
from blueprints.registry import RegistryOutputs, pinned_image

VARIANT = "AllTraffic"
MODEL_READ = (s3.GetObject,)
CAPTURE_WRITE = (s3.PutObject,)
LOGS_SETUP = (logs.CreateLogGroup, logs.CreateLogStream, logs.PutLogEvents)
# A new model version replaces the Model and the EndpointConfig (new names); CloudFormation would delete the old
# pair, and with it what an earlier release's endpoint ran. Kept, `invoke rollback` switches the endpoint back
# to the pinned config natively (UpdateEndpoint); the deployer removes the kept pairs when the stack is destroyed.
RETAINED = {"UpdateReplacePolicy": "Retain", "DeletionPolicy": "Retain"}


class EndpointDataCapture(sagemaker.DataCaptureConfig):
    """EndpointConfig's DataCaptureConfig; troposphere's class of that name carries TransformJob's properties."""

    props: ClassVar[dict[str, tuple[object, bool]]] = {
        "EnableCapture": (bool, False),
        "InitialSamplingPercentage": (int, True),
        "DestinationS3Uri": (str, True),
        "CaptureOptions": ([sagemaker.CaptureOption], True),
        "KmsKeyId": (str, False),
    }


class ServingOutputs(Outputs):
    """Outputs of the serving stack."""

    endpoint_name = Key("SageMaker endpoint name")
    endpoint_arn = Key("SageMaker endpoint ARN")
    model_name = Key("SageMaker model name (carries the registry version)")
    model_data_url = Key("model.tar.gz the endpoint serves")
    execution_role_arn = Key("execution role of the model")


@dataclass(frozen=True)
class ServingProps:
    """Inputs of the serving blueprint: one model version behind one endpoint."""

    endpoint_name: str
    model_name: str  # versioned, e.g. ds-staging-m3: a new version replaces the model and config statically
    config_name: str
    image_tag: str  # the tag pushed; the model names the digest ECR holds under it once pushed
    artifact_bucket: str
    model_key: str  # models/<name>/<version>/model.tar.gz
    model_sha256: str | None = None  # recorded in the container's environment for the smoke test to compare
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    max_instances: int = 1  # > instance_count adds target-tracking auto scaling
    invocations_per_instance: int = 100  # the scaling target (SageMakerVariantInvocationsPerInstance per minute)
    capture_bucket: str | None = None  # data capture to this bucket (the output bucket) when set
    capture_percent: int = 10
    latency_threshold_ms: int = 1000
    errors_threshold: int = 1
    period_seconds: int = 300


def _role(template: Template, props: ServingProps, repository_arn: object) -> iam.Role:
    model_object = f"arn:aws:s3:::{props.artifact_bucket}/{props.model_key}"
    log_group = ("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/sagemaker/Endpoints/"
                 + props.endpoint_name)
    statements = [
        statement("ReadModel", MODEL_READ, [model_object]),
        statement("PullImage", ECR_PULL, [repository_arn]),
        statement("RegistryToken", (ecr.GetAuthorizationToken,), ["*"]),  # listed in grants.UNSCOPED_ACTIONS
        statement("Logs", LOGS_SETUP, [Sub(log_group), Sub(f"{log_group}:*")]),
    ]
    if props.capture_bucket:
        statements.append(statement("DataCapture", CAPTURE_WRITE,
                                    [f"arn:aws:s3:::{props.capture_bucket}/data-capture/{props.endpoint_name}/*"]))
    return template.add_resource(iam.Role(
        "ExecutionRole", AssumeRolePolicyDocument=assume_role_policy("sagemaker.amazonaws.com"),
        Description=f"dsplatform: runs the model behind {props.endpoint_name}",
        Policies=[iam.Policy(PolicyName="serving", PolicyDocument=policy(*statements))]))


def _scaling(template: Template, props: ServingProps, endpoint: sagemaker.Endpoint) -> None:
    target = template.add_resource(applicationautoscaling.ScalableTarget(
        "ScalableTarget", ServiceNamespace="sagemaker", ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        ResourceId=f"endpoint/{props.endpoint_name}/variant/{VARIANT}", MinCapacity=props.instance_count,
        MaxCapacity=props.max_instances, DependsOn=[endpoint.title]))
    template.add_resource(applicationautoscaling.ScalingPolicy(
        "ScalingPolicy", PolicyName=f"{props.endpoint_name}-invocations", PolicyType="TargetTrackingScaling",
        ScalingTargetId=Ref(target),
        TargetTrackingScalingPolicyConfiguration=applicationautoscaling.TargetTrackingScalingPolicyConfiguration(
            TargetValue=float(props.invocations_per_instance), ScaleInCooldown=300, ScaleOutCooldown=60,
            PredefinedMetricSpecification=applicationautoscaling.PredefinedMetricSpecification(
                PredefinedMetricType="SageMakerVariantInvocationsPerInstance"))))


def _alarms(template: Template, props: ServingProps, topic_arn: object, endpoint: sagemaker.Endpoint) -> None:
    dimensions = [cloudwatch.MetricDimension(Name="EndpointName", Value=props.endpoint_name),
                  cloudwatch.MetricDimension(Name="VariantName", Value=VARIANT)]
    for title, metric, statistic, threshold in (
            ("LatencyAlarm", "ModelLatency", "Average", props.latency_threshold_ms * 1000),  # microseconds
            ("ErrorsAlarm", "Invocation5XXErrors", "Sum", props.errors_threshold)):
        template.add_resource(cloudwatch.Alarm(
            title, AlarmName=f"{props.endpoint_name}-{metric}", Namespace="AWS/SageMaker", MetricName=metric,
            AlarmDescription=f"dsplatform serving: {metric} {statistic} >= {threshold}", Dimensions=dimensions,
            Statistic=statistic, Period=props.period_seconds, EvaluationPeriods=1, Threshold=threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
            AlarmActions=[topic_arn], DependsOn=[endpoint.title]))


def build(props: ServingProps) -> Template:
    """Render the serving template."""
    template = new_template("serving (SageMaker endpoint of one registered model version)")
    topic_arn = Ref(AlertsOutputs.alert_topic_arn.parameter(template, "alert topic (alerts stack)"))
    repository_uri = Ref(RegistryOutputs.repository_uri.parameter(template, "serving image (serving-registry stack)"))
    repository_arn = Ref(RegistryOutputs.repository_arn.parameter(template, "its ARN (serving-registry stack)"))
    role = _role(template, props, repository_arn)
    environment = {"DS_SERVING_MODEL_SHA256": props.model_sha256} if props.model_sha256 else {}
    # Network isolation: the container needs no network (SageMaker puts the model under /opt/ml/model), so a
    # compromised model or dependency cannot call out (checkov CKV_AWS_370).
    model = template.add_resource(sagemaker.Model(
        "Model", **RETAINED, ModelName=props.model_name, ExecutionRoleArn=GetAtt(role, "Arn"),
        EnableNetworkIsolation=True,
        PrimaryContainer=sagemaker.ContainerDefinition(
            Image=pinned_image(template, props.image_tag, repository_uri, "the serving image"), ModelDataUrl=f"s3://{props.artifact_bucket}/{props.model_key}",
            **({"Environment": environment} if environment else {}))))
    capture = {"DataCaptureConfig": EndpointDataCapture(
        EnableCapture=True, InitialSamplingPercentage=props.capture_percent,
        DestinationS3Uri=f"s3://{props.capture_bucket}/data-capture/{props.endpoint_name}",
        CaptureOptions=[sagemaker.CaptureOption(CaptureMode="Input"), sagemaker.CaptureOption(CaptureMode="Output")],
    )} if props.capture_bucket else {}
    config = template.add_resource(sagemaker.EndpointConfig(
        "EndpointConfig", **RETAINED, EndpointConfigName=props.config_name, DependsOn=[model.title],
        ProductionVariants=[
            sagemaker.ProductionVariant(VariantName=VARIANT, ModelName=props.model_name,
                                        InitialInstanceCount=props.instance_count, InstanceType=props.instance_type,
                                        InitialVariantWeight=1.0)], **capture))
    # Literal names, not GetAtt: a new version is then a static change, which every engine replaces correctly.
    endpoint = template.add_resource(sagemaker.Endpoint(
        "Endpoint", EndpointName=props.endpoint_name, EndpointConfigName=props.config_name, DependsOn=[config.title]))
    if props.max_instances > props.instance_count:
        _scaling(template, props, endpoint)
    _alarms(template, props, topic_arn, endpoint)
    ServingOutputs.endpoint_name.emit(template, GetAtt(endpoint, "EndpointName"))
    ServingOutputs.endpoint_arn.emit(template, Ref(endpoint))
    ServingOutputs.model_name.emit(template, GetAtt(model, "ModelName"))
    ServingOutputs.model_data_url.emit(template, f"s3://{props.artifact_bucket}/{props.model_key}")
    ServingOutputs.execution_role_arn.emit(template, GetAtt(role, "Arn"))
    return template
