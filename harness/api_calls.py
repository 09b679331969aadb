"""Record the AWS calls a boto3 session makes as IAM requests (action, resource ARN, context), to check a role's
policy against what the code really calls: LocalStack does not enforce IAM, so a missing permission would only
show on AWS.

A recorder hooks botocore's ``before-parameter-build`` event of a session, so every client made from it
(paginators and waiters included) is seen with the caller's own parameters. ``harness.api_arns`` turns each
call into the IAM requests AWS authorizes for it; a call it cannot map is kept as unmapped, and ``check``
reports it rather than passing it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import api_arns, api_arns_runtime
from harness.api_arns import Request, UnmappedCallError, Where
from harness.policy_eval import Decision, Statement, evaluate


@dataclass(frozen=True)
class Call:
    """One API call as botocore saw it: the service's IAM prefix, the operation and the caller's parameters."""

    prefix: str
    operation: str
    params: Mapping[str, Any]


@dataclass
class CallRecorder:
    """Collects the IAM requests of every call made through the sessions it is attached to (thread-safe)."""

    account: str
    region: str
    partition: str = "aws"
    requests: list[tuple[Call, Request]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, session: Any) -> Any:
        """Hook ``session`` (boto3 or botocore) so its clients' calls are recorded; returns the session."""
        core = getattr(session, "_session", session)  # a boto3 Session wraps a botocore one
        core.register("before-parameter-build", self._on_call, unique_id=f"dsplatform-recorder-{id(self)}")
        return session

    def _on_call(self, params: Mapping[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model
        call = Call(iam_prefix(service.signing_name or service.endpoint_prefix), model.name, dict(params))
        try:
            found = requests_for(call.prefix, call.operation, call.params, self.account, self.region, self.partition)
        except UnmappedCallError as err:  # never raise inside botocore: the workflow would fail for the wrong reason
            with self._lock:
                self.unmapped.append(str(err))
            return
        with self._lock:
            self.requests.extend((call, r) for r in found)

    def actions(self) -> set[str]:
        """The IAM actions requested so far."""
        with self._lock:
            return {r.action for _, r in self.requests}

    def check(self, statements: Sequence[Statement]) -> list[str]:
        """One line per distinct request the statements do not allow, and per call with no mapping (sorted)."""
        with self._lock:
            requests, unmapped = list(self.requests), list(self.unmapped)
        return sorted(set(unmapped) | set(denied(statements, (r for _, r in requests))))

    def save(self, path: Path) -> None:
        """Append the requests and unmapped calls to ``path`` (JSON lines), for a parent process to check."""
        with self._lock:
            rows = [{"account": self.account, "region": self.region, "action": r.action, "resource": r.resource,
                     "context": list(r.context)} for r in dict.fromkeys(r for _, r in self.requests)]
            rows += [{"unmapped": line} for line in self.unmapped]
        with path.open("a", encoding="utf-8") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)


# A process run by another (the scenarios' pytest under `invoke e2e` or `rollback`) records its calls to this file
# when the variable is set (harness.fixtures' ds_clients); the parent reads them back with ``load``.
RECORD_ENV = "DSPLATFORM_RECORD_CALLS"


def load(path: Path) -> tuple[dict[tuple[str, str], list[Request]], list[str]]:
    """The requests saved to ``path`` per (account, region) they were made in, and the unmapped calls (none when
    the file is absent)."""
    if not path.is_file():
        return {}, []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    requests: dict[tuple[str, str], list[Request]] = {}
    for r in rows:
        if "action" in r:
            requests.setdefault((r["account"], r["region"]), []).append(
                Request(r["action"], r["resource"], tuple((k, v) for k, v in r["context"])))
    return requests, [r["unmapped"] for r in rows if "unmapped" in r]


def denied(statements: Sequence[Statement], requests: Iterable[Request]) -> list[str]:
    """The requests (deduplicated) that ``statements`` do not allow, each as one line."""
    out = []
    for request in dict.fromkeys(requests):
        decision = evaluate(statements, request.action, request.resource, dict(request.context))
        if decision is not Decision.ALLOWED:
            ctx = f" with {dict(request.context)}" if request.context else ""
            out.append(f"{request.action} on {request.resource}{ctx}: {decision.value}")
    return out


def requests_for(prefix: str, operation: str, params: Mapping[str, Any], account: str, region: str,
                 partition: str = "aws") -> list[Request]:
    """The IAM requests AWS authorizes for one call; UnmappedCallError when the tables do not know it."""
    table = api_arns.TABLES.get(prefix) or api_arns_runtime.TABLES.get(prefix) or {}
    if operation not in table:
        raise UnmappedCallError(f"{prefix}:{operation} has no IAM mapping; add it to harness/api_arns*.py "
                                "with its action and resource")
    try:
        return table[operation](params, Where(account, region, partition))
    except KeyError as err:
        raise UnmappedCallError(f"{prefix}:{operation} without parameter {err}: its resource is not known") from None


# botocore's signing name is the IAM prefix except for CloudWatch (signed as `monitoring`).
_PREFIXES = {"monitoring": "cloudwatch"}


def iam_prefix(signing_name: str) -> str:
    """The IAM action prefix of a service from its botocore signing name."""
    return _PREFIXES.get(signing_name, signing_name)
