"""Run buildspec commands with bash as CodeBuild does: one shell state (cwd, exported variables) across commands.

Each command runs in its own `bash` process that first restores the state the previous command left (its
variables, exported or not, and working directory) and saves it on exit, so `cd`, `export` and assignments carry
over from command to command and phase to phase, as in CodeBuild's version 0.2 shell.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from dsplatform_localstack import process_marks

# bash's own variables (read-only or special) are not carried; everything else the commands set is.
_SPECIAL = (r"BASH[A-Z_]*|FUNCNAME|PIPESTATUS|GROUPS|DIRSTACK|LINENO|RANDOM|SRANDOM|SECONDS|EPOCH[A-Z]*|HISTCMD|"
            r"SHLVL|PPID|_|OPTIND|COMP_WORDBREAKS|PWD|OLDPWD")
# Read by bash before the command (BASH_ENV), so the command is line 1 of its script, as in error messages.
_SETUP = """\
unset BASH_ENV
source {state}/env 2>/dev/null
cd "$(cat {state}/cwd)" || exit 1
trap 'declare -p | grep -Ev "^declare -[^ ]*r|^declare -[^ ]* ({special})=" > {state}/env; pwd > {state}/cwd' EXIT
"""


class Shell:
    """A shell session in ``cwd`` with ``env``; ``run`` returns each command's exit code (None: killed).

    Each command's process group is recorded (``process_marks``, naming ``build``) while it runs, so a command
    that outlives a killed LocalStack is stopped by the launcher, as ECS tasks and endpoints are.
    """

    def __init__(self, state_dir: Path, cwd: Path, env: dict[str, str], build: str = "codebuild build") -> None:
        self.state_dir, self.base_env, self.build = state_dir, env, build
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "cwd").write_text(str(cwd))
        (state_dir / "env").write_text("")
        self.setup = state_dir / "setup.sh"
        self.setup.write_text(_SETUP.format(state=shlex.quote(str(state_dir)), special=_SPECIAL))
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.stopped = False

    def set(self, name: str, value: str) -> None:
        """Set a variable for the following commands (CODEBUILD_BUILD_SUCCEEDING)."""
        self.base_env[name] = value
        with (self.state_dir / "env").open("a") as handle:
            handle.write(f"export {name}={_quote(value)}\n")

    def run(self, command: str, output: Callable[[str], None], deadline: float) -> int | None:
        """Run one command, streaming its output lines; kill it (None) past ``deadline`` (time.monotonic)."""
        env = {**self.base_env, "BASH_ENV": str(self.setup)}
        if self.stopped:
            return None
        with self._lock:
            self._process = subprocess.Popen(
                ["bash", "-c", command], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        process = self._process
        marker = process_marks.record(process.pid, f"codebuild {self.build}")
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), self.kill)
        timer.daemon = True
        timer.start()
        try:
            assert process.stdout is not None
            for raw in iter(process.stdout.readline, b""):
                output(raw.decode("utf-8", errors="replace").rstrip("\n"))
            code = process.wait()
        finally:
            timer.cancel()
            if marker is not None:
                marker.unlink(missing_ok=True)
        return None if code < 0 or self.stopped or time.monotonic() >= deadline else code

    def values(self, names: tuple[str, ...]) -> dict[str, str]:
        """The current values of ``names`` in the shell state (a build's exported variables)."""
        script = "".join(f'printf "%s\\0" "${{{name}}}"\n' for name in names if name.isidentifier())
        env = {**self.base_env, "BASH_ENV": str(self.setup)}
        result = subprocess.run(["bash", "-c", "trap - EXIT\n" + script], env=env, capture_output=True,
                                stdin=subprocess.DEVNULL, timeout=30, check=False)
        found = result.stdout.decode("utf-8", errors="replace").split("\0")
        return dict(zip([n for n in names if n.isidentifier()], found, strict=False))

    def kill(self) -> None:
        """Kill the running command's whole process group (timeout or StopBuild)."""
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        """StopBuild: kill the current command and run no further ones."""
        self.stopped = True
        self.kill()


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
