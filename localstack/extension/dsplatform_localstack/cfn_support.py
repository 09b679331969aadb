"""Offline fix for CloudFormation's unsupported-type check (CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0).

Without network LocalStack can't fetch its remote service catalog and falls back to a runtime-only catalog
that answers "unknown" for every type, so the check rejects even S3 buckets. Here a type is available
exactly when a resource provider plugin (LocalStack's or this extension's) exists for it.
"""

from __future__ import annotations


def install() -> None:
    """Make the runtime-only catalog answer from the installed resource provider plugins."""
    from localstack.utils.catalog.catalog import AwsCatalogRuntimePlugin
    from localstack.utils.catalog.common import (
        CloudFormationResourcesSupportAtRuntime,
        CloudFormationResourcesSupportInLatest,
    )

    def get_cloudformation_resource_status(self, resource_name, service_name, is_pro_resource=False):  # type: ignore[no-untyped-def]
        # The checker sets is_pro_resource when no provider plugin is registered under that type name.
        if is_pro_resource:
            return CloudFormationResourcesSupportInLatest.NOT_SUPPORTED
        return CloudFormationResourcesSupportAtRuntime.AVAILABLE

    AwsCatalogRuntimePlugin.get_cloudformation_resource_status = get_cloudformation_resource_status


def prefer_extension_providers() -> None:
    """Make this extension's providers win over same-named community ones (AWS::ECR::Repository is a mock there).

    plux keeps the last of two plugins with one name, in entry-point discovery order, which is not fixed;
    so the index entries are replaced explicitly (plux internals, pinned by constraints.txt).
    """
    from localstack.services.cloudformation.resource_provider import plugin_manager
    from plux import PluginSpec

    from dsplatform_localstack.cfn import plugins

    for plugin_class in plugins.ALL:
        spec = PluginSpec(plugin_manager.namespace, plugin_class.name, factory=plugin_class)
        plugin_manager._plugins[plugin_class.name] = plugin_manager._create_container(spec)
