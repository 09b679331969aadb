"""What the fidelity report knows about LocalStack here: per resource type and property, what is emulated and how.

The tables are facts about the pinned LocalStack (``native_types``) plus this project's extension; the report
(``dsplatform.localstack.coverage``) applies them to the synthesized templates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

NATIVE = "native"
EXTENSION = "extension"
NOT_EMULATED = "not emulated"

# Types this project's extension provides (localstack/extension/pyproject.toml entry points). The community
# AWS::ECR::Repository is a mock without a repository; the extension's replaces it.
EXTENSION_TYPES: frozenset[str] = frozenset(
    {
        "AWS::ECS::Cluster",
        "AWS::ECS::TaskDefinition",
        "AWS::ECS::Service",
        "AWS::ECR::Repository",
        "AWS::CloudWatch::Dashboard",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::SageMaker::Model",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::Endpoint",
        "AWS::CodeBuild::Project",
        "AWS::CodePipeline::Pipeline",
        "AWS::IAM::OIDCProvider",
    }
)

# Properties the community providers accept but do not apply, and that the extension applies instead.
EXTENSION_APPLIED: Mapping[str, tuple[str, ...]] = {
    "AWS::S3::Bucket": (
        "LifecycleConfiguration",
        "BucketEncryption",
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "AccessControl",
    ),
    "AWS::Logs::LogGroup": ("RetentionInDays",),
    "AWS::EC2::SecurityGroup": ("SecurityGroupIngress", "SecurityGroupEgress"),
    "AWS::EC2::VPC": ("EnableDnsHostnames", "EnableDnsSupport"),
    "AWS::IAM::Role": ("Description",),
    "AWS::DynamoDB::Table": ("PointInTimeRecoverySpecification", "TimeToLiveSpecification"),
}

# Community types whose in-place update the extension implements (or re-applies its own properties for).
EXTENSION_UPDATES: frozenset[str] = frozenset(
    {
        "AWS::Events::Rule",
        "AWS::CloudWatch::Alarm",
        "AWS::S3::BucketPolicy",
        "AWS::Lambda::Alias",  # FunctionVersion, Description, provisioned concurrency (cfn_lambda.py)
        "AWS::Lambda::EventInvokeConfig",  # destinations, retries, event age
    }
)
PARTIAL_UPDATES: Mapping[str, str] = {
    "AWS::S3::Bucket": "only the properties the extension applies are updated",
    "AWS::Logs::LogGroup": "only RetentionInDays is updated",
    "AWS::EC2::VPC": "only the DNS attributes are updated",
    "AWS::EC2::SecurityGroup": "inline rules are not updated",
    "AWS::DynamoDB::Table": "only PointInTimeRecoverySpecification and TimeToLiveSpecification are updated",
    "AWS::Lambda::Version": "none needed: its properties are create-only on AWS too (a change publishes a version)",
}

# Properties accepted but silently not applied, still (found by reading the pinned providers' create code).
NOT_APPLIED: Mapping[str, Mapping[str, str]] = {
    "AWS::Logs::LogGroup": {"KmsKeyId": "not applied", "DataProtectionPolicy": "not applied"},
    "AWS::ECS::Service": {
        "PlacementConstraints": "stored; tasks run as local processes, never placed",
        "PlacementStrategies": "stored; tasks run as local processes, never placed",
        "CapacityProviderStrategy": "stored; every task runs as a local process (as FARGATE)",
        "ServiceRegistries": "stored; no Cloud Map registration",
        "ServiceConnectConfiguration": "not applied",
        "DeploymentController": "only the ECS rolling deployment controller runs (CODE_DEPLOY/EXTERNAL are stored)",
    },
    "AWS::ElasticLoadBalancingV2::Listener": {
        "Certificates": "TLS is not terminated: an HTTPS listener serves plain HTTP on its local port",
        "SslPolicy": "TLS is not terminated locally",
        "MutualAuthentication": "not applied",
    },
    "AWS::ElasticLoadBalancingV2::LoadBalancer": {
        "SecurityGroups": "stored, not enforced: any local client reaches the listeners",
        "LoadBalancerAttributes": (
            "stored; access logs are written (bucket and policy checked as ELB does) every "
            "DSPLATFORM_ACCESS_LOG_SECONDS seconds (default 5, AWS: 5 minutes) with the TLS fields as '-'; "
            "connection logs, idle timeout and WAF settings are not applied"),
    },
    "AWS::ElasticLoadBalancingV2::TargetGroup": {
        "TargetGroupAttributes": (
            "only deregistration_delay.timeout_seconds is applied (stickiness, slow start are not)"
        ),
    },
    "AWS::SageMaker::EndpointConfig": {
        "DataCaptureConfig": "stored; no request or response is captured to S3",
        "KmsKeyId": "stored; the local replica has no volume to encrypt",
        "AsyncInferenceConfig": "stored; InvokeEndpointAsync is not emulated",
        "ShadowProductionVariants": "stored; no shadow traffic is sent",
    },
    "AWS::SageMaker::Model": {
        "VpcConfig": "stored; the replica listens on loopback",
        "EnableNetworkIsolation": "stored; the replica can reach the network",
    },
    "AWS::Lambda::Function": {
        "MemorySize": "reported to the handler, not enforced (a local process has no memory limit)",
        "Architectures": "ignored: the handler runs on this machine's architecture",
        "Layers": "not made available to the local process",
        "VpcConfig": "stored; the process uses this machine's network",
        "ReservedConcurrentExecutions": "stored; local environments are not capped by it",
    },
    "AWS::Lambda::Alias": {
        "RoutingConfig": "weighted routing is not emulated: a weighted update fails the resource (LocalStack's"
        " UpdateAlias raises on AdditionalVersionWeights)",
    },
    "AWS::CodeBuild::Project": {
        "Environment": "the image is not run: commands use this machine's tools (DSPLATFORM_CODEBUILD_PATH first on"
        " PATH); ComputeType, PrivilegedMode, runtime-versions and the image's preinstalled tools are not emulated",
        "VpcConfig": "stored; builds use this machine's network",
        "Cache": "stored; nothing is cached between builds",
        "Triggers": "not applied: no webhooks (GitHub, CodeStar connections) start builds",
        "SecondaryArtifacts": "stored; only the primary artifact is uploaded",
        "FileSystemLocations": "not applied (no EFS mounts)",
        "ConcurrentBuildLimit": "stored; builds are not queued by it",
        "QueuedTimeoutInMinutes": "stored; builds never queue",
    },
    "AWS::CodePipeline::Pipeline": {
        "Triggers": "stored; V2 triggers (git push, pull request, tags) never start an execution (EventBridge rules"
        " targeting the pipeline do)",
        "ArtifactStore": "the bucket is used; EncryptionKey is recorded, artifacts are written with the bucket's"
        " default encryption",
    },
    "AWS::DynamoDB::Table": {
        "ContributorInsightsSpecification": "not applied",
        "KinesisStreamSpecification": "not applied (no Kinesis streaming from moto's tables)",
    },
}

# Amazon States Language features of a state machine's definition that LocalStack (2026.3.0 + the extension)
# rejects: the state machine is not created, so the stack fails. Pattern over the definition's JSON text.
ASL_UNSUPPORTED: Mapping[str, tuple[re.Pattern[str], str]] = {
    "ItemBatcher": (
        re.compile(r'\\?"ItemBatcher\\?"'),
        "Distributed Map ItemBatcher is refused by LocalStack's ASL parser (InvalidDefinition); run one item per child",
    ),
    "ItemReader InputType MANIFEST": (
        re.compile(r'\\?"InputType\\?"\s*:\s*\\?"MANIFEST\\?"'),
        "S3 inventory manifests as Distributed Map input are refused by LocalStack's ASL parser",
    ),
}
STATE_MACHINE_TYPES = frozenset({"AWS::StepFunctions::StateMachine"})

# Behaviour that differs from AWS whatever the properties (shown once per type present).
TYPE_NOTES: Mapping[str, str] = {
    "AWS::IAM::Role": "IAM policies are stored but not enforced",
    "AWS::S3::BucketPolicy": "stored but not enforced",
    "AWS::ECS::TaskDefinition": (
        "tasks run as local processes (image -> containers/<name>/ or python:X.Y); an image never pushed runs its "
        "registered source, where AWS cannot start the task until the image is in ECR"
    ),
    "AWS::EC2::VPCEndpoint": "created in EC2's model only; traffic never leaves the machine",
    "AWS::ECS::Service": (
        "desired count kept as local processes (one loopback address each, 0.0.0.0 mapped to it), registered in "
        "target groups, replaced when they die or fail health checks; rolling deployments by minimum/maximum "
        "percent; circuit breaker with rollback; no auto scaling acts on it"
    ),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        "each listener is a real HTTP server on 127.0.0.1 at a free port, found through the listener's tag "
        "dsplatform:local-url (dsplatform.localstack.endpoints); the DNS name does not resolve; access logs are "
        "delivered to S3 in ELB's format once ELB's bucket-policy check passes"
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        "real HTTP health checks (path, port, interval, timeout, thresholds, matcher) and connection draining; "
        "intervals under AWS's minimum are accepted; fails open when every target is unhealthy, as ALB does"
    ),
    "AWS::ElasticLoadBalancingV2::Listener": (
        "forward (weighted), redirect and fixed-response actions; round-robin over healthy targets; "
        "authenticate-* actions are not run"
    ),
    "AWS::ElasticLoadBalancingV2::ListenerRule": (
        "path-pattern, host-header, http-request-method, http-header and query-string conditions; "
        "source-ip conditions never match"
    ),
    "AWS::ApplicationAutoScaling::ScalableTarget": "stored (moto); nothing scales locally: no metrics drive policies",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "stored (moto); nothing scales locally: no metrics drive policies",
    "AWS::EC2::SecurityGroupIngress": "the rule is stored in EC2, never enforced",
    "AWS::EC2::SecurityGroupEgress": "the rule is stored in EC2, never enforced",
    "AWS::SageMaker::Model": (
        "the image maps to containers/<name>/ and runs `serve` as a local process; by digest (or the digest ECR "
        "holds under its tag) it runs the source snapshot taken when that digest was pushed; creating a name that "
        "exists overwrites it (moto), where AWS refuses (the deployer deletes a kept copy first); Retain policies "
        "are honoured"),
    "AWS::SageMaker::EndpointConfig": (
        "only the first production variant is served, by one local process: InstanceType, InitialInstanceCount "
        "and variant weights are recorded, not provisioned; a change that reaches it only through Fn::GetAtt of a "
        "replaced Model is not propagated (the change-set engine decides replacements statically): put the "
        "version in ModelName and EndpointConfigName; creating a name that exists overwrites it (moto), where AWS "
        "refuses; UpdateReplacePolicy/DeletionPolicy Retain are honoured (the replaced config stays for rollback)"),
    "AWS::SageMaker::Endpoint": (
        "one local replica; updates are blue/green with rollback (no canary or linear traffic shifting); no "
        "CloudWatch metrics (latency, 5xx alarms never fire), no container logs in CloudWatch, no auto scaling"),
    "AWS::Lambda::Function": "invoked as a local process (pythonX.Y runtimes only; venv from the code's"
    " requirements.txt + boto3); timeout, logs, warm reuse, async retries and destinations as on AWS",
    "AWS::Lambda::Version": "published from $LATEST; a Version whose logical id changes is a new version",
    "AWS::Lambda::Permission": "stored but not enforced (any caller may invoke)",
    "AWS::Lambda::Alias": "FunctionVersion updated in place by the extension; weighted routing is not emulated",
    "AWS::Lambda::EventInvokeConfig": "retries and destinations applied, an alias's to events sent to the alias"
    " (the extension's fix)",
    "AWS::Events::Rule": "event patterns and targets work (S3 object events via EventBridge, Step Functions status)",
    "AWS::CodeBuild::Project": "StartBuild runs the buildspec (0.2: env variables/parameter-store/secrets-manager,"
    " phases with commands, finally and on-failure, artifacts files) as local bash commands in a scratch copy of the"
    " S3 or pipeline source; phase statuses, exit codes, timeouts and CloudWatch logs as on AWS; S3, CODEPIPELINE and"
    " NO_SOURCE sources only (no GitHub/CodeCommit/CodeStar connections); no reports, batch builds or webhooks",
    "AWS::CodePipeline::Pipeline": "executions run for real (started on create, as AWS does): S3 source, CodeBuild"
    " build/test, manual approval (SNS message, PutApprovalResult) and CloudFormation deploy actions; EventBridge"
    " state-change events; other action providers (CodeStar connections, ECR, ECS, Lambda, cross-account RoleArn)"
    " fail the action; #{namespace.name} variables resolve (pipeline variables, execution id, S3 source, CodeBuild"
    " exported-variables, CloudFormation outputs)",
    "AWS::IAM::OIDCProvider": "created in LocalStack's IAM (Ref and GetAtt Arn are its ARN; client ids, thumbprints"
    " and tags update in place; properties AWS refuses fail the resource); nothing checks a web identity token"
    " (a GitHub token's claims) against the provider or a role's trust policy, and no thumbprint is fetched",
    "AWS::DynamoDB::Table": "served by moto (PROVIDER_OVERRIDE_DYNAMODB=moto): point-in-time recovery and SSE are"
    " reported as on AWS but nothing is backed up or encrypted; no capacity limits",
}


# CloudFormation engine behaviour that differs from AWS whatever the templates (shown in every report).
ENGINE_NOTES: Mapping[str, str] = {
    "rollback triggers": (
        "emulated by the extension (cfn_triggers): kept per stack, checked before an update (missing or ALARM "
        "fails it), watched during it and for MonitoringTimeInMinutes after, then the previous template applied "
        "again (UPDATE_ROLLBACK_COMPLETE). A monitoring minute lasts DSPLATFORM_MONITORING_SECONDS_PER_MINUTE "
        "seconds here (default 60; the tests use 2); the window starts after the engine's cleanup, not before; a "
        "resource the update replaced or removed comes back as a new one (new physical id); creates are not "
        "watched; a monitoring time without triggers does not wait; the event reason is the extension's wording"),
    "failed deletes": (
        "a resource whose delete fails is marked DELETE_FAILED, but the stack still ends DELETE_COMPLETE (AWS ends "
        "the stack DELETE_FAILED and keeps it); a delete that fails with a not-found error counts as deleted"),
}
