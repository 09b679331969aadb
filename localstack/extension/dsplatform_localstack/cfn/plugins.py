"""plux plugins that LocalStack's CloudFormation engine loads by resource type name."""

from __future__ import annotations

from localstack.services.cloudformation.resource_provider import (
    CloudFormationResourceProviderPlugin,
    ResourceProvider,
)


class _Plugin(CloudFormationResourceProviderPlugin):
    _module = ""
    _class = ""

    def __init__(self) -> None:
        self.factory: type[ResourceProvider] | None = None

    def load(self) -> None:
        """Import the provider class only when CloudFormation needs this type."""
        import importlib

        self.factory = getattr(importlib.import_module(self._module), self._class)


class EcsClusterPlugin(_Plugin):
    """AWS::ECS::Cluster."""

    name = "AWS::ECS::Cluster"
    _module, _class = "dsplatform_localstack.cfn.ecs_cluster", "EcsClusterProvider"


class EcsTaskDefinitionPlugin(_Plugin):
    """AWS::ECS::TaskDefinition."""

    name = "AWS::ECS::TaskDefinition"
    _module, _class = "dsplatform_localstack.cfn.ecs_taskdefinition", "EcsTaskDefinitionProvider"


class EcsServicePlugin(_Plugin):
    """AWS::ECS::Service."""

    name = "AWS::ECS::Service"
    _module, _class = "dsplatform_localstack.cfn.ecs_service", "EcsServiceProvider"


class EcrRepositoryPlugin(_Plugin):
    """AWS::ECR::Repository."""

    name = "AWS::ECR::Repository"
    _module, _class = "dsplatform_localstack.cfn.ecr_repository", "EcrRepositoryProvider"


class CloudWatchDashboardPlugin(_Plugin):
    """AWS::CloudWatch::Dashboard."""

    name = "AWS::CloudWatch::Dashboard"
    _module, _class = "dsplatform_localstack.cfn.cloudwatch_dashboard", "CloudWatchDashboardProvider"
