"""AWS::SageMaker::Model and AWS::SageMaker::EndpointConfig: Ref is the ARN; GetAtt the name (as on AWS).

Both are immutable on AWS: every property but Tags forces a replacement, which the engine performs. They differ
only in their API names, so one provider class serves both, configured by class attributes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok
from dsplatform_localstack.cfn.sagemaker_props import api_value, default_name, tags

_MODEL_PROPERTIES = ("ExecutionRoleArn", "PrimaryContainer", "Containers", "VpcConfig", "EnableNetworkIsolation",
                     "InferenceExecutionConfig")
_CONFIG_PROPERTIES = ("ProductionVariants", "DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig",
                      "ShadowProductionVariants")


def _schema(type_name: str, name_property: str, properties: tuple[str, ...]) -> dict[str, Any]:
    return {
        "typeName": type_name,
        "properties": {},
        "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Id"],
        "createOnlyProperties": [f"/properties/{p}" for p in (name_property, *properties)],
    }


class _ImmutableSageMakerProvider(ResourceProvider[dict]):
    """Create<Thing> / Delete<Thing> in moto's SageMaker backend; Id (what Ref returns) is the ARN."""

    NAME: ClassVar[str]  # the name property, e.g. ModelName
    PROPERTIES: ClassVar[tuple[str, ...]]  # the properties passed to the create call
    CREATE: ClassVar[str]  # client method names and the ARN key of the create response
    DELETE: ClassVar[str]
    ARN: ClassVar[str]

    def create(self, request: Any) -> Any:
        """The create call with the template's properties (and tags); the ARN becomes Id."""
        model = request.desired_state
        model.setdefault(self.NAME, default_name(request))
        kwargs = {p: api_value(model[p], p) for p in self.PROPERTIES if model.get(p) is not None}
        if tags(model):
            kwargs["Tags"] = tags(model)
        client = request.aws_client_factory.sagemaker
        model["Id"] = getattr(client, self.CREATE)(**{self.NAME: model[self.NAME]}, **kwargs)[self.ARN]
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """Only Tags change in place (the engine replaces the resource for anything else)."""
        model = {**(request.previous_state or {}), **request.desired_state}
        model["Id"] = (request.previous_state or {}).get("Id")
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """The delete call (a resource already gone is fine)."""
        model = request.desired_state
        client = request.aws_client_factory.sagemaker
        try:
            getattr(client, self.DELETE)(**{self.NAME: model[self.NAME]})
        except client.exceptions.ClientError as err:
            if "Could not find" not in str(err):
                raise
        return ok(request, model)


class SageMakerModelProvider(_ImmutableSageMakerProvider):
    """CreateModel in moto's SageMaker backend."""

    TYPE = "AWS::SageMaker::Model"
    SCHEMA: ClassVar[dict[str, Any]] = _schema(TYPE, "ModelName", _MODEL_PROPERTIES)
    NAME, PROPERTIES = "ModelName", _MODEL_PROPERTIES
    CREATE, DELETE, ARN = "create_model", "delete_model", "ModelArn"


class SageMakerEndpointConfigProvider(_ImmutableSageMakerProvider):
    """CreateEndpointConfig in moto's SageMaker backend (instance types are recorded, not provisioned)."""

    TYPE = "AWS::SageMaker::EndpointConfig"
    SCHEMA: ClassVar[dict[str, Any]] = _schema(TYPE, "EndpointConfigName", _CONFIG_PROPERTIES)
    NAME, PROPERTIES = "EndpointConfigName", _CONFIG_PROPERTIES
    CREATE, DELETE, ARN = "create_endpoint_config", "delete_endpoint_config", "EndpointConfigArn"
