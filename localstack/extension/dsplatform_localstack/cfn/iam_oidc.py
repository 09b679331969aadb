"""AWS::IAM::OIDCProvider (the community runtime has no provider for it): a real provider in LocalStack's IAM.

Ref and GetAtt Arn are the provider's ARN, as on AWS. Url is create-only (a new URL replaces the provider);
ClientIdList, ThumbprintList and Tags are updated in place. Properties AWS refuses fail the resource with a
reason naming the property before IAM is called; IAM's own refusals (a provider for that URL already exists in
the account) fail it with IAM's message. Nothing validates a token against the provider here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError
from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import failed, ok
from dsplatform_localstack.cfn.iam_oidc_props import create_request, problem, update_calls
from dsplatform_localstack.cfn.plugins import _Plugin


def _failed(request: Any, model: dict[str, Any], message: str) -> Any:
    return failed(request, model, message, "InvalidRequest")


class OidcProviderProvider(ResourceProvider[dict]):
    """CreateOpenIDConnectProvider / client id, thumbprint and tag updates / DeleteOpenIDConnectProvider."""

    TYPE = "AWS::IAM::OIDCProvider"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/Arn"],
        "readOnlyProperties": ["/properties/Arn"],
        "createOnlyProperties": ["/properties/Url"],
    }

    def create(self, request: Any) -> Any:
        """Check the properties, then CreateOpenIDConnectProvider; Arn (Ref) is the ARN IAM answers."""
        model = request.desired_state
        reason = problem(model)
        if reason:
            return _failed(request, model, reason)
        try:
            answer = request.aws_client_factory.iam.create_open_id_connect_provider(**create_request(model))
        except ClientError as err:
            return _failed(request, model, str(err))
        model["Arn"] = answer["OpenIDConnectProviderArn"]
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """Client ids added/removed, the thumbprint list replaced, tags set/removed (the ARN stays)."""
        previous = request.previous_state or {}
        model = request.desired_state
        model["Arn"] = previous["Arn"]
        reason = problem(model)
        if reason:
            return _failed(request, model, reason)
        iam = request.aws_client_factory.iam
        try:
            for operation, params in update_calls(previous, model):
                getattr(iam, operation)(OpenIDConnectProviderArn=model["Arn"], **params)
        except ClientError as err:
            return _failed(request, model, str(err))
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteOpenIDConnectProvider; a provider already gone counts as deleted (as CloudFormation does)."""
        model = request.desired_state
        if model.get("Arn"):
            try:
                request.aws_client_factory.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=model["Arn"])
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "NoSuchEntity":
                    raise
        return ok(request, model)


class OidcProviderPlugin(_Plugin):
    """AWS::IAM::OIDCProvider."""

    name = "AWS::IAM::OIDCProvider"
    _module, _class = "dsplatform_localstack.cfn.iam_oidc", "OidcProviderProvider"
