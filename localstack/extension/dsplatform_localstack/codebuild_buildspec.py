"""A CodeBuild buildspec (version 0.2) read into plain data: env, phases with commands and finally, artifacts.

Pure (PyYAML only, no LocalStack import), so it is unit-tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PHASES = ("install", "pre_build", "build", "post_build")


class BuildspecError(Exception):
    """The buildspec is not valid YAML or not of a shape CodeBuild accepts (the build fails in DOWNLOAD_SOURCE)."""


@dataclass(frozen=True)
class Phase:
    """One phase's commands, its `finally` block and what a failing command does (ABORT or CONTINUE)."""

    commands: tuple[str, ...] = ()
    finally_: tuple[str, ...] = ()
    on_failure: str = "ABORT"
    runtime_versions: dict[str, str] = field(default_factory=dict)  # read, not applied (no build image here)


@dataclass(frozen=True)
class Buildspec:
    """The parts of a buildspec the local runner executes."""

    version: str
    variables: dict[str, str] = field(default_factory=dict)
    parameter_store: dict[str, str] = field(default_factory=dict)
    secrets_manager: dict[str, str] = field(default_factory=dict)
    exported_variables: tuple[str, ...] = ()
    shell: str = "bash"
    phases: dict[str, Phase] = field(default_factory=dict)
    artifact_files: tuple[str, ...] = ()
    base_directory: str = ""
    discard_paths: bool = False
    ignored: tuple[str, ...] = ()  # sections read but not emulated (reports, cache, batch, proxy, ...)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BuildspecError(f"YAML_FILE_ERROR: {where} must be a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _mapping(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildspecError(f"YAML_FILE_ERROR: {where} must be a map, got {value!r}")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _yes(value: Any) -> bool:
    return value is True or str(value).lower() in ("yes", "true")


def parse(text: str) -> Buildspec:
    """Parse buildspec YAML; BuildspecError (with CodeBuild's YAML_FILE_ERROR wording) when it is not valid."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BuildspecError(f"YAML_FILE_ERROR: {err}") from None
    if not isinstance(data, dict):
        raise BuildspecError("YAML_FILE_ERROR: the buildspec must be a YAML map")
    version = str(data.get("version", ""))
    if version not in ("0.1", "0.2"):
        raise BuildspecError(f"YAML_FILE_ERROR: invalid buildspec version {version!r}; expected 0.2")
    env = data.get("env") or {}
    phases: dict[str, Phase] = {}
    for name, body in (data.get("phases") or {}).items():
        if name not in PHASES:
            raise BuildspecError(f"YAML_FILE_ERROR: unknown phase {name!r}; expected one of {', '.join(PHASES)}")
        body = body or {}
        on_failure = str(body.get("on-failure", "ABORT")).upper()
        phases[name] = Phase(_strings(body.get("commands"), f"phases.{name}.commands"),
                             _strings(body.get("finally"), f"phases.{name}.finally"), on_failure,
                             _mapping(body.get("runtime-versions"), f"phases.{name}.runtime-versions"))
    artifacts = data.get("artifacts") or {}
    return Buildspec(
        version=version,
        variables=_mapping(env.get("variables"), "env.variables"),
        parameter_store=_mapping(env.get("parameter-store"), "env.parameter-store"),
        secrets_manager=_mapping(env.get("secrets-manager"), "env.secrets-manager"),
        exported_variables=_strings(env.get("exported-variables"), "env.exported-variables"),
        shell=str(env.get("shell", "bash")),
        phases=phases,
        artifact_files=_strings(artifacts.get("files"), "artifacts.files"),
        base_directory=str(artifacts.get("base-directory", "") or ""),
        discard_paths=_yes(artifacts.get("discard-paths", False)),
        ignored=tuple(k for k in ("reports", "cache", "batch", "proxy") if k in data)
        + tuple(f"artifacts.{k}" for k in ("secondary-artifacts",) if k in artifacts),
    )


def is_inline(buildspec: str) -> bool:
    """A project's `buildspec` is inline YAML (not a file path) when it spans lines or declares a version."""
    return "\n" in buildspec or buildspec.lstrip().startswith("version")
