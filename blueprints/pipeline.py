"""Pipeline: AWS CodePipeline delivering the project, with CodeBuild stages whose buildspecs come from config.

Source (an S3 object in the artifact bucket, or a CodeStar connection to GitHub) -> Test -> optional dev
approval -> Deliver (images, deploy, e2e of the delivered environment) -> required approval -> Promote (the
promotion gate into the target environment, through its account's deploy role). Each approval is announced on
an SNS topic; a failed execution is announced on another, through an EventBridge rule. Both topics, the artifact
bucket and the builds' artifacts are encrypted with the pipeline's own KMS key; the bucket is private, TLS-only,
versioned and retained. Every stage has its own role: a build can use its log group, the artifacts, and (deliver,
promote) assume exactly one deploy role; the pipeline's role can start exactly these builds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from awacs import codebuild as cb_actions
from awacs import codepipeline as cp_actions
from awacs import s3 as s3_actions
from awacs import sns as sns_actions
from awacs import sts
from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
)
from troposphere import GetAtt, Join, Ref, Sub, Template, codebuild, codepipeline, events, iam, kms, s3, sns
from troposphere import logs as logs_res

from blueprints.alerts import topic_key_policy
from blueprints.common import new_template, retain
from blueprints.grants import (
    KMS_ENCRYPT,
    KMS_PUBLISH,
    LOGS_WRITE,
    assume_role_policy,
    objects_of,
    policy,
    statement,
)
from blueprints.outputs import Key, Outputs

S3_ARTIFACTS = (s3_actions.GetObject, s3_actions.GetObjectVersion, s3_actions.PutObject)
S3_BUCKET_READ = (s3_actions.GetBucketVersioning, s3_actions.GetBucketLocation, s3_actions.ListBucket)
BUILD_START = (cb_actions.StartBuild, cb_actions.BatchGetBuilds)
CONNECTION_USE = (Action("codestar-connections", "UseConnection"),)
PIPELINE_START = (cp_actions.StartPipelineExecution,)
# Services that encrypt with the pipeline's key on their own behalf (rule targets publish to the failure topic).
PUBLISHING_SERVICES = ("events.amazonaws.com",)
FAILED_STATES = ("FAILED",)


class PipelineOutputs(Outputs):
    """Outputs of the pipeline stack."""

    pipeline_name = Key("CodePipeline pipeline name")
    artifact_bucket_name = Key("artifact bucket of the pipeline (and of its S3 source)")
    source_key = Key("object key of the source zip (S3 source only)", required=False)
    approval_topic_arn = Key("SNS topic announcing manual approvals")
    failure_topic_arn = Key("SNS topic announcing failed executions")
    pipeline_key_arn = Key("KMS key encrypting the artifacts and topics")


@dataclass(frozen=True)
class BuildStage:
    """One CodeBuild project: its logical id stem, name, generated buildspec, role, and the deploy role it assumes."""

    stem: str  # PascalCase, e.g. Test, Deliver, Promote (logical ids are a contract)
    project_name: str
    role_name: str
    buildspec: str
    assume_roles: tuple[str, ...] = ()  # deploy roles it may assume: the environment it deploys (and, promoting,
    # the source environment whose evidence it reads)


@dataclass(frozen=True)
class PipelineProps:
    """Inputs of the pipeline blueprint (all names from the naming module, buildspecs from delivery stages)."""

    name: str
    role_name: str
    artifact_bucket: str
    approval_topic: str
    failure_topic: str
    failure_rule: str
    source_rule: str
    trigger_role_name: str
    test: BuildStage
    deliver: BuildStage
    promote: BuildStage | None = None
    deliver_env: str = "dev"
    promote_env: str | None = None
    dev_approval: bool = False
    source_kind: str = "s3"  # or "codestar"
    source_key: str = "source/source.zip"
    connection_arn: str | None = None
    repository: str | None = None  # owner/name (codestar)
    branch: str = "main"
    approval_emails: tuple[str, ...] = ()
    failure_emails: tuple[str, ...] = ()
    compute_type: str = "BUILD_GENERAL1_SMALL"
    image: str = "aws/codebuild/standard:7.0"
    timeout_minutes: int = 60
    log_retention_days: int = 30
    environment_variables: tuple[tuple[str, str], ...] = ()  # every build's plain variables


def _key(template: Template) -> kms.Key:
    return template.add_resource(retain(kms.Key(
        "PipelineKey", Description="dsplatform delivery pipeline", EnableKeyRotation=True,
        KeyPolicy=topic_key_policy(PUBLISHING_SERVICES))))


def _bucket(template: Template, props: PipelineProps, key: kms.Key) -> s3.Bucket:
    # With an S3 source, object events go to EventBridge, where the source rule starts the pipeline (no polling).
    to_bus = s3.EventBridgeConfiguration(EventBridgeEnabled=True)
    events_on = s3.NotificationConfiguration(EventBridgeConfiguration=to_bus)
    extra = {"NotificationConfiguration": events_on} if props.source_kind == "s3" else {}
    default = s3.ServerSideEncryptionByDefault(SSEAlgorithm="aws:kms", KMSMasterKeyID=GetAtt(key, "Arn"))
    bucket = template.add_resource(retain(s3.Bucket(
        "ArtifactBucket", BucketName=props.artifact_bucket,
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[
            s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=default, BucketKeyEnabled=True)]),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        # Versioned: CodePipeline's S3 source requires it, and a re-run can name the exact source it built.
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[
            s3.LifecycleRule(Id="AbortIncompleteMultipartUploads", Status="Enabled", Prefix="",
                             AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(DaysAfterInitiation=7)),
            s3.LifecycleRule(Id="ExpireNoncurrentVersions", Status="Enabled", Prefix="",
                             NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=90))]),
        **extra)))
    # A Deny on every S3 action is the documented TLS-only pattern; it narrows access, it grants nothing.
    template.add_resource(s3.BucketPolicy("ArtifactBucketPolicy", Bucket=Ref(bucket), PolicyDocument=PolicyDocument(
        Version="2012-10-17", Statement=[Statement(
            Sid="DenyInsecureTransport", Effect=Deny, Principal=Principal("*"), Action=[s3_actions.Action("*")],
            Resource=[GetAtt(bucket, "Arn"), objects_of(GetAtt(bucket, "Arn"))],
            Condition=Condition(Bool({"aws:SecureTransport": "false"})))])))
    return bucket


def _topic(template: Template, stem: str, name: str, key: kms.Key, emails: tuple[str, ...]) -> sns.Topic:
    topic = template.add_resource(sns.Topic(f"{stem}Topic", TopicName=name, DisplayName=f"dsplatform {stem.lower()}",
                                            KmsMasterKeyId=GetAtt(key, "Arn")))
    for email in emails:
        # Keyed by the address, so removing one subscriber never replaces the others.
        digest = hashlib.sha256(email.lower().encode()).hexdigest()[:10].upper()
        template.add_resource(sns.SubscriptionResource(
            f"{stem}Email{digest}", TopicArn=Ref(topic), Protocol="email", Endpoint=email))
    return topic


def _artifact_grants(bucket: s3.Bucket, key: kms.Key) -> list[Statement]:
    return [statement("Artifacts", S3_ARTIFACTS, [objects_of(GetAtt(bucket, "Arn"))]),
            statement("ArtifactBucket", S3_BUCKET_READ, [GetAtt(bucket, "Arn")]),
            statement("ArtifactKey", KMS_ENCRYPT, [GetAtt(key, "Arn")])]


def _build(template: Template, props: PipelineProps, stage: BuildStage, bucket: s3.Bucket,
           key: kms.Key) -> codebuild.Project:
    log_group = template.add_resource(logs_res.LogGroup(
        f"{stage.stem}LogGroup", LogGroupName=f"/aws/codebuild/{stage.project_name}",
        RetentionInDays=props.log_retention_days))
    statements = [*_artifact_grants(bucket, key),
                  statement("Logs", LOGS_WRITE, [GetAtt(log_group, "Arn")])]
    if stage.assume_roles:
        statements.append(statement("AssumeDeployRole", (sts.AssumeRole,), list(stage.assume_roles)))
    role = template.add_resource(iam.Role(
        f"{stage.stem}Role", RoleName=stage.role_name,
        AssumeRolePolicyDocument=assume_role_policy("codebuild.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName=f"{stage.stem.lower()}-build", PolicyDocument=policy(*statements))]))
    variables = [codebuild.EnvironmentVariable(Name=name, Value=value, Type="PLAINTEXT")
                 for name, value in props.environment_variables]
    extra = {"EnvironmentVariables": variables} if variables else {}
    return template.add_resource(codebuild.Project(
        f"{stage.stem}Project", Name=stage.project_name, ServiceRole=GetAtt(role, "Arn"),
        EncryptionKey=GetAtt(key, "Arn"), TimeoutInMinutes=props.timeout_minutes,
        Source=codebuild.Source(Type="CODEPIPELINE", BuildSpec=stage.buildspec),
        Artifacts=codebuild.Artifacts(Type="CODEPIPELINE"),
        Environment=codebuild.Environment(Type="LINUX_CONTAINER", ComputeType=props.compute_type, Image=props.image,
                                          PrivilegedMode=False, **extra),
        LogsConfig=codebuild.LogsConfig(CloudWatchLogs=codebuild.CloudWatchLogs(
            Status="ENABLED", GroupName=Ref(log_group)))))


def _action(name: str, category: str, provider: str, configuration: dict[str, object], *,
            inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = (), owner: str = "AWS") -> codepipeline.Actions:
    extra: dict[str, object] = {}
    if inputs:
        extra["InputArtifacts"] = [codepipeline.InputArtifacts(Name=n) for n in inputs]
    if outputs:
        extra["OutputArtifacts"] = [codepipeline.OutputArtifacts(Name=n) for n in outputs]
    return codepipeline.Actions(
        Name=name, ActionTypeId=codepipeline.ActionTypeId(Category=category, Owner=owner, Provider=provider,
                                                          Version="1"),
        Configuration=configuration, RunOrder=1, **extra)


def _source(props: PipelineProps, bucket: s3.Bucket) -> codepipeline.Actions:
    if props.source_kind == "codestar":
        return _action("Source", "Source", "CodeStarSourceConnection", {
            "ConnectionArn": props.connection_arn, "FullRepositoryId": props.repository,
            "BranchName": props.branch, "OutputArtifactFormat": "CODE_ZIP"}, outputs=("Source",))
    # No polling: putting the archive starts a run through the source rule (``_source_trigger``).
    return _action("Source", "Source", "S3", {"S3Bucket": Ref(bucket), "S3ObjectKey": props.source_key,
                                               "PollForSourceChanges": "false"}, outputs=("Source",))


def _approval(name: str, topic: sns.Topic, message: str) -> codepipeline.Stages:
    return codepipeline.Stages(Name=name, Actions=[_action(name, "Approval", "Manual", {
        "NotificationArn": Ref(topic), "CustomData": message})])


def _stages(props: PipelineProps, bucket: s3.Bucket, projects: dict[str, codebuild.Project],
            approvals: sns.Topic) -> list[codepipeline.Stages]:
    def build(name: str, stem: str) -> codepipeline.Stages:
        return codepipeline.Stages(Name=name, Actions=[_action(name, "Build", "CodeBuild", {
            "ProjectName": Ref(projects[stem])}, inputs=("Source",))])

    stages = [codepipeline.Stages(Name="Source", Actions=[_source(props, bucket)]), build("Test", "Test")]
    if props.dev_approval:
        stages.append(_approval("ApproveDev", approvals, f"deploy to {props.deliver_env}?"))
    stages.append(build("Deliver", "Deliver"))
    if props.promote is not None:
        stages += [_approval("ApprovePromotion", approvals,
                             f"promote what passed e2e in {props.deliver_env} to {props.promote_env}?"),
                   build("Promote", "Promote")]
    return stages


def _pipeline_role(template: Template, props: PipelineProps, bucket: s3.Bucket, key: kms.Key,
                   projects: dict[str, codebuild.Project], approvals: sns.Topic) -> iam.Role:
    statements = [*_artifact_grants(bucket, key),
                  statement("StartBuilds", BUILD_START, [GetAtt(p, "Arn") for p in projects.values()]),
                  statement("AnnounceApprovals", (sns_actions.Publish,), [Ref(approvals)]),
                  statement("ApprovalTopicKey", KMS_PUBLISH, [GetAtt(key, "Arn")])]
    if props.source_kind == "codestar":
        statements.append(statement("UseConnection", CONNECTION_USE, [props.connection_arn]))
    return template.add_resource(iam.Role(
        "PipelineRole", RoleName=props.role_name,
        AssumeRolePolicyDocument=assume_role_policy("codepipeline.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="pipeline", PolicyDocument=policy(*statements))]))


def _failures(template: Template, props: PipelineProps, pipeline: codepipeline.Pipeline, topic: sns.Topic) -> None:
    rule = template.add_resource(events.Rule(
        "FailureRule", Name=props.failure_rule, State="ENABLED",
        Description="a failed execution of the delivery pipeline -> the failure topic",
        EventPattern={"source": ["aws.codepipeline"],
                      "detail-type": ["CodePipeline Pipeline Execution State Change"],
                      "detail": {"state": list(FAILED_STATES), "pipeline": [Ref(pipeline)]}},
        Targets=[events.Target(Id="FailureTopic", Arn=Ref(topic))]))
    template.add_resource(sns.TopicPolicy("FailureTopicPolicy", Topics=[Ref(topic)], PolicyDocument=PolicyDocument(
        Version="2012-10-17", Statement=[Statement(
            Sid="RulePublishes", Effect=Allow, Principal=Principal("Service", ["events.amazonaws.com"]),
            Action=[sns_actions.Publish], Resource=[Ref(topic)],
            Condition=Condition(ArnEquals({"aws:SourceArn": GetAtt(rule, "Arn")})))])))


def _source_trigger(template: Template, props: PipelineProps, bucket: s3.Bucket,
                    pipeline: codepipeline.Pipeline) -> None:
    arn = Join(":", [Sub("arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}"), Ref(pipeline)])
    role = template.add_resource(iam.Role(
        "SourceTriggerRole", RoleName=props.trigger_role_name,
        AssumeRolePolicyDocument=assume_role_policy("events.amazonaws.com", Ref("AWS::AccountId")),
        Policies=[iam.Policy(PolicyName="start-pipeline", PolicyDocument=policy(
            statement("StartPipeline", PIPELINE_START, [arn])))]))
    template.add_resource(events.Rule(
        "SourceRule", Name=props.source_rule, State="ENABLED",
        Description="the source archive put in the artifact bucket -> a pipeline run",
        EventPattern={"source": ["aws.s3"], "detail-type": ["Object Created"],
                      "detail": {"bucket": {"name": [Ref(bucket)]}, "object": {"key": [props.source_key]}}},
        Targets=[events.Target(Id="Pipeline", Arn=arn, RoleArn=GetAtt(role, "Arn"))]))


def build(props: PipelineProps) -> Template:
    """Render the pipeline template."""
    template = new_template("delivery pipeline (CodePipeline, CodeBuild, approvals, failure notifications)")
    key = _key(template)
    bucket = _bucket(template, props, key)
    approvals = _topic(template, "Approval", props.approval_topic, key, props.approval_emails)
    failures = _topic(template, "Failure", props.failure_topic, key, props.failure_emails)
    stages = [props.test, props.deliver, *([props.promote] if props.promote else [])]
    projects = {stage.stem: _build(template, props, stage, bucket, key) for stage in stages}
    role = _pipeline_role(template, props, bucket, key, projects, approvals)
    pipeline = template.add_resource(codepipeline.Pipeline(
        "Pipeline", Name=props.name, RoleArn=GetAtt(role, "Arn"), RestartExecutionOnUpdate=False,
        ArtifactStore=codepipeline.ArtifactStore(
            Type="S3", Location=Ref(bucket),
            EncryptionKey=codepipeline.EncryptionKey(Id=GetAtt(key, "Arn"), Type="KMS")),
        Stages=_stages(props, bucket, projects, approvals)))
    _failures(template, props, pipeline, failures)
    if props.source_kind == "s3":
        _source_trigger(template, props, bucket, pipeline)
    PipelineOutputs.pipeline_name.emit(template, Ref(pipeline))
    PipelineOutputs.artifact_bucket_name.emit(template, Ref(bucket))
    if props.source_kind == "s3":
        PipelineOutputs.source_key.emit(template, props.source_key)
    PipelineOutputs.approval_topic_arn.emit(template, Ref(approvals))
    PipelineOutputs.failure_topic_arn.emit(template, Ref(failures))
    PipelineOutputs.pipeline_key_arn.emit(template, GetAtt(key, "Arn"))
    return template
