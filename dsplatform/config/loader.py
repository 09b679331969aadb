"""Load ``dsplatform.yml``: parse, merge defaults into each environment, validate, and report every problem.

Each problem is one line: ``<file>: <key path>: <what is wrong> (got <value>)``, and all problems are reported
together in one ConfigError, so a user fixes the file in one pass.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dsplatform.config.models import ComponentSettings, EnvironmentConfig, ProjectConfig
from dsplatform.config.yamlsafe import MAX_FILE_BYTES, ConfigYamlError, decode, safe_load
from dsplatform.display import shown, shown_text
from dsplatform.errors import ConfigError

DEFAULT_FILE = "dsplatform.yml"
ENV_NAME_RE = re.compile(r"[a-z0-9]{1,10}")
REGION = "us-east-1"  # EnvironmentConfig.region's default
TOP_LEVEL_KEYS = ("project", "localstack", "components", "delivery", "defaults", "environments")


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
    if file.is_dir():
        raise ConfigError([f"{file}: is a folder, not a file; pass the YAML file to --config"])
    if file.exists() and not file.is_file():
        # A FIFO or a device would block or read forever.
        raise ConfigError([f"{file}: is not a regular file; pass the YAML file to --config"])
    try:
        with file.open("rb") as handle:
            # One byte more than the limit, so an oversized file is refused without reading all of it.
            data = handle.read(MAX_FILE_BYTES + 1)
        text = decode(data)
    except OSError as exc:
        raise ConfigError([f"{file}: cannot be read: {exc.strerror}; check the path given to --config"]) from exc
    except ConfigYamlError as exc:
        raise ConfigError([f"{file}: {exc}"]) from None
    return parse_config(text, source=str(file))


def parse_config(text: str, source: str = "<memory>") -> ProjectConfig:
    """Validate configuration text (YAML); raise ConfigError listing every problem."""
    try:
        raw = safe_load(text)
    except ConfigYamlError as exc:
        raise ConfigError([f"{source}: {exc}"]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{source}: the file must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}; "
                           f"got {type(raw).__name__}"])
    problems: list[str] = []
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            problems.append(f"{source}: {shown_text(str(key))}: unknown key; allowed keys: {', '.join(TOP_LEVEL_KEYS)}")
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
        path = f"environments.{shown_text(str(name))}"
        if not isinstance(name, str) or not ENV_NAME_RE.fullmatch(name):
            problems.append(f"{source}: {path}: environment names must be 1-10 lowercase letters or digits; "
                            f"got {shown(name)}")
            continue  # its settings are checked once it has a usable name
        if env_raw is not None and not isinstance(env_raw, dict):
            _mapping(env_raw, source, path, problems)
            continue  # one problem, not a second "account_id missing" for the same mistake
        env = env_raw or {}
        override = env.get("settings") or {}
        # With broken defaults, check only the environment's own keys so each problem is reported once.
        settings = override if default_problems or not isinstance(override, dict) else _deep_merge(defaults, override)
        merged[name] = {**env, "name": name, "settings": settings}
        problems += _validate(EnvironmentConfig, merged[name], source, path)
    body = {k: raw[k] for k in ("project", "localstack", "components", "delivery") if k in raw}
    problems += _validate(ProjectConfig, {**body, "environments": {}}, source, "")
    problems += _cross_checks({n: e for n, e in environments.items() if isinstance(e, dict)}, source)
    problems += _shared_accounts({n: e for n, e in environments.items() if isinstance(e, dict)}, source)
    if problems:
        raise ConfigError(problems)
    return ProjectConfig.model_validate(_tuples({**body, "source": source, "environments": merged}))


def _mapping(value: Any, source: str, path: str, problems: list[str]) -> dict[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{source}: {path}: must be a mapping of keys to values; got {shown(value)}")
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


def _tuples(value: Any) -> Any:
    # Models are strict (no coercion), and strict tuple fields take tuples only: YAML lists become tuples here.
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _validate(model: type[BaseModel], data: Any, source: str, prefix: str) -> list[str]:
    try:
        model.model_validate(_tuples(data))
    except ValidationError as exc:
        return [_format(model, err, source, prefix) for err in exc.errors()]
    return []


def _format(model: type[BaseModel], err: Any, source: str, prefix: str) -> str:
    # pydantic marks a bad mapping key with a trailing "[key]" part; the path already ends at that key.
    loc = [shown_text(str(part)) for part in err["loc"] if part != "[key]"]
    path = ".".join(p for p in [prefix, *loc] if p) or "(top level)"
    kind, message = err["type"], str(err["msg"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return f"{source}: {path}: unknown key; allowed keys here: {', '.join(allowed)}"
    if kind == "missing":
        return f"{source}: {path}: required key is missing; add it"
    message = message.removeprefix("Value error, ").replace("Input should be", "must be")
    value = _lists(err.get("input"))
    if kind == "string_type":
        message = "must be text; quote it (account ids keep their leading zeros only as text)"
    message = _STRICT_MESSAGES.get(kind, message)
    if kind == "value_error" and (isinstance(value, dict | list) or shown(value) in message):
        return f"{source}: {path}: {message}"
    return f"{source}: {path}: {message} (got {shown(value)})"


def _lists(value: Any) -> Any:
    # Shown as the user wrote them: YAML lists, not the tuples they were turned into.
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_lists(v) for v in value]
    return value


# Strict types (no coercion): say what to write instead of pydantic's wording.
_STRICT_MESSAGES = {
    "int_type": "must be a whole number, unquoted (true/false and text are not numbers)",
    "bool_type": "must be true or false, unquoted",
    "tuple_type": "must be a list, e.g. [a, b]",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
}


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
        path = f"{source}: environments.{shown_text(str(name))}.settings.parameters.artifacts_from"
        if not isinstance(other, str):
            continue  # None, or a wrong type that the model reports
        if other not in envs:
            problems.append(f"{path}: no environment {shown(other)}; use one of {', '.join(sorted(map(str, envs)))}")
        elif other == name:
            problems.append(f"{path}: an environment cannot read artifacts from itself; remove the key")
        elif _encryption(envs[other]) == "kms":
            problems.append(f"{path}: {other!r} encrypts its buckets with KMS; cross-account artifact reads need "
                            f"environments.{other}.settings.storage.encryption: s3")
        elif envs[other].get("region", REGION) != env.get("region", REGION):
            here, there = shown(env.get("region", REGION)), shown(envs[other].get("region", REGION))
            problems.append(f"{path}: {other!r} is in {there}, not {here}; "
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
