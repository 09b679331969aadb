"""The deployer: change sets over a parallel stack graph, with locks, repairs, progress and clean failures."""

from __future__ import annotations

from dsplatform.deployer.changes import STATEFUL_TYPES, Change
from dsplatform.deployer.clients import ClientFactory
from dsplatform.deployer.deploy import deploy
from dsplatform.deployer.destroy import destroy
from dsplatform.deployer.diff import StackDiff, diff, render_diff
from dsplatform.deployer.errors import (
    AccountMismatchError,
    DeployerError,
    DeployFailedError,
    EndpointUnreachableError,
    LockHeldError,
    ParameterResolutionError,
    PlanError,
    ProtectedTargetError,
)
from dsplatform.deployer.events import StackEvent
from dsplatform.deployer.models import DeployOptions, DeployResult, Outcome, StackResult
from dsplatform.deployer.outputs import Deployed, MissingOutputError, read_deployed, read_outputs
from dsplatform.deployer.progress import (
    JsonReporter,
    NullReporter,
    PlainReporter,
    Reporter,
    RichReporter,
    make_reporter,
)

__all__ = [
    "STATEFUL_TYPES",
    "AccountMismatchError",
    "Change",
    "ClientFactory",
    "DeployFailedError",
    "DeployOptions",
    "DeployResult",
    "Deployed",
    "DeployerError",
    "EndpointUnreachableError",
    "JsonReporter",
    "LockHeldError",
    "MissingOutputError",
    "NullReporter",
    "Outcome",
    "ParameterResolutionError",
    "PlainReporter",
    "PlanError",
    "ProtectedTargetError",
    "Reporter",
    "RichReporter",
    "StackDiff",
    "StackEvent",
    "StackResult",
    "deploy",
    "destroy",
    "diff",
    "make_reporter",
    "read_deployed",
    "read_outputs",
    "render_diff",
]
