"""Shorter fixed waits in LocalStack's CloudFormation engine, where a wait is LocalStack's own and not AWS's.

Two waits dominated a stack update that changes Lambda code (about 5 s of the ingest stack's 5.5 s):
- The community ``AWS::Lambda::Function`` update calls UpdateFunctionCode, then UpdateFunctionConfiguration,
  each followed by botocore's ``function_updated_v2`` waiter, whose delay is 1 s: the update is done locally in
  well under a second (a local unzip), but the first poll finds it InProgress and the waiter sleeps a whole
  second, twice per function. Here the same waiter polls every ``LAMBDA_POLL_SECONDS`` (same success and failure
  rules, same overall timeout).
- The engine asks a provider that answered IN_PROGRESS again five times at once, then once a second
  (``ResourceProviderExecutor.deploy_loop``'s ``sleep_time``). Here it asks every ``ENGINE_POLL_SECONDS`` (its
  iteration limit is derived from the same per-resource timeout, so nothing times out sooner).
Nothing is skipped: the provider makes the same calls and waits for the same states; only the idle time
between polls is shorter. Patched: ``LambdaFunctionProvider.update`` (a wrapper giving it a client whose
waiters poll faster) and ``ResourceProviderExecutor.deploy_loop`` (its default ``sleep_time``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

LAMBDA_POLL_SECONDS = 0.05
ENGINE_POLL_SECONDS = 0.1
# botocore's function_updated_v2: 300 attempts 1 s apart; the same 300 s at the shorter delay.
_WAITER_SECONDS = 300.0


class _FastWaiter:
    """A botocore waiter whose polls are LAMBDA_POLL_SECONDS apart unless the caller set its own config."""

    def __init__(self, waiter: Any) -> None:
        self._waiter = waiter

    def wait(self, **kwargs: Any) -> None:
        """Wait with the same acceptors as the wrapped waiter, polling more often."""
        kwargs.setdefault("WaiterConfig", {
            "Delay": LAMBDA_POLL_SECONDS,
            "MaxAttempts": math.ceil(_WAITER_SECONDS / LAMBDA_POLL_SECONDS),
        })
        self._waiter.wait(**kwargs)


class _FastWaiterClient:
    """A Lambda client whose ``get_waiter`` returns fast-polling waiters; everything else is the client's."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_waiter(self, name: str) -> _FastWaiter:
        """The client's waiter, polling every LAMBDA_POLL_SECONDS."""
        return _FastWaiter(self._client.get_waiter(name))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class _Clients:
    """The request's client factory, with the Lambda client's waiters polling faster."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory

    @property
    def lambda_(self) -> _FastWaiterClient:
        """The factory's Lambda client, wrapped."""
        return _FastWaiterClient(self._factory.lambda_)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory, name)


def fast_waiters(request: Any) -> Any:
    """A copy of a resource request whose Lambda client polls every LAMBDA_POLL_SECONDS in its waiters."""
    return dataclasses.replace(request, aws_client_factory=_Clients(request.aws_client_factory))


def install() -> None:
    """Shorten the Lambda function update's waits and the engine's IN_PROGRESS polling."""
    from localstack.services.cloudformation.resource_provider import ResourceProviderExecutor
    from localstack.services.lambda_.resource_providers.aws_lambda_function import LambdaFunctionProvider

    original_update = LambdaFunctionProvider.update

    @functools.wraps(original_update)
    def update(self, request):  # type: ignore[no-untyped-def]
        return original_update(self, fast_waiters(request))

    LambdaFunctionProvider.update = update
    ResourceProviderExecutor.deploy_loop = engine_polling(ResourceProviderExecutor.deploy_loop)


def engine_polling(original: Any) -> Any:
    """``deploy_loop`` with ENGINE_POLL_SECONDS as its default ``sleep_time`` (a caller's own is kept)."""

    @functools.wraps(original)
    def deploy_loop(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # (resource_provider, resource, raw_payload, max_timeout, sleep_time): a sleep_time given is kept.
        if len(args) < 5:
            kwargs.setdefault("sleep_time", ENGINE_POLL_SECONDS)
        return original(self, *args, **kwargs)

    return deploy_loop
