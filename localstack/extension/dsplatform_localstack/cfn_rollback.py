"""After a failed stack update, keep the stack on its previous template, as AWS's UPDATE_ROLLBACK_COMPLETE does.

The pinned v2 engine records the failed change set's template and resources on the stack anyway, so the
next change set is computed against resources that never existed and fails ("No deployed instances of
resource ..."). Its UpdateStack (without change sets) even reports UPDATE_COMPLETE after a failed resource.
Both now end in UPDATE_ROLLBACK_COMPLETE on the previous template. Resources the failed update already
created or changed are not reverted here.

Deleting a stack also called the delete handler of resources that had failed to create (no physical id),
which can fail (e.g. an invalid bucket name) and leave the stack DELETE_FAILED; AWS skips them.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_SKIP = threading.local()  # set while the executor removes a resource that was never created
_KEPT = ("template", "processed_template", "template_body", "resolved_parameters", "resolved_resources")


def install() -> None:
    """Wrap the v2 change set executor: on a failed UPDATE, hand the previous state back to the provider."""
    from localstack.aws.api.cloudformation import ChangeSetType, StackStatus
    from localstack.services.cloudformation.engine.v2.change_set_model_executor import (
        ChangeSetModelExecutor,
        ChangeSetModelExecutorResult,
    )

    original = ChangeSetModelExecutor.execute

    def execute(self: Any) -> Any:
        change_set = self._change_set
        stack = change_set.stack
        # UpdateStack runs its change set as a CREATE on a stack that is UPDATE_IN_PROGRESS.
        via_update_stack = (
            change_set.change_set_type == ChangeSetType.CREATE and stack.status == StackStatus.UPDATE_IN_PROGRESS
        )
        before = None
        if (change_set.change_set_type == ChangeSetType.UPDATE or via_update_stack) and stack.template is not None:
            before = {name: copy.deepcopy(getattr(stack, name, None)) for name in _KEPT}
        result = original(self)
        if before is None or not result.failure_message:
            return result
        if via_update_stack:
            _report_rollback_instead_of_complete(stack, StackStatus)
        # The provider copies these from the change set (and the result's resources) onto the stack right
        # after execute() returns; giving it the previous ones leaves the stack on its old template.
        change_set.template = before["template"]
        change_set.processed_template = before["processed_template"]
        change_set.template_body = before["template_body"]
        change_set.resolved_parameters = before["resolved_parameters"]
        return ChangeSetModelExecutorResult(
            resources=before["resolved_resources"] or {},
            outputs=result.outputs,
            failure_message=result.failure_message,
        )

    ChangeSetModelExecutor.execute = execute


def _report_rollback_instead_of_complete(stack: Any, stack_status: Any) -> None:
    # UpdateStack's worker sets UPDATE_COMPLETE unconditionally once execute() returns; turn that one
    # status change into UPDATE_ROLLBACK_COMPLETE (an instance attribute shadows the method once).
    method = stack.set_stack_status

    def set_stack_status(status: Any, *args: Any, **kwargs: Any) -> Any:
        del stack.set_stack_status
        if status == stack_status.UPDATE_COMPLETE:
            status = stack_status.UPDATE_ROLLBACK_COMPLETE
        return method(status, *args, **kwargs)

    stack.set_stack_status = set_stack_status


def install_skip_never_created() -> None:
    """Make Remove of a resource without a physical id (it failed to create) a no-op success, as on AWS."""
    from localstack.aws.api.cloudformation import ChangeAction
    from localstack.services.cloudformation.engine.v2.change_set_model_executor import ChangeSetModelExecutor
    from localstack.services.cloudformation.resource_provider import (
        OperationStatus,
        ProgressEvent,
        ResourceProviderExecutor,
    )

    original_action = ChangeSetModelExecutor._execute_resource_action
    original_loop = ResourceProviderExecutor.deploy_loop

    def _execute_resource_action(self, action, logical_resource_id, *args, **kwargs):  # type: ignore[no-untyped-def]
        known = (self._change_set.stack.resolved_resources or {}).get(logical_resource_id)
        never_created = action == ChangeAction.Remove and known is not None and not known.get("PhysicalResourceId")
        _SKIP.active = never_created
        try:
            return original_action(self, action, logical_resource_id, *args, **kwargs)
        finally:
            _SKIP.active = False

    def deploy_loop(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if getattr(_SKIP, "active", False):
            return ProgressEvent(status=OperationStatus.SUCCESS, resource_model={})
        return original_loop(self, *args, **kwargs)

    ChangeSetModelExecutor._execute_resource_action = _execute_resource_action
    ResourceProviderExecutor.deploy_loop = deploy_loop
