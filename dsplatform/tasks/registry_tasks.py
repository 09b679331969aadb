"""Invoke tasks `registry.start|stop|status`: the local MLflow model registry (thin wrappers over dsplatform.registry).

The server's URL is $DSPLATFORM_REGISTRY_URL (default http://127.0.0.1:5000); one server per port.
"""

from __future__ import annotations

import time
from typing import Any

import invoke
from invoke import Collection, task

from dsplatform.tasks._cli import plan_and_clients, user_errors

_HELP = {
    "env": "LocalStack environment whose artifact bucket holds the artifacts (its stacks must be deployed)",
    "config": "config file (default: dsplatform.yml)",
    "target": "override the environment's target: localstack or aws",
    "artifacts": "artifacts destination instead of the environment's bucket, e.g. s3://bucket/mlflow",
}


def _settings(artifacts: str | None = None) -> Any:
    from dsplatform.registry import RegistrySettings, local_url
    from dsplatform.registry.settings import host_port

    host, port = host_port(local_url())
    return RegistrySettings(artifacts_destination=artifacts or "", host=host, port=port)


@task(help=_HELP)
@user_errors
def start(c, env="dev", config=None, target=None, artifacts=None):  # type: ignore[no-untyped-def]
    """Start the local MLflow registry (installing its venv on first use) or reuse the healthy one on its port."""
    from dsplatform.registry import local_settings
    from dsplatform.registry import start as start_server

    plan, clients = plan_and_clients(env, config, target)
    settings = local_settings(plan, clients, artifacts)
    began = time.monotonic()
    server = start_server(settings)
    verb = "reused" if server.reused else f"started in {time.monotonic() - began:.1f}s"
    print(f"registry {verb}: {server.url} (PID {server.pid}, artifacts {server.artifacts_destination}, "
          f"log {server.log_path})")


@task()
@user_errors
def stop(c):  # type: ignore[no-untyped-def]
    """Stop the registry recorded for $DSPLATFORM_REGISTRY_URL's port, by its PID."""
    from dsplatform.registry import stop as stop_server

    settings = _settings()
    stopped = stop_server(settings)
    print(f"registry on port {settings.port}: {'stopped' if stopped else 'was not running (no live PID recorded)'}")


@task()
@user_errors
def status(c):  # type: ignore[no-untyped-def]
    """Show the registry's PID, version and artifacts destination; exit 1 if it is not healthy."""
    from dsplatform.registry import status as get_status

    st = get_status(_settings())
    print(f"url:       {st.url}\npid:       {st.pid or '-'}\nversion:   {st.version or '-'}")
    print(f"artifacts: {st.artifacts_destination or '-'}\nlog:       {st.log_path}")
    if st.problem:
        raise invoke.Exit(f"problem: {st.problem}", code=1)


ns = Collection("registry")
for _task in (start, stop, status):
    ns.add_task(_task)
