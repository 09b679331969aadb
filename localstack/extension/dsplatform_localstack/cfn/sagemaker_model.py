"""AWS::SageMaker::Model and AWS::SageMaker::EndpointConfig: Ref is the ARN; GetAtt the name (as on AWS).

Both are immutable on AWS: every property but Tags forces a replacement, which the engine performs.
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


class SageMakerModelProvider(ResourceProvider[dict]):
    """CreateModel in moto's SageMaker backend."""

    TYPE = "AWS::SageMaker::Model"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Id"],
        "createOnlyProperties": [f"/properties/{p}" for p in ("ModelName", *_MODEL_PROPERTIES)],
    }

    def create(self, request: Any) -> Any:
        """CreateModel; Id (what Ref returns) is the model ARN."""
        model = request.desired_state
        model.setdefault("ModelName", default_name(request))
        kwargs = {p: api_value(model[p], p) for p in _MODEL_PROPERTIES if model.get(p) is not None}
        if tags(model):
            kwargs["Tags"] = tags(model)
        model["Id"] = request.aws_client_factory.sagemaker.create_model(ModelName=model["ModelName"], **kwargs)[
            "ModelArn"]
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """Only Tags change in place (the engine replaces the model for anything else)."""
        model = {**(request.previous_state or {}), **request.desired_state}
        model["Id"] = (request.previous_state or {}).get("Id")
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteModel (a model already gone is fine)."""
        model = request.desired_state
        client = request.aws_client_factory.sagemaker
        try:
            client.delete_model(ModelName=model["ModelName"])
        except client.exceptions.ClientError as err:
            if "Could not find" not in str(err):
                raise
        return ok(request, model)


class SageMakerEndpointConfigProvider(ResourceProvider[dict]):
    """CreateEndpointConfig in moto's SageMaker backend (instance types are recorded, not provisioned)."""

    TYPE = "AWS::SageMaker::EndpointConfig"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Id"],
        "createOnlyProperties": [f"/properties/{p}" for p in ("EndpointConfigName", *_CONFIG_PROPERTIES)],
    }

    def create(self, request: Any) -> Any:
        """CreateEndpointConfig; Id (what Ref returns) is the config ARN."""
        model = request.desired_state
        model.setdefault("EndpointConfigName", default_name(request))
        kwargs = {p: api_value(model[p], p) for p in _CONFIG_PROPERTIES if model.get(p) is not None}
        if tags(model):
            kwargs["Tags"] = tags(model)
        model["Id"] = request.aws_client_factory.sagemaker.create_endpoint_config(
            EndpointConfigName=model["EndpointConfigName"], **kwargs)["EndpointConfigArn"]
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """Only Tags change in place (the engine replaces the config for anything else)."""
        model = {**(request.previous_state or {}), **request.desired_state}
        model["Id"] = (request.previous_state or {}).get("Id")
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteEndpointConfig (a config already gone is fine)."""
        model = request.desired_state
        client = request.aws_client_factory.sagemaker
        try:
            client.delete_endpoint_config(EndpointConfigName=model["EndpointConfigName"])
        except client.exceptions.ClientError as err:
            if "Could not find" not in str(err):
                raise
        return ok(request, model)
