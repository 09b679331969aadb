"""AWS::ECS::Cluster: Ref is the cluster name, GetAtt Arn its ARN (as on AWS)."""

from __future__ import annotations

from typing import Any, ClassVar

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import camel, ecs_tags, ok


class EcsClusterProvider(ResourceProvider[dict]):
    """Creates real clusters in moto's ECS backend."""

    TYPE = "AWS::ECS::Cluster"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/ClusterName"],
        "readOnlyProperties": ["/properties/Arn"],
        "createOnlyProperties": ["/properties/ClusterName"],
    }

    def create(self, request: Any) -> Any:
        """CreateCluster with settings, capacity providers and tags."""
        model = request.desired_state
        if not model.get("ClusterName"):
            model["ClusterName"] = util.generate_default_name(request.stack_name, request.logical_resource_id)
        kwargs: dict[str, Any] = {"clusterName": model["ClusterName"]}
        if model.get("ClusterSettings"):
            kwargs["settings"] = camel(model["ClusterSettings"])
        if model.get("CapacityProviders"):
            kwargs["capacityProviders"] = model["CapacityProviders"]
        if model.get("DefaultCapacityProviderStrategy"):
            kwargs["defaultCapacityProviderStrategy"] = camel(model["DefaultCapacityProviderStrategy"])
        if model.get("Configuration"):
            kwargs["configuration"] = camel(model["Configuration"])
        if model.get("Tags"):
            kwargs["tags"] = ecs_tags(model["Tags"])
        cluster = request.aws_client_factory.ecs.create_cluster(**kwargs)["cluster"]
        model["Arn"] = cluster["clusterArn"]
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """UpdateClusterSettings (the name is create-only, so a rename replaces the cluster)."""
        model = {**(request.previous_state or {}), **request.desired_state}
        model["ClusterName"] = (request.previous_state or {}).get("ClusterName", model.get("ClusterName"))
        ecs = request.aws_client_factory.ecs
        if model.get("ClusterSettings"):
            ecs.update_cluster_settings(cluster=model["ClusterName"], settings=camel(model["ClusterSettings"]))
        model["Arn"] = ecs.describe_clusters(clusters=[model["ClusterName"]])["clusters"][0]["clusterArn"]
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteCluster."""
        request.aws_client_factory.ecs.delete_cluster(cluster=request.desired_state["ClusterName"])
        return ok(request, request.desired_state)
