"""The CloudFormation execution role's whole scope, in one place: per resource type, the actions and why.

`invoke bootstrap` grants the union of the rows for the resource types the environment's templates use, so a
plan without KMS keys gets no KMS action. Actions are named one by one (no wildcards). Resources are scoped to
the project's name prefix where the service allows naming by prefix (IAM roles, buckets, ECR repositories,
parameters, logs, topics, state machines, rules, alarms); VPC resources, ECS task definitions and KMS keys get
names or ids only when created, so those rows use ``*``, and the role can be assumed only by CloudFormation in
this account.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """The actions CloudFormation needs to create, update and delete one resource type, on which resources."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]  # ${AWS::...} substitutions and {project} are filled in by the blueprint
    why: str


_ARN = "arn:${AWS::Partition}"
_HERE = "${AWS::Region}:${AWS::AccountId}"

EXECUTION_SCOPE: dict[str, Scope] = {
    "AWS::S3::Bucket": Scope(
        ("s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", "s3:PutEncryptionConfiguration",
         "s3:PutBucketVersioning", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls",
         "s3:PutLifecycleConfiguration", "s3:PutBucketNotification", "s3:GetBucketLocation", "s3:ListBucket",
         "s3:GetBucketTagging", "s3:GetEncryptionConfiguration", "s3:GetBucketVersioning",
         "s3:GetBucketPublicAccessBlock", "s3:GetBucketOwnershipControls", "s3:GetLifecycleConfiguration"),
        (_ARN + ":s3:::{project}-*",), "the data, artifact and assets buckets"),
    "AWS::S3::BucketPolicy": Scope(("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
                                   (_ARN + ":s3:::{project}-*",), "TLS-only and cross-account read policies"),
    "AWS::IAM::Role": Scope(
        ("iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:TagRole", "iam:UntagRole",
         "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:UpdateAssumeRolePolicy",
         "iam:PassRole"),
        (_ARN + ":iam::${AWS::AccountId}:role/{project}-*",),
        "task, execution, state-machine and rule roles; only roles named with the project's prefix"),
    "AWS::ECR::Repository": Scope(
        ("ecr:CreateRepository", "ecr:DeleteRepository", "ecr:DescribeRepositories", "ecr:PutLifecyclePolicy",
         "ecr:DeleteLifecyclePolicy", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
         "ecr:TagResource", "ecr:SetRepositoryPolicy"),
        (_ARN + ":ecr:" + _HERE + ":repository/{project}-*",), "one repository per job image"),
    "AWS::ECS::Cluster": Scope(("ecs:CreateCluster", "ecs:DeleteCluster", "ecs:DescribeClusters", "ecs:TagResource",
                                "ecs:PutClusterCapacityProviders"),
                               (_ARN + ":ecs:" + _HERE + ":cluster/{project}-*",), "the cluster that runs the jobs"),
    "AWS::ECS::TaskDefinition": Scope(("ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                                       "ecs:DescribeTaskDefinition", "ecs:TagResource"), ("*",),
                                      "RegisterTaskDefinition has no resource-level permission"),
    "AWS::Logs::LogGroup": Scope(("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
                                  "logs:DescribeLogGroups", "logs:TagResource", "logs:TagLogGroup"),
                                 (_ARN + ":logs:" + _HERE + ":log-group:/ecs/{project}-*",
                                  _ARN + ":logs:" + _HERE + ":log-group:/aws/codebuild/{project}-*",
                                  _ARN + ":logs:" + _HERE + ":log-group::log-stream:"),
                                 "the jobs' and the pipeline builds' log groups"),
    "AWS::StepFunctions::StateMachine": Scope(
        ("states:CreateStateMachine", "states:DeleteStateMachine", "states:UpdateStateMachine",
         "states:DescribeStateMachine", "states:TagResource"),
        (_ARN + ":states:" + _HERE + ":stateMachine:{project}-*",), "one state machine per job"),
    "AWS::Events::Rule": Scope(("events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets",
                                "events:RemoveTargets", "events:EnableRule", "events:DisableRule",
                                "events:TagResource"),
                               (_ARN + ":events:" + _HERE + ":rule/{project}-*",), "the schedules"),
    "AWS::SNS::Topic": Scope(("sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
                              "sns:TagResource"), (_ARN + ":sns:" + _HERE + ":{project}-*",), "the alert topics"),
    "AWS::SNS::TopicPolicy": Scope(("sns:SetTopicAttributes", "sns:GetTopicAttributes"),
                                   (_ARN + ":sns:" + _HERE + ":{project}-*",),
                                   "who may publish to a topic (the pipeline's failure rule)"),
    "AWS::CodeBuild::Project": Scope(("codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject",
                                      "codebuild:BatchGetProjects", "iam:PassRole"),
                                     (_ARN + ":codebuild:" + _HERE + ":project/{project}-*",
                                      _ARN + ":iam::${AWS::AccountId}:role/{project}-*"),
                                     "the pipeline's build projects (component pipeline)"),
    "AWS::CodePipeline::Pipeline": Scope(("codepipeline:CreatePipeline", "codepipeline:UpdatePipeline",
                                          "codepipeline:DeletePipeline", "codepipeline:GetPipeline",
                                          "codepipeline:TagResource", "iam:PassRole"),
                                         (_ARN + ":codepipeline:" + _HERE + ":{project}-*",
                                          _ARN + ":iam::${AWS::AccountId}:role/{project}-*"),
                                         "the delivery pipeline (component pipeline)"),
    "AWS::SNS::Subscription": Scope(("sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes"),
                                    (_ARN + ":sns:" + _HERE + ":{project}-*",), "e-mail subscriptions to alerts"),
    "AWS::SSM::Parameter": Scope(("ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParameters",
                                  "ssm:AddTagsToResource"),
                                 (_ARN + ":ssm:" + _HERE + ":parameter/{project}/*",), "the jobs' configuration"),
    "AWS::CloudWatch::Alarm": Scope(("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms",
                                     "cloudwatch:DescribeAlarms", "cloudwatch:TagResource"),
                                    (_ARN + ":cloudwatch:" + _HERE + ":alarm:{project}-*",), "the jobs' alarms"),
    "AWS::CloudWatch::Dashboard": Scope(("cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards",
                                         "cloudwatch:GetDashboard"),
                                        (_ARN + ":cloudwatch::${AWS::AccountId}:dashboard/{project}-*",),
                                        "the jobs' dashboards"),
    "AWS::EC2::VPC": Scope(("ec2:CreateVpc", "ec2:DeleteVpc", "ec2:DescribeVpcs", "ec2:ModifyVpcAttribute",
                            "ec2:CreateTags", "ec2:DescribeVpcAttribute"), ("*",),
                           "VPC ids exist only after creation; EC2 create calls cannot be scoped by name"),
    "AWS::EC2::Subnet": Scope(("ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:DescribeSubnets", "ec2:CreateTags"),
                              ("*",), "as for the VPC"),
    "AWS::EC2::RouteTable": Scope(("ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:DescribeRouteTables",
                                   "ec2:CreateTags"), ("*",), "as for the VPC"),
    "AWS::EC2::SubnetRouteTableAssociation": Scope(("ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
                                                    "ec2:DescribeRouteTables"), ("*",), "as for the VPC"),
    "AWS::EC2::SecurityGroup": Scope(("ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
                                      "ec2:DescribeSecurityGroups", "ec2:AuthorizeSecurityGroupEgress",
                                      "ec2:RevokeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
                                      "ec2:RevokeSecurityGroupIngress", "ec2:CreateTags"), ("*",), "as for the VPC"),
    "AWS::EC2::VPCEndpoint": Scope(("ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:DescribeVpcEndpoints",
                                    "ec2:ModifyVpcEndpoint", "ec2:CreateTags"), ("*",), "as for the VPC"),
    "AWS::EC2::SecurityGroupIngress": Scope(("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                                             "ec2:DescribeSecurityGroupRules"), ("*",), "as for the VPC (api)"),
    "AWS::EC2::SecurityGroupEgress": Scope(("ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
                                            "ec2:DescribeSecurityGroupRules"), ("*",), "as for the VPC (api)"),
    "AWS::ECS::Service": Scope(("ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices",
                                "ecs:TagResource"),
                               (_ARN + ":ecs:" + _HERE + ":service/{project}-*",), "the api's Fargate service"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Scope(
        ("elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
         "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:ModifyLoadBalancerAttributes",
         "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups",
         "elasticloadbalancing:AddTags"),
        (_ARN + ":elasticloadbalancing:" + _HERE + ":loadbalancer/app/{project}-*",), "the api's load balancer"),
    "AWS::ElasticLoadBalancingV2::TargetGroup": Scope(
        ("elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup",
         "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:ModifyTargetGroup",
         "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroupAttributes",
         "elasticloadbalancing:AddTags"), ("*",), "target group names are generated by CloudFormation"),
    "AWS::ElasticLoadBalancingV2::Listener": Scope(
        ("elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
         "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:ModifyListener"), ("*",),
        "listener ids exist only after creation"),
    "AWS::ApplicationAutoScaling::ScalableTarget": Scope(
        ("application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
         "application-autoscaling:DescribeScalableTargets", "iam:CreateServiceLinkedRole"), ("*",),
        "Application Auto Scaling has no resource-level permissions for these calls"),
    "AWS::ApplicationAutoScaling::ScalingPolicy": Scope(
        ("application-autoscaling:PutScalingPolicy", "application-autoscaling:DeleteScalingPolicy",
         "application-autoscaling:DescribeScalingPolicies"), ("*",), "as for the scalable target"),
    "AWS::SageMaker::Model": Scope(("sagemaker:CreateModel", "sagemaker:DeleteModel", "sagemaker:DescribeModel",
                                    "sagemaker:AddTags", "iam:PassRole"),
                                   (_ARN + ":sagemaker:" + _HERE + ":model/{project}-*",
                                    _ARN + ":iam::${AWS::AccountId}:role/{project}-*"), "the serving model versions"),
    "AWS::SageMaker::EndpointConfig": Scope(("sagemaker:CreateEndpointConfig", "sagemaker:DeleteEndpointConfig",
                                             "sagemaker:DescribeEndpointConfig", "sagemaker:AddTags"),
                                            (_ARN + ":sagemaker:" + _HERE + ":endpoint-config/{project}-*",),
                                            "the serving endpoint configurations"),
    "AWS::SageMaker::Endpoint": Scope(("sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint",
                                       "sagemaker:DeleteEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:AddTags"),
                                      (_ARN + ":sagemaker:" + _HERE + ":endpoint/{project}-*",
                                       _ARN + ":sagemaker:" + _HERE + ":endpoint-config/{project}-*"),
                                      "the staging and prod endpoints (blue/green updates)"),
    "AWS::Lambda::Function": Scope(("lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction",
                                    "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                                    "lambda:TagResource", "lambda:PutFunctionConcurrency", "iam:PassRole",
                                    "s3:GetObject"),
                                   (_ARN + ":lambda:" + _HERE + ":function:{project}-*",
                                    _ARN + ":iam::${AWS::AccountId}:role/{project}-*",
                                    _ARN + ":s3:::{project}-assets-*/*"), "functions; code from the assets bucket"),
    "AWS::Lambda::Version": Scope(("lambda:PublishVersion", "lambda:GetFunction", "lambda:DeleteFunction"),
                                  (_ARN + ":lambda:" + _HERE + ":function:{project}-*",), "published versions"),
    "AWS::Lambda::Alias": Scope(("lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias", "lambda:GetAlias"),
                                (_ARN + ":lambda:" + _HERE + ":function:{project}-*",), "live aliases"),
    "AWS::Lambda::Permission": Scope(("lambda:AddPermission", "lambda:RemovePermission"),
                                     (_ARN + ":lambda:" + _HERE + ":function:{project}-*",), "invoke permissions"),
    "AWS::Lambda::EventInvokeConfig": Scope(("lambda:PutFunctionEventInvokeConfig",
                                             "lambda:UpdateFunctionEventInvokeConfig",
                                             "lambda:DeleteFunctionEventInvokeConfig",
                                             "lambda:GetFunctionEventInvokeConfig"),
                                            (_ARN + ":lambda:" + _HERE + ":function:{project}-*",),
                                            "async retries and destinations"),
    "AWS::DynamoDB::Table": Scope(("dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable",
                                   "dynamodb:UpdateTable", "dynamodb:TagResource", "dynamodb:UpdateTimeToLive",
                                   "dynamodb:DescribeTimeToLive", "dynamodb:UpdateContinuousBackups",
                                   "dynamodb:DescribeContinuousBackups"),
                                  (_ARN + ":dynamodb:" + _HERE + ":table/{project}-*",), "tables of components"),
    "AWS::SQS::Queue": Scope(("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes",
                              "sqs:SetQueueAttributes", "sqs:TagQueue"),
                             (_ARN + ":sqs:" + _HERE + ":{project}-*",), "queues (dead letters)"),
    "AWS::KMS::Key": Scope(("kms:CreateKey", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:PutKeyPolicy",
                            "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:GetKeyPolicy",
                            "kms:GetKeyRotationStatus"), ("*",), "key ids exist only after creation"),
}
