"""Invoke tasks `localstack.start|stop|status|logs|coverage` (thin wrappers over dsplatform.localstack)."""

from __future__ import annotations

import time
from typing import Any

import invoke
from invoke import Collection, task

from dsplatform.errors import UsageError
from dsplatform.tasks._cli import number_flag, user_errors

_PORT_HELP = {"port": "gateway port (default 4566); one instance per port", "host": "address to listen on"}


def _port(port: object) -> int:
    return int(number_flag("--port", port, minimum=1, maximum=65535, example="4566"))


def _settings(host: str, port: object) -> Any:
    from dsplatform.localstack import LocalStackSettings

    return LocalStackSettings(host=host, port=_port(port))


@task(help={**_PORT_HELP, "wait_images": "also wait until the containers/* image venvs are built"})
@user_errors
def start(c, host="127.0.0.1", port="4566", wait_images=False):  # type: ignore[no-untyped-def]
    """Start LocalStack in host mode (building its venv on first use) or reuse a healthy instance."""
    from dsplatform.localstack import LocalStackSettings
    from dsplatform.localstack import start as start_instance

    settings = LocalStackSettings(host=host, port=_port(port), wait_for_images=bool(wait_images))
    began = time.monotonic()
    inst = start_instance(settings)
    verb = "reused" if inst.reused else f"started in {time.monotonic() - began:.1f}s"
    print(f"LocalStack {verb}: {inst.endpoint_url} (PID {inst.pid or 'unknown'}, log {inst.log_path})")


@task(help=_PORT_HELP)
@user_errors
def stop(c, host="127.0.0.1", port="4566"):  # type: ignore[no-untyped-def]
    """Stop the LocalStack recorded for this port (by its PID: SIGTERM, then SIGKILL)."""
    from dsplatform.localstack import stop as stop_instance

    stopped = stop_instance(_settings(host, port))
    print(f"LocalStack on port {port}: {'stopped' if stopped else 'was not running (no live PID recorded)'}")


@task(help=_PORT_HELP)
@user_errors
def status(c, host="127.0.0.1", port="4566"):  # type: ignore[no-untyped-def]
    """Show PID, version and each service's state; exit 1 if not healthy (crashed, stale or not running)."""
    from dsplatform.localstack import status as get_status

    st = get_status(_settings(host, port))
    print(f"endpoint: {st.endpoint_url}\npid:      {st.pid or '-'}")
    print(f"version:  {st.version or '-'}\nlog:      {st.log_path}")
    for service, state in st.services.items():
        print(f"  {service:<26} {state}")
    for image, outcome in st.images.items():
        print(f"image {image}: {outcome}")
    if st.problem:
        raise invoke.Exit(f"problem: {st.problem}", code=1)


@task(help={**_PORT_HELP, "lines": "how many lines to show", "follow": "keep printing new lines (Ctrl-C stops)"})
@user_errors
def logs(c, host="127.0.0.1", port="4566", lines="50", follow=False):  # type: ignore[no-untyped-def]
    """Tail the LocalStack log of this port."""
    from dsplatform.localstack import log_tail

    settings = _settings(host, port)
    for line in log_tail(settings, int(number_flag("--lines", lines, minimum=1, example="50"))):
        print(line)
    if follow:
        with open(settings.log_path, errors="replace") as log:
            log.seek(0, 2)
            while True:  # a local file, not an AWS API: a plain follow loop is fine
                line = log.readline()
                if line:
                    print(line, end="")
                else:
                    time.sleep(0.5)


@task(
    help={
        "env": "environment name from dsplatform.yml (dev, stg, prod)",
        "config": "path of the config file (default dsplatform.yml)",
        "target": "override the environment's target: localstack or aws",
        "format": "text (default), json or html",
    }
)
@user_errors
def coverage(c, env, config=None, target=None, format="text"):  # type: ignore[no-untyped-def]
    """List every resource type of the environment's templates as native / extension / not emulated."""
    from dsplatform.localstack.coverage import fidelity_report
    from dsplatform.synth import templates_for

    report = fidelity_report(templates_for(env, config, target))
    renderers = {"text": report.to_text, "json": report.to_json, "html": report.to_html}
    if format not in renderers:
        raise UsageError(f"--format {format!r} is not a format; use text, json or html")
    print(renderers[format]())
    if report.not_emulated:
        raise invoke.Exit(f"not emulated on LocalStack: {', '.join(report.not_emulated)}", code=1)


ns = Collection("localstack")
for _task in (start, stop, status, logs, coverage):
    ns.add_task(_task)
