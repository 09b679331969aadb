"""The extension's shorter waits: interpreter probes asked once, Lambda waiters and engine polls more often.

Pure parts only (the modules import LocalStack inside functions); that the function then really runs the new code
is checked against LocalStack by tests/integration/test_rollback.py and test_ingest_code_change.py.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localstack" / "extension"))

from dsplatform_localstack import cfn_polling, local_images


def _fake_interpreter(folder: Path, name: str, version: str, real: Path, calls: Path) -> Path:
    """A script that answers the probe like an interpreter (as a pyenv shim would), counting its runs."""
    script = folder / name
    script.write_text(
        f"#!/bin/sh\necho run >> {calls}\nprintf '%s\\n' {version} {real} '{version}.9 (main) [fake]'\n"
    )
    script.chmod(0o755)
    return script


def test_an_interpreter_is_probed_once_and_its_real_executable_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, calls = tmp_path / "real-python3.77", tmp_path / "calls"
    real.write_text("")
    shim = _fake_interpreter(tmp_path, "python3.77", "3.77", real, calls)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))

    assert local_images.find_interpreter("3.77") == (str(real), True)  # not the shim: starts skip it
    assert local_images.find_interpreter("3.77") == (str(real), True)
    key = local_images.venv_key(str(shim), b"boto3\n")
    assert key == local_images.venv_key(str(shim), b"boto3\n") != local_images.venv_key(str(shim), b"")
    assert calls.read_text().count("run") == 1  # four questions, one process

    real.unlink()  # its pyenv version uninstalled: asked again rather than trusted
    local_images.find_interpreter("3.77")
    assert calls.read_text().count("run") == 2
    real.write_text("")
    _fake_interpreter(tmp_path, "python3.77", "3.78", real, calls)  # the file changed: asked again
    assert local_images.find_interpreter("3.77") == (sys.executable, False)
    assert calls.read_text().count("run") == 3


def test_an_interpreter_that_fails_is_not_remembered(tmp_path: Path) -> None:
    broken = tmp_path / "python3.66"
    broken.write_text("#!/bin/sh\necho run >> " + str(tmp_path / "calls") + "\nexit 3\n")
    broken.chmod(0o755)
    assert local_images.probe(str(broken)) is None
    assert local_images.probe(str(broken)) is None
    assert (tmp_path / "calls").read_text().count("run") == 2
    assert local_images.probe(str(tmp_path / "missing")) is None
    with pytest.raises(subprocess.CalledProcessError) as failed:  # as before: the caller reports it
        local_images.venv_key(str(broken), b"")
    assert "does not run" in failed.value.stderr


class _Waiter:
    def __init__(self, seen: list[dict[str, Any]]) -> None:
        self.seen = seen

    def wait(self, **kwargs: Any) -> None:
        self.seen.append(kwargs)


@dataclasses.dataclass
class _Request:
    """The fields of LocalStack's ResourceRequest dataclass that matter here."""

    aws_client_factory: Any
    custom_context: dict[str, Any]


def test_lambda_waiters_in_a_provider_request_poll_every_50_ms() -> None:
    seen: list[dict[str, Any]] = []
    names: list[str] = []
    client = SimpleNamespace(get_waiter=lambda name: names.append(name) or _Waiter(seen), update_function_code=len)
    request = _Request(SimpleNamespace(lambda_=client, s3="the s3 client"), {"step": 1})
    fast = cfn_polling.fast_waiters(request)

    fast.aws_client_factory.lambda_.get_waiter("function_updated_v2").wait(FunctionName="f")
    fast.aws_client_factory.lambda_.get_waiter("function_updated_v2").wait(
        FunctionName="f", WaiterConfig={"Delay": 2, "MaxAttempts": 3})
    assert names == ["function_updated_v2", "function_updated_v2"]
    assert seen[0] == {"FunctionName": "f", "WaiterConfig": {"Delay": 0.05, "MaxAttempts": 6000}}  # same 300 s
    assert seen[1]["WaiterConfig"] == {"Delay": 2, "MaxAttempts": 3}  # a caller's own config is kept
    assert fast.aws_client_factory.lambda_.update_function_code("abc") == 3  # other calls are the client's
    assert fast.aws_client_factory.s3 == "the s3 client"
    assert fast.custom_context is request.custom_context  # the provider's progress context is shared
    assert request.aws_client_factory.lambda_ is client  # the original request is left alone


def test_the_engine_asks_an_in_progress_provider_again_after_100_ms() -> None:
    def deploy_loop(self: object, provider: str, resource: dict, payload: dict, max_timeout: int = 300,
                    sleep_time: float = 1) -> tuple[int, float]:
        return max_timeout, sleep_time

    loop = cfn_polling.engine_polling(deploy_loop)
    assert loop(None, "provider", {}, {}) == (300, 0.1)  # the per-resource timeout is unchanged
    assert loop(None, "provider", {}, {}, max_timeout=60) == (60, 0.1)
    assert loop(None, "provider", {}, {}, sleep_time=2) == (300, 2)  # a caller's own interval is kept
    assert loop(None, "provider", {}, {}, 60, 3) == (60, 3)


@pytest.fixture(autouse=True)
def _fresh_probes() -> None:
    local_images._PROBED.clear()
