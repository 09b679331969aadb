"""Offline fix for CloudFormation's unsupported-type check (CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=0).

Without network LocalStack can't fetch its remote service catalog and falls back to a runtime-only catalog
that answers "unknown" for every type, so the check rejects even S3 buckets. Here a type is available
exactly when a resource provider plugin (LocalStack's or this extension's) exists for it.
"""

from __future__ import annotations

_DISTRIBUTION = "dsplatform-localstack"  # localstack/extension/pyproject.toml [project] name


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
    """Register every resource provider this extension declares, winning over same-named community ones.

    Two reasons. Precedence: plux keeps the last of two plugins with one name, in entry-point discovery order,
    which is not fixed (the community AWS::ECR::Repository is a mock). Freshness: plux indexes entry points in a
    file under ~/.cache/plux keyed by the mtimes of sys.path and its entry_points.txt files packed as 32-bit
    floats (128 s steps today), so an extension reinstalled within a couple of minutes of the last start reads the
    old index and a newly declared type is "not currently supported". The extension's own distribution metadata
    (importlib.metadata, no cache) is the list here; the index entries are replaced explicitly (plux internals,
    pinned by constraints.txt).
    """
    from importlib.metadata import distribution

    from localstack.services.cloudformation.resource_provider import plugin_manager
    from plux import PluginSpec

    declared = [ep for ep in distribution(_DISTRIBUTION).entry_points if ep.group == plugin_manager.namespace]
    for entry_point in declared:
        plugin_class = entry_point.load()
        spec = PluginSpec(plugin_manager.namespace, plugin_class.name, factory=plugin_class)
        plugin_manager._plugins[plugin_class.name] = plugin_manager._create_container(spec)
