"""Invoke tasks `localstack.start|stop|status|logs|coverage` (thin wrappers over dsplatform.localstack).

They follow the project's config: the instance listens where ``localstack.endpoint_url`` says (the
DSPLATFORM_LOCALSTACK_URL variable overrides it, as for deploys; ``--host``/``--port`` override both), and the
config file's folder is the project root the instance is recorded for.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import invoke
from invoke import Collection, task

from dsplatform.display import shown
from dsplatform.errors import UsageError
from dsplatform.tasks._cli import env_flag, env_names, number_flag, user_errors

_PORT_HELP = {
    "config": "path of the config file (default: dsplatform.yml here or in a parent folder); its folder is the"
    " project root and its localstack.endpoint_url the address",
    "port": "gateway port (default: the port of localstack.endpoint_url); one instance per port",
    "host": "address to listen on (default: the host of localstack.endpoint_url)",
}
LOCALSTACK_URL_ENV = "DSPLATFORM_LOCALSTACK_URL"
DEFAULT_URL = "http://127.0.0.1:4566"


def localstack_settings(config: str | None = None, host: str | None = None, port: object = None, **kwargs: Any) -> Any:
    """LocalStackSettings for a project: address from its config (env var, then flags override), root = its folder.

    Without ``config`` the ``dsplatform.yml`` of this folder or a parent is used; with none anywhere, the
    defaults (127.0.0.1:4566, this folder as the project root).
    """
    from dsplatform.config import find_config, load_config
    from dsplatform.errors import ConfigError
    from dsplatform.localstack import LocalStackSettings

    url, root = DEFAULT_URL, Path.cwd()
    try:
        path = find_config(config)
    except ConfigError:
        path = None  # no config anywhere: the plain defaults
    if path is not None:
        url, root = load_config(path).localstack.endpoint_url, path.resolve().parent
    parsed = urlparse(os.environ.get(LOCALSTACK_URL_ENV) or url)
    chosen_port = (parsed.port or 4566) if port is None else _port(port)
    chosen_host = _host(host) if host is not None else parsed.hostname or "127.0.0.1"
    return LocalStackSettings(host=chosen_host, port=chosen_port, project_root=root,
                              **kwargs)


def _port(port: object) -> int:
    return int(number_flag("--port", port, minimum=1, maximum=65535, example="4566"))


def env_image_sources(config: str | None, env: str) -> dict[str, Path]:
    """Repository -> source folder of the jobs of ``env`` (``dev``, ``dev,stg`` or ``all``), from their plans."""
    from dsplatform.config import load_config
    from dsplatform.localstack import plan_image_sources
    from dsplatform.synth import plan_from_config

    project = load_config(config)
    return plan_image_sources(*(plan_from_config(project, name, "localstack") for name in env_names(env, project)))


def _host(host: object) -> str:
    import ipaddress

    text = str(host)
    if text == "localhost":
        return text
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise UsageError(f"--host {shown(host)} is not an IP address; give one such as 127.0.0.1") from None
    return text


@task(help={**_PORT_HELP, "wait_images": "also wait until the registered images' venvs are built",
            "env": "register the job images of these environments (dev, dev,stg or all), so tasks can run them"})
@user_errors
def start(c, config=None, host=None, port=None, wait_images=False, env=None):  # type: ignore[no-untyped-def]
    """Start LocalStack in host mode (building its venv on first use) or reuse a healthy instance."""
    from dsplatform.localstack import start as start_instance

    sources = env_image_sources(config, env) if env else {}
    settings = localstack_settings(config, host, port, wait_for_images=bool(wait_images), image_sources=sources)
    began = time.monotonic()
    inst = start_instance(settings)
    verb = "reused" if inst.reused else f"started in {time.monotonic() - began:.1f}s"
    print(f"LocalStack {verb}: {inst.endpoint_url} (PID {inst.pid or 'unknown'}, log {inst.log_path})")


@task(help=_PORT_HELP)
@user_errors
def stop(c, config=None, host=None, port=None):  # type: ignore[no-untyped-def]
    """Stop the LocalStack recorded for this port (by its PID: SIGTERM, then SIGKILL); refused for another project's."""
    from dsplatform.localstack import stop as stop_instance

    settings = localstack_settings(config, host, port)
    stopped = stop_instance(settings)
    print(f"LocalStack on port {settings.port}: {'stopped' if stopped else 'was not running (no live PID recorded)'}")


@task(help=_PORT_HELP)
@user_errors
def status(c, config=None, host=None, port=None):  # type: ignore[no-untyped-def]
    """Show PID, version and each service's state; exit 1 if not healthy (crashed, stale or not running)."""
    from dsplatform.localstack import status as get_status

    settings = localstack_settings(config, host, port)
    st = get_status(settings)
    print(f"endpoint: {st.endpoint_url}\nproject:  {settings.project_root}\npid:      {st.pid or '-'}")
    print(f"version:  {st.version or '-'}\nlog:      {st.log_path}")
    for service, state in st.services.items():
        print(f"  {service:<26} {state}")
    for image, outcome in st.images.items():
        print(f"image {image}: {outcome}")
    if st.problem:
        raise invoke.Exit(f"problem: {st.problem}", code=1)


@task(help={**_PORT_HELP, "lines": "how many lines to show", "follow": "keep printing new lines (Ctrl-C stops)"})
@user_errors
def logs(c, config=None, host=None, port=None, lines="50", follow=False):  # type: ignore[no-untyped-def]
    """Tail the LocalStack log of this port."""
    from dsplatform.localstack import log_tail

    settings = localstack_settings(config, host, port)
    for line in log_tail(settings, int(number_flag("--lines", lines, minimum=1, maximum=100_000, example="50"))):
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
    """List every resource type of the environment's stacks and its bootstrap: native, extension, not emulated."""
    from dsplatform.config import load_config
    from dsplatform.delivery.bootstrap import bootstrap_templates
    from dsplatform.localstack.coverage import fidelity_report
    from dsplatform.synth import templates_for

    if format not in ("text", "json", "html"):
        raise UsageError(f"--format {shown(format)} is not a format; use text, json or html")
    name = env_flag(env)
    templates = templates_for(name, config, target)
    report = fidelity_report({**templates, **bootstrap_templates(load_config(config), name, target)})
    renderers = {"text": report.to_text, "json": report.to_json, "html": report.to_html}
    print(renderers[format]())
    if report.not_emulated:
        raise invoke.Exit(f"not emulated on LocalStack: {', '.join(report.not_emulated)}", code=1)


ns = Collection("localstack")
for _task in (start, stop, status, logs, coverage):
    ns.add_task(_task)
