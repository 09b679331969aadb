"""AWS::SageMaker::Endpoint: Ref is the ARN, GetAtt EndpointName; waits until InService, fails with the reason.

A new EndpointConfigName is an in-place UpdateEndpoint (blue/green); if it fails, the old config keeps serving
and the stack update fails with the endpoint's FailureReason, as on AWS.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import failed, ok
from dsplatform_localstack.cfn.sagemaker_props import default_name, tags

_WAIT_SECONDS = 900.0  # the replica's own ping timeout ends a bad start well before this
_POLL_SECONDS = 0.25


def _failed(request: Any, model: dict[str, Any], message: str) -> Any:
    return failed(request, model, message, "GeneralServiceException")


def _wait(client: Any, name: str, busy: str) -> dict[str, Any]:
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        described = client.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] != busy or time.monotonic() > deadline:
            return dict(described)
        time.sleep(_POLL_SECONDS)


class SageMakerEndpointProvider(ResourceProvider[dict]):
    """CreateEndpoint / UpdateEndpoint / DeleteEndpoint, each waited on as CloudFormation does."""

    TYPE = "AWS::SageMaker::Endpoint"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Id"],
        "createOnlyProperties": ["/properties/EndpointName"],
    }

    def create(self, request: Any) -> Any:
        """CreateEndpoint, then wait for InService (or fail with FailureReason)."""
        model = request.desired_state
        model.setdefault("EndpointName", default_name(request))
        client = request.aws_client_factory.sagemaker
        kwargs: dict[str, Any] = {"EndpointName": model["EndpointName"],
                                  "EndpointConfigName": model["EndpointConfigName"]}
        if tags(model):
            kwargs["Tags"] = tags(model)
        model["Id"] = client.create_endpoint(**kwargs)["EndpointArn"]
        described = _wait(client, model["EndpointName"], "Creating")
        if described["EndpointStatus"] != "InService":
            # The rollback skips resources whose create failed, so remove the Failed endpoint here (as the AWS
            # handler's rollback does); otherwise the next deploy finds the name taken.
            client.delete_endpoint(EndpointName=model["EndpointName"])
            return _failed(request, model, f"Endpoint {model['EndpointName']} is {described['EndpointStatus']}: "
                                           f"{described.get('FailureReason', 'no reason given')}")
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """UpdateEndpoint to the new config and wait; a rolled-back update fails the resource with the reason."""
        previous = request.previous_state or {}
        model = {**previous, **request.desired_state, "Id": previous.get("Id")}
        if model["EndpointConfigName"] == previous.get("EndpointConfigName"):
            return ok(request, model)
        client = request.aws_client_factory.sagemaker
        client.update_endpoint(EndpointName=model["EndpointName"], EndpointConfigName=model["EndpointConfigName"])
        described = _wait(client, model["EndpointName"], "Updating")
        if described.get("FailureReason") or described["EndpointStatus"] != "InService":
            return _failed(request, model, f"Endpoint {model['EndpointName']} update failed: "
                                           f"{described.get('FailureReason', described['EndpointStatus'])}")
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteEndpoint (its replica stops); an endpoint already gone is fine."""
        model = request.desired_state
        client = request.aws_client_factory.sagemaker
        try:
            client.delete_endpoint(EndpointName=model["EndpointName"])
        except client.exceptions.ClientError as err:
            if "Could not find" not in str(err):
                raise
        return ok(request, model)
