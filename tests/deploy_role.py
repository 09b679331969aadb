"""The bootstrap's deploy role policy, rendered for a test's project, account and region, and a recorder that
checks every AWS call a workflow makes against it (LocalStack does not enforce IAM; AWS does)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from blueprints.bootstrap import BootstrapProps, build
from dsplatform.deployer import ClientFactory
from dsplatform.naming import Names
from dsplatform.stackspec import Target
from harness.api_calls import CallRecorder, denied, load
from harness.policy_eval import Statement, parse_document


def bootstrap_props(project: str, account: str, region: str) -> BootstrapProps:
    """The bootstrap of ``project`` in one account and region, named by the naming module."""
    names = Names(project=project, env="bootstrap", account_id=account, region=region, qualify=False)
    return BootstrapProps(project=project, version=1, deploy_role=names.deploy_role,
                          execution_role=names.execution_role, assets_bucket=names.assets_bucket,
                          version_parameter=names.bootstrap_version_parameter, resource_types=())


def execution_role_arn(project: str, account: str, region: str) -> str:
    """The CloudFormation execution role the deploy role passes (``RoleARN`` of every change set on AWS)."""
    return f"arn:aws:iam::{account}:role/{bootstrap_props(project, account, region).execution_role}"


def _resolve(value: Any, account: str, region: str, execution_arn: str) -> Any:
    if isinstance(value, list):
        return [_resolve(v, account, region, execution_arn) for v in value]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        subs = {"AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": account}
        out = re.sub(r"\$\{([^}]+)\}", lambda m: subs[m.group(1)], text)
        return out
    if isinstance(value, dict) and value == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}:
        return execution_arn
    if isinstance(value, dict):
        return {k: _resolve(v, account, region, execution_arn) for k, v in value.items()}
    return value


def deploy_role_statements(project: str, account: str, region: str) -> list[Statement]:
    """The deploy role's policy statements as AWS would hold them (intrinsics resolved)."""
    template = build(bootstrap_props(project, account, region)).to_dict()
    role = template["Resources"]["DeployRole"]["Properties"]
    (policy,) = role["Policies"]
    doc = _resolve(policy["PolicyDocument"], account, region, execution_role_arn(project, account, region))
    return parse_document(doc, f"deploy role of {project}")


def recording_clients(target: Target) -> tuple[ClientFactory, CallRecorder]:
    """A ClientFactory for ``target`` whose every call is recorded as IAM requests."""
    clients = ClientFactory(target)
    recorder = CallRecorder(target.account_id, target.region)
    recorder.attach(clients.session())
    return clients, recorder


class RecordingFactories:
    """Stands in for ``dsplatform.deployer.ClientFactory`` where a workflow makes its own (promotion): every
    factory it makes records into the recorder of its target's account, checked with that account's role."""

    def __init__(self) -> None:
        self.recorders: dict[tuple[str, str], CallRecorder] = {}

    def __call__(self, target: Target, **kwargs: Any) -> ClientFactory:
        """A recording ClientFactory for ``target``."""
        clients = ClientFactory(target, **kwargs)
        key = (target.account_id, target.region)
        recorder = self.recorders.setdefault(key, CallRecorder(*key))
        recorder.attach(clients.session())
        return clients

    def assert_allowed(self, project: str, saved: Path | None = None) -> None:
        """``assert_deploy_role_allows`` for each account's recorder (the saved calls checked with the first)."""
        assert self.recorders, "no ClientFactory was made through the stand-in"
        _assert_none(self.recorders.values(), project, saved)


def assert_deploy_role_allows(recorder: CallRecorder, project: str, saved: Path | None = None) -> None:
    """Fail naming every request the deploy role's policy does not allow (and every call with no IAM mapping);
    ``saved``: the requests a child process recorded too (harness.api_calls.RECORD_ENV), which must exist."""
    assert recorder.requests, "no AWS call was recorded: the recorder is not attached to the clients used"
    _assert_none([recorder], project, saved)


def assert_saved_calls_allowed(saved: Path, project: str) -> None:
    """As ``assert_deploy_role_allows`` for the calls child processes saved (the scenarios' pytest), each
    checked with the deploy role of the account it was made in."""
    _assert_none([], project, saved)


def _assert_none(recorders: Iterable[CallRecorder], project: str, saved: Path | None) -> None:
    """Fail naming every request of ``recorders`` (each checked with its account's deploy role) and of ``saved``
    that the role does not allow."""
    problems: set[str] = set()
    for recorder in recorders:
        problems |= set(recorder.check(deploy_role_statements(project, recorder.account, recorder.region)))
    if saved is not None:
        problems |= set(_saved_problems(saved, project))
    assert not problems, "the deploy role does not allow:\n" + "\n".join(sorted(problems))


def _saved_problems(saved: Path, project: str) -> list[str]:
    requests, unmapped = load(saved)
    assert requests, f"no call was saved to {saved}: the scenarios did not record"
    problems = set(unmapped)
    for (account, region), made in requests.items():
        problems |= set(denied(deploy_role_statements(project, account, region), made))
    return sorted(problems)
