"""Compute: the ECS cluster, the Fargate task definition, its two roles and its log group.

The task role gets exactly: read on the input and artifact buckets, write on the output bucket, read on
the job's SSM prefix (and use of the data key when buckets are KMS-encrypted). The execution role pulls
the image from this repository and writes to this log group.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import ecr
from awacs.aws import Statement
from troposphere import GetAtt, Join, Ref, Template, ecs, iam, logs

from blueprints.common import new_template
from blueprints.grants import (
    ECR_PULL,
    KMS_ENCRYPT,
    LOGS_WRITE,
    S3_READ,
    assume_role_policy,
    grant_parameters,
    grant_read,
    grant_write,
    policy,
    statement,
)
from blueprints.outputs import Key, Outputs
from blueprints.registry import IMAGE_DIGEST_PARAMETER, RegistryOutputs, pinned_image
from blueprints.storage import StorageOutputs

__all__ = ["IMAGE_DIGEST_PARAMETER", "ComputeOutputs", "ComputeProps", "build"]  # the parameter: its old home


class ComputeOutputs(Outputs):
    """Outputs of the compute stack."""

    cluster_arn = Key("ECS cluster ARN")
    cluster_name = Key("ECS cluster name")
    task_definition_arn = Key("task definition ARN (with revision)")
    task_role_arn = Key("task role ARN")
    execution_role_arn = Key("task execution role ARN")
    log_group_name = Key("log group of the job")
    container_name = Key("container name in the task definition")


@dataclass(frozen=True)
class ComputeProps:
    """Inputs of the compute blueprint."""

    cluster_name: str
    task_family: str
    container_name: str
    log_group_name: str
    ssm_prefix: str
    cpu: int = 2048
    memory: int = 4096
    image_tag: str = "latest"  # named only until an image is pushed: then the deployer pins its digest
    log_retention_days: int = 30
    kms: bool = False  # buckets encrypted with the storage stack's DataKey
    artifact_bucket_arn: str | None = None  # another environment's artifact bucket (cross-account)
    task_role_name: str | None = None  # a fixed name lets the artifact account's bucket policy name this role


def _task_role(template: Template, props: ComputeProps, key_arn: object | None) -> iam.Role:
    input_arn = Ref(StorageOutputs.input_bucket_arn.parameter(template, "input bucket ARN (storage stack)"))
    output_arn = Ref(StorageOutputs.output_bucket_arn.parameter(template, "output bucket ARN (storage stack)"))
    artifact_arn = props.artifact_bucket_arn or Ref(
        StorageOutputs.artifact_bucket_arn.parameter(template, "artifact bucket ARN (storage stack)"))
    statements: list[Statement | list[Statement]] = [
        grant_read("ReadInput", input_arn), grant_read("ReadArtifacts", artifact_arn),
        grant_write("WriteOutput", output_arn), grant_parameters("ReadParameters", props.ssm_prefix),
        # A sharded run's commit reads back its plan and its shards' records (nothing else of the output).
        statement("ReadRunState", S3_READ, [Join("", [output_arn, "/processed/*/_shards.json"]),
                                            Join("", [output_arn, "/processed/*/_parts/*"])])]
    if key_arn is not None:
        statements += [statement("UseDataKey", KMS_ENCRYPT, [key_arn])]
    named = {"RoleName": props.task_role_name} if props.task_role_name else {}
    return template.add_resource(iam.Role(
        "TaskRole", Description="dsplatform job: read input and artifacts, write output, read its parameters", **named,
        AssumeRolePolicyDocument=assume_role_policy("ecs-tasks.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="job-data-access", PolicyDocument=policy(*statements))]))


def _execution_role(template: Template, log_group: logs.LogGroup) -> iam.Role:
    repository_arn = Ref(RegistryOutputs.repository_arn.parameter(template, "ECR repository ARN (registry stack)"))
    return template.add_resource(iam.Role(
        "ExecutionRole", Description="dsplatform job: pull the image, write the logs",
        AssumeRolePolicyDocument=assume_role_policy("ecs-tasks.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="pull-and-log", PolicyDocument=policy(
            statement("PullImage", ECR_PULL, [repository_arn]),
            statement("RegistryToken", (ecr.GetAuthorizationToken,), ["*"]),
            statement("WriteLogs", LOGS_WRITE, [GetAtt(log_group, "Arn")])))]))


def build(props: ComputeProps) -> Template:
    """Render the compute template."""
    template = new_template("compute (ECS cluster, Fargate task definition, roles, log group)")
    repository_uri = Ref(RegistryOutputs.repository_uri.parameter(template, "ECR repository URI (registry stack)"))
    key_arn = (Ref(StorageOutputs.data_key_arn.parameter(template, "KMS data key ARN (storage stack)"))
               if props.kms else None)
    log_group = template.add_resource(logs.LogGroup(
        "LogGroup", LogGroupName=props.log_group_name, RetentionInDays=props.log_retention_days))
    task_role = _task_role(template, props, key_arn)
    execution_role = _execution_role(template, log_group)
    cluster = template.add_resource(ecs.Cluster(
        "Cluster", ClusterName=props.cluster_name,
        ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value="enabled")]))
    container = ecs.ContainerDefinition(
        Name=props.container_name, Essential=True,
        Image=pinned_image(template, props.image_tag, repository_uri, "the job image"),
        Environment=[ecs.Environment(Name="DS_SSM_PREFIX", Value=props.ssm_prefix)],
        LogConfiguration=ecs.LogConfiguration(LogDriver="awslogs", Options={
            "awslogs-group": Ref(log_group), "awslogs-region": Ref("AWS::Region"),
            "awslogs-stream-prefix": props.container_name}))
    task = template.add_resource(ecs.TaskDefinition(
        "TaskDefinition", Family=props.task_family, Cpu=str(props.cpu), Memory=str(props.memory),
        NetworkMode="awsvpc", RequiresCompatibilities=["FARGATE"],
        RuntimePlatform=ecs.RuntimePlatform(OperatingSystemFamily="LINUX", CpuArchitecture="X86_64"),
        ExecutionRoleArn=GetAtt(execution_role, "Arn"), TaskRoleArn=GetAtt(task_role, "Arn"),
        ContainerDefinitions=[container]))
    ComputeOutputs.cluster_arn.emit(template, GetAtt(cluster, "Arn"))
    ComputeOutputs.cluster_name.emit(template, Ref(cluster))
    ComputeOutputs.task_definition_arn.emit(template, Ref(task))
    ComputeOutputs.task_role_arn.emit(template, GetAtt(task_role, "Arn"))
    ComputeOutputs.execution_role_arn.emit(template, GetAtt(execution_role, "Arn"))
    ComputeOutputs.log_group_name.emit(template, Ref(log_group))
    ComputeOutputs.container_name.emit(template, props.container_name)
    return template
