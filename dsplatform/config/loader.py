"""Load ``dsplatform.yml``: parse, merge defaults into each environment, validate, and report every problem.

Each problem is one line: ``<file>: <key path>: <what is wrong> (got <value>)``, and all problems are reported
together in one ConfigError, so a user fixes the file in one pass.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from dsplatform.config.models import ComponentSettings, EnvironmentConfig, ProjectConfig
from dsplatform.errors import ConfigError

DEFAULT_FILE = "dsplatform.yml"
REGION = "us-east-1"  # EnvironmentConfig.region's default
TOP_LEVEL_KEYS = ("project", "localstack", "components", "defaults", "environments")


def find_config(path: str | Path | None = None, start: Path | None = None) -> Path:
    """Return the config file: ``path`` if given, else ``dsplatform.yml`` in ``start`` or a parent folder."""
    if path is not None:
        return Path(path)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError([f"{DEFAULT_FILE}: not found in {here} or any parent folder; create one (see "
                       f"docs/configuration.md) or pass --config PATH"])


def load_config(path: str | Path | None = None) -> ProjectConfig:
    """Load and validate the configuration file; raise ConfigError listing every problem."""
    file = find_config(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot be read: {exc.strerror}; check the path given to --config"]) from exc
    return parse_config(text, source=str(file))


def parse_config(text: str, source: str = "<memory>") -> ProjectConfig:
    """Validate configuration text (YAML); raise ConfigError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError([f"{source}: {where}: {problem}; fix the YAML syntax"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: the file must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}; "
                           f"got {type(raw).__name__}"])
    problems: list[str] = []
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"{source}: {key}: unknown key; allowed keys: {', '.join(TOP_LEVEL_KEYS)}")
    defaults = _mapping(raw.get("defaults") or {}, source, "defaults", problems)
    default_problems = _validate(ComponentSettings, defaults, source, "defaults")
    problems += default_problems
    environments = _mapping(raw.get("environments"), source, "environments", problems)
    if "environments" not in raw:
        problems.append(f"{source}: environments: missing; define dev, stg and prod (see docs/configuration.md)")
    elif not environments:
        problems.append(f"{source}: environments: no environment defined; add at least one, e.g. dev")
    merged: dict[str, dict[str, Any]] = {}
    for name, env_raw in environments.items():
        path = f"environments.{name}"
        env = _mapping(env_raw, source, path, problems)
        if not isinstance(name, str) or not name.isalnum() or not name.islower() or len(name) > 10:
            problems.append(f"{source}: {path}: environment names must be 1-10 lowercase letters or digits; "
                            f"got {name!r}")
        override = env.get("settings") or {}
        # With broken defaults, check only the environment's own keys so each problem is reported once.
        settings = override if default_problems or not isinstance(override, dict) else _deep_merge(defaults, override)
        merged[name] = {**env, "name": name, "settings": settings}
        problems += _validate(EnvironmentConfig, merged[name], source, path)
    body = {k: raw[k] for k in ("project", "localstack", "components") if k in raw}
    problems += _validate(ProjectConfig, {**body, "environments": {}}, source, "")
    problems += _cross_checks({n: e for n, e in environments.items() if isinstance(e, dict)}, source)
    problems += _shared_accounts({n: e for n, e in environments.items() if isinstance(e, dict)}, source)
    if problems:
        raise ConfigError(problems)
    return ProjectConfig.model_validate({**body, "source": source, "environments": merged})


def _mapping(value: Any, source: str, path: str, problems: list[str]) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{source}: {path}: must be a mapping of keys to values; got {value!r}")
        return {}
    return value


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(model: type[BaseModel], data: Any, source: str, prefix: str) -> list[str]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [_format(model, err, source, prefix) for err in exc.errors()]
    return []


def _format(model: type[BaseModel], err: Any, source: str, prefix: str) -> str:
    loc = [str(part) for part in err["loc"]]
    path = ".".join(p for p in [prefix, *loc] if p) or "(top level)"
    kind, message = err["type"], str(err["msg"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return f"{source}: {path}: unknown key; allowed keys here: {', '.join(allowed)}"
    if kind == "missing":
        return f"{source}: {path}: required key is missing; add it"
    message = message.removeprefix("Value error, ").replace("Input should be", "must be")
    value = err.get("input")
    if kind == "string_type":
        message = "must be text; quote it (account ids keep their leading zeros only as text)"
    if kind == "value_error" and (isinstance(value, dict | list) or repr(value) in message):
        return f"{source}: {path}: {message}"
    return f"{source}: {path}: {message} (got {value!r})"


def _allowed_keys(model: type[BaseModel], loc: list[str]) -> list[str]:
    current: Any = model
    for part in loc:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            # Inside a dict (environments.<name>): the value model is the environment.
            current = EnvironmentConfig if current is ProjectConfig else current
            continue
        annotation = field.annotation
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else current
    hidden = {"name"} if current is EnvironmentConfig else {"source"} if current is ProjectConfig else set()
    return [k for k in getattr(current, "model_fields", {}) if k not in hidden]


def _cross_checks(envs: dict[str, dict[str, Any]], source: str) -> list[str]:
    problems = []
    for name, env in envs.items():
        other = _section(_section(env, "settings"), "parameters").get("artifacts_from")
        path = f"{source}: environments.{name}.settings.parameters.artifacts_from"
        if other is not None and other not in envs:
            problems.append(f"{path}: no environment {other!r}; use one of {', '.join(sorted(envs))}")
        elif other == name:
            problems.append(f"{path}: an environment cannot read artifacts from itself; remove the key")
        elif other is not None and _encryption(envs[other]) == "kms":
            problems.append(f"{path}: {other!r} encrypts its buckets with KMS; cross-account artifact reads need "
                            f"environments.{other}.settings.storage.encryption: s3")
        elif other is not None and envs[other].get("region", REGION) != env.get("region", REGION):
            problems.append(f"{path}: {other!r} is in {envs[other].get('region')}, not {env.get('region')}; "
                            f"cross-region artifact reads are not supported")
    return problems


def _section(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    # Cross-checks run on raw YAML that may still hold wrong types; those are reported elsewhere.
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def _encryption(env: dict[str, Any]) -> object:
    return _section(_section(env, "settings"), "storage").get("encryption", "s3")


def _shared_accounts(envs: dict[str, dict[str, Any]], source: str) -> list[str]:
    # Two environments in one account and region collide on account-scoped names (ECR repository, cluster,
    # state machine, log group, SSM prefix) unless both suffix them. Inferring that silently would rename an
    # existing environment's resources the day another one joins its account, so it must be said explicitly.
    problems = []
    groups: dict[tuple[object, object], list[str]] = {}
    for name, env in envs.items():
        groups.setdefault((env.get("account_id"), env.get("region", REGION)), []).append(name)
    for (account, region), names in groups.items():
        unqualified = [n for n in names if envs[n].get("qualify_names") is not True]
        if len(names) > 1 and unqualified:
            problems.append(f"{source}: environments.{unqualified[0]}.qualify_names: environments "
                            f"{', '.join(names)} share account {account} in {region}; set qualify_names: true on "
                            f"each of them (their account-scoped names get the environment as suffix)")
    return problems
