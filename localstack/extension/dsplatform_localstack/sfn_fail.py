"""Let a Fail state re-raise a caught `States.*` error (ErrorPath), as AWS allows.

The pinned runtime builds a CustomErrorName from the Fail state's error, which refuses the `States.`
prefix, so the common catch -> notify -> Fail(ErrorPath="$.error.Error") pattern ends in States.Runtime
instead of the caught States.TaskFailed.
"""

from __future__ import annotations


def install() -> None:
    """Wrap CustomErrorName construction in the Fail state module to accept States.* names."""
    from localstack.services.stepfunctions.asl.component.common.error_name.custom_error_name import (
        ILLEGAL_CUSTOM_ERROR_PREFIX,
        CustomErrorName,
    )
    from localstack.services.stepfunctions.asl.component.common.error_name.states_error_name import StatesErrorName
    from localstack.services.stepfunctions.asl.component.state.state_fail import state_fail

    def error_name(name):  # type: ignore[no-untyped-def]
        if name is not None and name.startswith(ILLEGAL_CUSTOM_ERROR_PREFIX):
            try:
                return StatesErrorName.from_name(name)
            except ValueError:
                pass  # an unknown States.* name: still refused, as by AWS's validation
        return CustomErrorName(name)

    # state_fail.py refers to CustomErrorName by module global; only the Fail state sees the wrapper.
    state_fail.CustomErrorName = error_name
