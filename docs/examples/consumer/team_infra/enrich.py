"""Component ``enrich``: the team's own batch job, run on the stock cluster, writing to the stock output bucket.

Everything about it is here: its typed outputs, its blueprint (a pure function of typed props), how its props
come from config, its dependencies, its job image (``containers/enrich``) and where its scenarios live.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import ecr, s3, sts
from awacs import logs as logs_actions
from awacs.aws import Allow, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Join, Ref, Sub, Template, ecs, iam, logs
from troposphere import ecr as ecr_res

from blueprints.outputs import Key, Outputs
from blueprints.storage import StorageOutputs
from dsplatform.components import Component, Context, Image

JOB = "enrich"
PREFIX = "enriched/"


class EnrichOutputs(Outputs):
    """What the enrich stack tells its readers (the scenario reads it through this class)."""

    repository_name = Key("ECR repository of the enrich job")
    task_definition_arn = Key("task definition of the enrich job")
    container_name = Key("container name in the task definition")
    log_group_name = Key("log group of the enrich job")


@dataclass(frozen=True)
class EnrichProps:
    """Inputs of the enrich blueprint (names come from dsplatform's naming module)."""

    repository: str
    family: str
    container: str
    log_group: str
    retention_days: int = 7


def _role(logical: str, statements: list[Statement]) -> iam.Role:
    trust = PolicyDocument(Version="2012-10-17", Statement=[Statement(
        Effect=Allow, Action=[sts.AssumeRole],
        Principal=Principal("Service", ["ecs-tasks.amazonaws.com"]))])
    return iam.Role(logical, AssumeRolePolicyDocument=trust, Policies=[iam.Policy(
        PolicyName=logical.lower(), PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements))])


def build(props: EnrichProps) -> Template:
    """The enrich job: its repository, log group, roles (least privilege) and Fargate task definition."""
    template = Template(Description="ml: enrich job")
    bucket_arn = Ref(StorageOutputs.output_bucket_arn.parameter(template, "output bucket ARN (storage stack)"))
    bucket = Ref(StorageOutputs.output_bucket_name.parameter(template, "output bucket (storage stack)"))
    repo = template.add_resource(ecr_res.Repository(
        "Repository", RepositoryName=props.repository, ImageTagMutability="MUTABLE",
        ImageScanningConfiguration=ecr_res.ImageScanningConfiguration(ScanOnPush=True),
        EncryptionConfiguration=ecr_res.EncryptionConfiguration(EncryptionType="AES256")))
    group = template.add_resource(logs.LogGroup("LogGroup", LogGroupName=props.log_group,
                                                RetentionInDays=props.retention_days))
    task_role = template.add_resource(_role("TaskRole", [Statement(
        Effect=Allow, Action=[s3.PutObject], Resource=[Join("", [bucket_arn, f"/{PREFIX}*"])])]))
    execution_role = template.add_resource(_role("ExecutionRole", [
        Statement(Effect=Allow, Action=[ecr.BatchGetImage, ecr.GetDownloadUrlForLayer,
                                        ecr.BatchCheckLayerAvailability], Resource=[GetAtt(repo, "Arn")]),
        Statement(Effect=Allow, Action=[ecr.GetAuthorizationToken], Resource=["*"]),
        Statement(Effect=Allow, Action=[logs_actions.CreateLogStream, logs_actions.PutLogEvents],
                  Resource=[GetAtt(group, "Arn")])]))
    task = template.add_resource(ecs.TaskDefinition(
        "TaskDefinition", Family=props.family, Cpu="256", Memory="512", NetworkMode="awsvpc",
        RequiresCompatibilities=["FARGATE"], TaskRoleArn=GetAtt(task_role, "Arn"),
        ExecutionRoleArn=GetAtt(execution_role, "Arn"),
        ContainerDefinitions=[ecs.ContainerDefinition(
            Name=props.container, Essential=True, Image=Sub("${Uri}:latest", Uri=GetAtt(repo, "RepositoryUri")),
            Environment=[ecs.Environment(Name="OUTPUT_BUCKET", Value=bucket),
                         ecs.Environment(Name="OUTPUT_PREFIX", Value=PREFIX)],
            LogConfiguration=ecs.LogConfiguration(LogDriver="awslogs", Options={
                "awslogs-group": Ref(group), "awslogs-region": Ref("AWS::Region"),
                "awslogs-stream-prefix": props.container}))]))
    EnrichOutputs.repository_name.emit(template, Ref(repo))
    EnrichOutputs.task_definition_arn.emit(template, Ref(task))
    EnrichOutputs.container_name.emit(template, props.container)
    EnrichOutputs.log_group_name.emit(template, Ref(group))
    return template


def props(ctx: Context) -> EnrichProps:
    """Props from config: every name from dsplatform's naming module, so environments never collide."""
    return EnrichProps(repository=ctx.names.repository(JOB), family=ctx.names.task_family(JOB),
                       container=ctx.names.container(JOB), log_group=ctx.names.log_group(JOB),
                       retention_days=ctx.env.settings.logs.retention_days)


ENRICH = Component("enrich", build, props, EnrichOutputs, depends_on=("storage",), images=(Image(JOB),),
                   scenarios="scenarios")
