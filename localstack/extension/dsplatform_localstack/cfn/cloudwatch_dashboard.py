"""AWS::CloudWatch::Dashboard (absent from the community runtime): Ref is the dashboard name."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok


class CloudWatchDashboardProvider(ResourceProvider[dict]):
    """PutDashboard / DeleteDashboards against LocalStack's CloudWatch."""

    TYPE = "AWS::CloudWatch::Dashboard"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/DashboardName"],
        "readOnlyProperties": [],
        "createOnlyProperties": ["/properties/DashboardName"],
    }

    def _put(self, request: Any, model: dict[str, Any]) -> Any:
        body = model["DashboardBody"]
        request.aws_client_factory.cloudwatch.put_dashboard(
            DashboardName=model["DashboardName"], DashboardBody=body if isinstance(body, str) else json.dumps(body)
        )
        return ok(request, model)

    def create(self, request: Any) -> Any:
        """PutDashboard with the body as given (a JSON string, as in templates)."""
        model = request.desired_state
        if not model.get("DashboardName"):
            model["DashboardName"] = util.generate_default_name(request.stack_name, request.logical_resource_id)
        return self._put(request, model)

    def update(self, request: Any) -> Any:
        """PutDashboard again (the body is replaced in place)."""
        return self._put(request, {**(request.previous_state or {}), **request.desired_state})

    def delete(self, request: Any) -> Any:
        """DeleteDashboards."""
        request.aws_client_factory.cloudwatch.delete_dashboards(DashboardNames=[request.desired_state["DashboardName"]])
        return ok(request, request.desired_state)
