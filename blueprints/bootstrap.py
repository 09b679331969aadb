"""The account bootstrap (as `cdk bootstrap`): deploy role, CloudFormation execution role, assets bucket,
GitHub OIDC provider and role, the cross-account artifact read, and the bootstrap version.

One stack per account and region, deployed once by an administrator before any environment stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Ref, Sub, Template, iam, s3, ssm

from blueprints.bootstrap_scope import EXECUTION_SCOPE
from blueprints.common import new_template, retain
from blueprints.outputs import Key, Outputs

GITHUB_ISSUER = "token.actions.githubusercontent.com"

# What the deploy role's callers (`invoke deploy/rollback/promote/destroy`, `invoke e2e --keep`, CI) call
# themselves, beside handing CloudFormation its execution role: change sets on the project's stacks, the deploy
# lock and bootstrap version in SSM, the job images in ECR, the assets bucket, the native rollback of services,
# aliases and endpoints, the SageMaker versions kept outside their stacks, the data a purging destroy deletes,
# and reading what it deployed. Scoped to the project's names wherever AWS scopes the action; "*" only where
# AWS authorizes the call on "*" alone (listings, DescribeStacks without a stack name, describes of EC2, ECS task
# definitions, the registry token). tests/deploy_role.py checks every call the workflows make against this.
_ARN = "arn:${AWS::Partition}"
_HERE = "${AWS::Region}:${AWS::AccountId}"
# The services the deploy role may pass the stacks' own roles to (statement PassStackRoles).
STACK_ROLE_SERVICES = ("sagemaker.amazonaws.com", "events.amazonaws.com", "ecs-tasks.amazonaws.com")
DEPLOY_ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Stacks": (("cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet", "cloudformation:DeleteChangeSet",
                "cloudformation:DescribeStackEvents", "cloudformation:ListStackResources",
                "cloudformation:GetTemplate", "cloudformation:DeleteStack",
                "cloudformation:UpdateTerminationProtection"),
               (f"{_ARN}:cloudformation:{_HERE}:stack/{{project}}-*/*",)),
    # One DescribeStacks listing reads every stack of a plan (deployer.inventory); without a StackName AWS
    # authorizes it on "*" only.
    "ListStacks": (("cloudformation:ListStacks", "cloudformation:ValidateTemplate",
                    "cloudformation:DescribeStacks"), ("*",)),
    "LockAndVersion": (("ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"),
                       (f"{_ARN}:ssm:{_HERE}:parameter/dsplatform/*",)),
    "PushImages": (("ecr:BatchCheckLayerAvailability", "ecr:PutImage", "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:BatchGetImage", "ecr:DescribeImages",
                    "ecr:ListImages", "ecr:BatchDeleteImage"),
                   (f"{_ARN}:ecr:{_HERE}:repository/{{project}}-*",)),
    "RegistryToken": (("ecr:GetAuthorizationToken",), ("*",)),
    # `invoke rollback` moves what runs back natively before the change sets reconcile (dsplatform.native); a
    # release records what runs (GetAlias, DescribeServices, DescribeEndpoint); deploys wait for services.
    "NativeServices": (("ecs:DescribeServices", "ecs:UpdateService"),
                       (f"{_ARN}:ecs:{_HERE}:service/{{project}}-*",)),
    "NativeAliases": (("lambda:GetAlias", "lambda:UpdateAlias"), (f"{_ARN}:lambda:{_HERE}:function:{{project}}-*",)),
    # UpdateEndpoint is authorized on the endpoint and on the config it moves to; InvokeEndpoint is the model
    # promotion's comparison and the serving smoke scenario.
    "NativeEndpoints": (("sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:InvokeEndpoint"),
                        (f"{_ARN}:sagemaker:{_HERE}:endpoint/{{project}}-*",
                         f"{_ARN}:sagemaker:{_HERE}:endpoint-config/{{project}}-*")),
    # Models and configs kept outside their stack for rollbacks (deployer.retained): read before a change set,
    # freed when a change set creates the same name, copied to a standby the endpoint runs meanwhile, swept
    # on destroy. SageMaker names are lower case in ARNs.
    "KeptServingVersions": (("sagemaker:DescribeModel", "sagemaker:DescribeEndpointConfig", "sagemaker:CreateModel",
                             "sagemaker:CreateEndpointConfig", "sagemaker:DeleteModel",
                             "sagemaker:DeleteEndpointConfig"),
                            (f"{_ARN}:sagemaker:{_HERE}:model/{{project}}-*",
                             f"{_ARN}:sagemaker:{_HERE}:endpoint-config/{{project}}-*")),
    "ListServingVersions": (("sagemaker:ListModels", "sagemaker:ListEndpointConfigs"), ("*",)),
    # `invoke destroy --purge-data`: the data buckets and the ingest catalogue table outlive their stacks
    # (DeletionPolicy Retain), so the destroy deletes them itself once emptied. Protected environments never.
    "PurgeData": (("s3:DeleteBucket", "dynamodb:DeleteTable"),
                  (f"{_ARN}:s3:::{{project}}-*", f"{_ARN}:dynamodb:{_HERE}:table/{{project}}-*")),
    # `invoke model.stage` and `invoke promote` write the environment's model-version parameter.
    "ModelParameter": (("ssm:PutParameter",), (f"{_ARN}:ssm:{_HERE}:parameter/{{project}}/*",)),
    # `invoke e2e --keep` in the delivery workflow runs the scenarios with this role: the project's data, its
    # executions, their logs and configuration, and the promotion records (in the artifact bucket).
    "EndToEndData": (("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket",
                      "s3:ListBucketVersions", "s3:DeleteObjectVersion"),
                     (f"{_ARN}:s3:::{{project}}-*",)),
    "EndToEndRuns": (("states:StartExecution", "states:DescribeExecution", "states:GetExecutionHistory",
                      "states:ListExecutions", "states:StopExecution", "states:DescribeStateMachine",
                      "states:ListMapRuns", "states:DescribeMapRun"),
                     (f"{_ARN}:states:{_HERE}:stateMachine:{{project}}-*",
                      f"{_ARN}:states:{_HERE}:execution:{{project}}-*:*",
                      f"{_ARN}:states:{_HERE}:mapRun:{{project}}-*")),
    "EndToEndLogs": (("logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams"),
                     (f"{_ARN}:logs:{_HERE}:log-group:/ecs/{{project}}-*",
                      f"{_ARN}:logs:{_HERE}:log-group:/ecs/{{project}}-*:*")),
    "EndToEndConfig": (("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"),
                       (f"{_ARN}:ssm:{_HERE}:parameter/{{project}}/*",)),
    # The schedule scenario puts a probe rule (named with the project's prefix) with the deployed target and
    # fires it once through the default bus.
    "EndToEndProbeRule": (("events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule",
                           "events:ListTargetsByRule"),
                          (f"{_ARN}:events:{_HERE}:rule/{{project}}-*",)),
    "EndToEndProbeEvent": (("events:PutEvents",), (f"{_ARN}:events:{_HERE}:event-bus/default",)),
    # Alerts are observed through a queue the run subscribes to the job's topic (both the project's names).
    "EndToEndAlerts": (("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
                        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sns:Subscribe"),
                       (f"{_ARN}:sqs:{_HERE}:{{project}}-*", f"{_ARN}:sns:{_HERE}:{{project}}-*")),
    # Subscriptions are no IAM resource type: SNS authorizes Unsubscribe on "*" only.
    "EndToEndUnsubscribe": (("sns:Unsubscribe",), ("*",)),
    # The alarm scenarios set an alarm's state to see it notify (CloudWatch re-evaluates it afterwards).
    "EndToEndAlarms": (("cloudwatch:SetAlarmState",), (f"{_ARN}:cloudwatch:{_HERE}:alarm:{{project}}-*",)),
    # The ingest scenarios read and remove their catalogue items, and invoke and inspect the live function.
    "EndToEndIngest": (("dynamodb:GetItem", "dynamodb:DeleteItem", "lambda:GetFunctionConfiguration",
                        "lambda:GetFunctionEventInvokeConfig", "lambda:PutFunctionEventInvokeConfig",
                        "lambda:InvokeFunction"),
                       (f"{_ARN}:dynamodb:{_HERE}:table/{{project}}-*",
                        f"{_ARN}:lambda:{_HERE}:function:{{project}}-*")),
    # The api scenarios register a revision of the deployed task definition and stop its tasks.
    "EndToEndApiTasks": (("ecs:StopTask",), (f"{_ARN}:ecs:{_HERE}:task/{{project}}-*",)),
    # Read-only describes of the security and api scenarios; these calls take no resource-level permission (or read
    # roles and policies by whatever name CloudFormation gave them), and ECS task definitions have none.
    "EndToEndChecks": (("cloudwatch:DescribeAlarms", "sns:ListSubscriptionsByTopic", "sns:GetTopicAttributes",
                        "events:DescribeRule", "ecs:DescribeTasks", "ecs:ListTasks", "ecs:DescribeTaskDefinition",
                        "ecs:RegisterTaskDefinition", "ecr:DescribeRepositories", "iam:GetRole",
                        "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
                        "iam:GetPolicy", "iam:GetPolicyVersion", "logs:DescribeLogGroups",
                        "s3:GetBucketPolicy", "s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock",
                        "s3:GetBucketVersioning", "ec2:DescribeSecurityGroups", "ec2:DescribeRouteTables",
                        "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeListeners",
                        "elasticloadbalancing:DescribeTags"),
                       ("*",)),
    "Notify": (("sns:Publish",), (f"{_ARN}:sns:{_HERE}:{{project}}-*",)),
    "Assets": (("s3:GetObject", "s3:PutObject", "s3:ListBucket"),
               (f"{_ARN}:s3:::{{assets}}", f"{_ARN}:s3:::{{assets}}/*")),
}


class BootstrapOutputs(Outputs):
    """What `invoke deploy` and CI read from the bootstrap stack."""

    bootstrap_version = Key("version of the bootstrap template deployed in this account and region")
    deploy_role_arn = Key("role CI and the tooling account assume to deploy")
    execution_role_arn = Key("role CloudFormation uses to create the stacks' resources")
    assets_bucket_name = Key("bucket of deploy assets (Lambda code, templates)")
    github_role_arn = Key("role GitHub Actions assume with their OIDC token", required=False)


@dataclass(frozen=True)
class BootstrapProps:
    """Names, trusted principals and scope of one account's bootstrap (all from config and the naming module)."""

    project: str
    version: int
    deploy_role: str
    execution_role: str
    assets_bucket: str
    version_parameter: str
    resource_types: tuple[str, ...]  # the environments' resource types: the execution role's scope
    trusted_principals: tuple[str, ...] = ()  # ARNs (account roots, CI roles) trusted by the deploy role
    github_role: str | None = None
    github_subjects: tuple[str, ...] = ()  # OIDC `sub` values admitted, e.g. repo:acme/ds:ref:refs/heads/main
    create_oidc_provider: bool = True
    artifact_read_role: str | None = None
    artifact_buckets: tuple[str, ...] = ()
    artifact_readers: tuple[str, ...] = ()  # account ids that read this account's artifacts (artifacts_from)
    noncurrent_days: int = 30


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _fill(text: str, props: BootstrapProps) -> Any:
    value = text.replace("{project}", props.project).replace("{assets}", props.assets_bucket)
    return Sub(value) if "${" in value else value


def execution_statements(props: BootstrapProps) -> list[dict[str, Any]]:
    """One statement per resource type of the plan (scope table in ``bootstrap_scope``); unknown types refused."""
    unknown = sorted(set(props.resource_types) - set(EXECUTION_SCOPE))
    if unknown:
        raise ValueError(f"resource type(s) {', '.join(unknown)} have no execution scope; add them to "
                         f"blueprints/bootstrap_scope.py with their actions and reason")
    return [{"Sid": rtype.replace("AWS::", "").replace("::", ""), "Effect": "Allow",
             "Action": list(EXECUTION_SCOPE[rtype].actions),
             "Resource": [_fill(r, props) for r in EXECUTION_SCOPE[rtype].resources]}
            for rtype in sorted(set(props.resource_types))]


def _execution_role(t: Template, props: BootstrapProps) -> iam.Role:
    trust = _doc({"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
                  "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount":
                                                                               Ref("AWS::AccountId")}}})
    return t.add_resource(iam.Role(
        "ExecutionRole", RoleName=props.execution_role, AssumeRolePolicyDocument=trust,
        Policies=[iam.Policy(PolicyName="execution", PolicyDocument=_doc(*execution_statements(props)))]))


def _assets_bucket(t: Template, props: BootstrapProps) -> s3.Bucket:
    bucket = t.add_resource(retain(s3.Bucket(
        "AssetsBucket", BucketName=props.assets_bucket,
        BucketEncryption=s3.BucketEncryption(ServerSideEncryptionConfiguration=[
            s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                SSEAlgorithm="AES256"))]),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True),
        OwnershipControls=s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        LifecycleConfiguration=s3.LifecycleConfiguration(Rules=[s3.LifecycleRule(
            Id="ExpireOldVersions", Status="Enabled",
            NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(NoncurrentDays=props.noncurrent_days),
            AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(DaysAfterInitiation=7))]))))
    arn = GetAtt(bucket, "Arn")
    t.add_resource(s3.BucketPolicy("AssetsBucketPolicy", Bucket=Ref(bucket), PolicyDocument=_doc(
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, Sub("${B}/*", B=arn)], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})))
    return bucket


def _github(t: Template, props: BootstrapProps, deploy_arn: Any) -> iam.Role | None:
    if not props.github_role or not props.github_subjects:
        return None
    if props.create_oidc_provider:
        provider = t.add_resource(iam.OIDCProvider(
            "GitHubOidcProvider", Url=f"https://{GITHUB_ISSUER}", ClientIdList=["sts.amazonaws.com"]))
        provider_arn: Any = Ref(provider)
    else:
        provider_arn = Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{GITHUB_ISSUER}")
    # Exact subjects (StringEquals, no wildcards): only these branches and GitHub environments of one repository.
    trust = _doc({"Effect": "Allow", "Principal": {"Federated": provider_arn},
                  "Action": "sts:AssumeRoleWithWebIdentity",
                  "Condition": {"StringEquals": {f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com",
                                                 f"{GITHUB_ISSUER}:sub": list(props.github_subjects)}}})
    # The OIDC role only hands over to the deploy role (whose session the deployer uses) and notifies.
    handover = _doc({"Sid": "AssumeDeployRole", "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"],
                     "Resource": [deploy_arn]},
                    {"Sid": "Notify", "Effect": "Allow", "Action": ["sns:Publish"],
                     "Resource": [Sub(f"arn:${{AWS::Partition}}:sns:${{AWS::Region}}:${{AWS::AccountId}}:"
                                      f"{props.project}-*")]})
    return t.add_resource(iam.Role("GitHubRole", RoleName=props.github_role, AssumeRolePolicyDocument=trust,
                                   MaxSessionDuration=3600,
                                   Policies=[iam.Policy(PolicyName="handover", PolicyDocument=handover)]))


def _artifact_read(t: Template, props: BootstrapProps) -> None:
    """A role reader accounts assume to read this account's artifact buckets (``artifacts_from``, promotion)."""
    if not props.artifact_read_role or not props.artifact_readers or not props.artifact_buckets:
        return
    trust = _doc({"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in props.artifact_readers]},
                  "Action": "sts:AssumeRole"})
    arns = [f"arn:aws:s3:::{b}" for b in props.artifact_buckets]
    t.add_resource(iam.Role("ArtifactReadRole", RoleName=props.artifact_read_role, AssumeRolePolicyDocument=trust,
                            Policies=[iam.Policy(PolicyName="artifact-read", PolicyDocument=_doc(
                                {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                                 "Resource": [f"{a}/*" for a in arns]},
                                {"Sid": "List", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": arns}))]))


def build(props: BootstrapProps) -> Template:
    """The bootstrap template of one account and region."""
    t = new_template(f"dsplatform bootstrap of project {props.project}, version {props.version}")
    execution = _execution_role(t, props)
    bucket = _assets_bucket(t, props)
    deploy_arn = Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{props.deploy_role}")
    github = _github(t, props, deploy_arn)
    trusted: list[Any] = list(props.trusted_principals) + ([GetAtt(github, "Arn")] if github else [])
    deploy_statements: list[dict[str, Any]] = [{"Sid": sid, "Effect": "Allow", "Action": list(actions),
                          "Resource": [_fill(r, props) for r in resources]}
                         for sid, (actions, resources) in DEPLOY_ACTIONS.items()]
    deploy_statements.append({"Sid": "PassExecutionRole", "Effect": "Allow", "Action": ["iam:PassRole"],
                              "Resource": [GetAtt(execution, "Arn")],
                              "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}})
    # Roles the stacks created under the project's prefix, passed back to the service that already runs them:
    # a kept SageMaker model's standby copy and the serving scenario's model (SageMaker), the schedule probe's
    # target (EventBridge), the api scenario's task definition revision (ECS tasks). Never to another service.
    deploy_statements.append({"Sid": "PassStackRoles", "Effect": "Allow", "Action": ["iam:PassRole"],
                              "Resource": [Sub(f"{_ARN}:iam::${{AWS::AccountId}}:role/{props.project}-*")],
                              "Condition": {"StringEquals": {"iam:PassedToService": list(STACK_ROLE_SERVICES)}}})
    deploy = t.add_resource(iam.Role(
        "DeployRole", RoleName=props.deploy_role,
        AssumeRolePolicyDocument=_doc({"Effect": "Allow", "Principal": {"AWS": trusted or [Sub(
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:root")]}, "Action": ["sts:AssumeRole", "sts:TagSession"]}),
        Policies=[iam.Policy(PolicyName="deploy", PolicyDocument=_doc(*deploy_statements))]))
    _artifact_read(t, props)
    t.add_resource(ssm.Parameter("BootstrapVersion", Name=props.version_parameter, Type="String",
                                 Value=str(props.version), Description="dsplatform bootstrap version"))
    BootstrapOutputs.bootstrap_version.emit(t, str(props.version))
    BootstrapOutputs.deploy_role_arn.emit(t, GetAtt(deploy, "Arn"))
    BootstrapOutputs.execution_role_arn.emit(t, GetAtt(execution, "Arn"))
    BootstrapOutputs.assets_bucket_name.emit(t, Ref(bucket))
    if github:
        BootstrapOutputs.github_role_arn.emit(t, GetAtt(github, "Arn"))
    return t
