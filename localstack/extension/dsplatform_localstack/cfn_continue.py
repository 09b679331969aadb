"""ContinueUpdateRollback for the v2 engine, which answers it "not yet emulated".

The pinned engine puts a stack in UPDATE_ROLLBACK_FAILED when an update's change set names an unsupported
resource type (the extension makes such types fail instead of becoming mocks), and the stack then stays
stuck: nothing LocalStack offers moves it. In that case the update changed no resource, so continuing the
rollback only has to report what AWS would: UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, then
UPDATE_ROLLBACK_COMPLETE, on the previous template. Resources that a failed update did change are not
reverted (listed in docs/localstack.md).
"""

from __future__ import annotations

from typing import Any

_STUCK = ("UPDATE_ROLLBACK_FAILED",)


def install() -> None:
    """Give the v2 provider a ContinueUpdateRollback handler."""
    from localstack.aws.api import handler
    from localstack.aws.api.cloudformation import ContinueUpdateRollbackOutput, StackStatus
    from localstack.services.cloudformation.engine.validations import ValidationError
    from localstack.services.cloudformation.models import get_cloudformation_store
    from localstack.services.cloudformation.v2.provider import CloudformationProviderV2, find_stack_v2

    @handler("ContinueUpdateRollback")
    def continue_update_rollback(self: Any, context: Any, stack_name: str, role_arn: str | None = None,
                                 resources_to_skip: Any = None, client_request_token: str | None = None,
                                 **kwargs: Any) -> Any:
        store = get_cloudformation_store(context.account_id, context.region)
        stack = find_stack_v2(store, stack_name)
        if stack is None:
            raise ValidationError(f"Stack [{stack_name}] does not exist")
        if stack.status not in _STUCK:
            # AWS's own wording for a stack in any other state.
            raise ValidationError(f"Stack [{stack.stack_name}] is in {stack.status} state and can not continue "
                                  f"rollback; ContinueUpdateRollback is only allowed in UPDATE_ROLLBACK_FAILED")
        stack.set_stack_status(StackStatus.UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS)
        stack.set_stack_status(StackStatus.UPDATE_ROLLBACK_COMPLETE)
        return ContinueUpdateRollbackOutput()

    CloudformationProviderV2.continue_update_rollback = continue_update_rollback  # type: ignore[attr-defined]
