"""Promotion evidence: what exactly passed (template and parameter hashes, image), when, and by whom."""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from dsplatform.hashing import folder_sha256, sha256_json
from dsplatform.stackspec import Plan
from dsplatform.workflows.promotion.artifacts import ArtifactEvidence

SCHEMA_VERSION = 3  # 3: artifacts (the model's SHA-256); 2: one ImageEvidence per job (1 had a single `image`)


@dataclass(frozen=True)
class StackHash:
    """One stack's identity: hashes of its rendered template and of its literal parameters."""

    stack: str
    component: str
    template_sha256: str
    parameters_sha256: str


@dataclass(frozen=True)
class Rendering:
    """Every stack of one environment as rendered from the tested checkout (``error`` if it did not render)."""

    env: str
    target_kind: str
    stacks: dict[str, StackHash] = field(default_factory=dict)  # component -> hash
    error: str = ""


@dataclass(frozen=True)
class ImageEvidence:
    """One job's image: job, repository, tag, the digest ECR reported, and the digest of its source folder."""

    job: str
    repository: str
    tag: str
    digest: str
    source_digest: str


@dataclass(frozen=True)
class Who:
    """Who produced a record: the STS caller ARN, the local user and host."""

    caller_arn: str
    local_user: str
    host: str


@dataclass(frozen=True)
class Record:
    """A record in an environment's account: an e2e pass (``kind="e2e"``) or a promotion (``"promotion"``)."""

    kind: str
    env: str
    account_id: str
    created_at: str
    who: Who
    images: tuple[ImageEvidence, ...]
    scenarios: tuple[str, ...]
    renderings: dict[str, Rendering]  # env -> how the tested checkout renders it
    deployed_hashes: dict[str, str] = field(default_factory=dict)  # stack -> deployed content-hash tag
    source: dict[str, str] = field(default_factory=dict)  # promotion: from env, record key
    passed: bool = True
    version: int = SCHEMA_VERSION
    artifacts: tuple[ArtifactEvidence, ...] = ()  # the model as it passed (promotion verifies its bytes)
    metrics: dict[str, float] = field(default_factory=dict)  # what scenarios measured, e.g. serving.accuracy

    @property
    def id(self) -> str:
        """A sortable id: creation time plus a short hash of the content."""
        stamp = self.created_at.replace(":", "").replace("-", "")
        return f"{stamp}-{sha256_json(self.to_dict())[:8]}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)

    def to_json(self) -> str:
        """Indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """Rebuild a record read from the store."""
        renderings = {
            env: Rendering(
                env=r["env"],
                target_kind=r["target_kind"],
                stacks={c: StackHash(**h) for c, h in r.get("stacks", {}).items()},
                error=r.get("error", ""),
            )
            for env, r in data.get("renderings", {}).items()
        }
        return cls(
            kind=data["kind"],
            env=data["env"],
            account_id=data["account_id"],
            created_at=data["created_at"],
            who=Who(**data["who"]),
            images=_images(data),
            scenarios=tuple(data.get("scenarios", ())),
            renderings=renderings,
            deployed_hashes=dict(data.get("deployed_hashes", {})),
            source=dict(data.get("source", {})),
            passed=bool(data.get("passed", False)),
            version=int(data.get("version", 0)),
            artifacts=tuple(ArtifactEvidence(**a) for a in data.get("artifacts", ())),
            metrics={str(k): float(v) for k, v in (data.get("metrics") or {}).items()},
        )


def _images(data: dict[str, Any]) -> tuple[ImageEvidence, ...]:
    if "images" in data:
        return tuple(ImageEvidence(**image) for image in data["images"])
    # Schema 1 had one image, of the stock job.
    return (ImageEvidence(job="preprocessing", **data["image"]),) if "image" in data else ()


def image_evidence(pushed: Any) -> tuple[ImageEvidence, ...]:
    """Evidence of what ``dsplatform.images.push_images`` pushed (job -> PushedImage), sorted by job."""
    return tuple(ImageEvidence(p.job, p.repository, p.tag, p.digest, p.source_digest)
                 for _, p in sorted(pushed.items()))


def _parameters_with_code(spec: Any) -> dict[str, str]:
    """The literal parameters, plus each code asset's source digest: the deployer fills the asset parameters
    at deploy time, so without it a function's code change would not change the evidence."""
    if not spec.assets:
        return dict(spec.parameters)
    return {**spec.parameters, **{f"asset:{a.name}": folder_sha256(a.source) for a in spec.assets}}


def render(plan: Plan) -> Rendering:
    """Hash every stack of a plan (component-keyed, so environments can be compared)."""
    stacks = {
        spec.component: StackHash(
            stack=spec.name,
            component=spec.component,
            template_sha256=sha256_json(spec.template),
            parameters_sha256=sha256_json(_parameters_with_code(spec)),
        )
        for spec in plan.stacks
    }
    return Rendering(env=plan.target.env, target_kind=plan.target.kind, stacks=stacks)


def render_all(envs: list[str], config_path: str | None, target: str | None) -> dict[str, Rendering]:
    """Render every configured environment from the current checkout; a failure is kept as ``error``."""
    from dsplatform.errors import DsPlatformError
    from dsplatform.synth import build_plan

    out: dict[str, Rendering] = {}
    for env in envs:
        try:
            out[env] = render(build_plan(env, config_path, target))
        except DsPlatformError as err:
            out[env] = Rendering(env=env, target_kind=target or "", error=str(err).splitlines()[0])
    return out


def who(caller_arn: str) -> Who:
    """The current actor."""
    try:
        user = getpass.getuser()
    except OSError:  # no login name (some CI containers)
        user = "unknown"
    return Who(caller_arn=caller_arn, local_user=user, host=socket.gethostname())


def now() -> str:
    """UTC timestamp in ISO 8601 (seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployed_hashes(cfn_client: Any, plan: Plan) -> dict[str, str]:
    """The deployer's content-hash tag of each deployed stack of the plan (what is really deployed)."""
    wanted = {spec.name for spec in plan.stacks}
    found: dict[str, str] = {}
    for page in cfn_client.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            # Listings include deleted stacks (LocalStack always, AWS by id): they are not deployed.
            if stack["StackName"] in wanted and stack["StackStatus"] != "DELETE_COMPLETE":
                tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
                found[stack["StackName"]] = tags.get("dsplatform:content-hash", "")
    return found
