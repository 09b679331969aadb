"""Asynchronous invocations through an alias use the alias's event invoke config, as on AWS.

LocalStack's event manager looks the config up under the version it runs (``1``), while
PutFunctionEventInvokeConfig on an alias stores it under the alias name (``live``): retries and the on-failure
destination configured for ``live`` were ignored for events sent to the alias. Here the lookup is made with
the qualifier of the invoked ARN first (the alias), then the version. Patched:
``localstack.services.lambda_.invocation.event_manager.Poller.handle_message`` (via the function's config dict).
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

_INVOKED = threading.local()


def invoked_qualifier(body: str) -> str | None:
    """The qualifier (alias or version) of the ARN an SQS-queued invocation was sent to, if it has one."""
    try:
        arn = json.loads(body)["invoked_arn"]  # SQSInvocation.encode's shape
    except (ValueError, KeyError, TypeError):
        return None
    parts = str(arn).split(":")
    return parts[7] if len(parts) == 8 else None  # arn:aws:lambda:region:account:function:name:qualifier


class QualifierAwareConfigs(dict):  # type: ignore[type-arg]
    """The function's event invoke configs; ``get(version)`` prefers the config of the invoked alias."""

    def get(self, key: Any, default: Any = None) -> Any:
        """The invoked qualifier's config when this thread is handling an invocation sent to one, else ``key``'s."""
        invoked = getattr(_INVOKED, "qualifier", None)
        if invoked is not None and invoked in self:
            return self[invoked]
        return super().get(key, default)


def install() -> None:
    """Wrap the event manager's message handler."""
    from localstack.services.lambda_.invocation.event_manager import Poller

    original = Poller.handle_message

    @functools.wraps(original)
    def handle_message(self, message):  # type: ignore[no-untyped-def]
        function = self.version_manager.function
        if not isinstance(function.event_invoke_configs, QualifierAwareConfigs):
            function.event_invoke_configs = QualifierAwareConfigs(function.event_invoke_configs)
        _INVOKED.qualifier = invoked_qualifier(message.get("Body", ""))
        try:
            return original(self, message)
        finally:
            _INVOKED.qualifier = None

    Poller.handle_message = handle_message
