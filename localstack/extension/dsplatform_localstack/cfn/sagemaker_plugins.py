"""plux plugins for the SageMaker resource types (kept apart from plugins.py, which other types share)."""

from __future__ import annotations

from dsplatform_localstack.cfn.plugins import _Plugin


class SageMakerModelPlugin(_Plugin):
    """AWS::SageMaker::Model."""

    name = "AWS::SageMaker::Model"
    _module, _class = "dsplatform_localstack.cfn.sagemaker_model", "SageMakerModelProvider"


class SageMakerEndpointConfigPlugin(_Plugin):
    """AWS::SageMaker::EndpointConfig."""

    name = "AWS::SageMaker::EndpointConfig"
    _module, _class = "dsplatform_localstack.cfn.sagemaker_model", "SageMakerEndpointConfigProvider"


class SageMakerEndpointPlugin(_Plugin):
    """AWS::SageMaker::Endpoint."""

    name = "AWS::SageMaker::Endpoint"
    _module, _class = "dsplatform_localstack.cfn.sagemaker_endpoint", "SageMakerEndpointProvider"
