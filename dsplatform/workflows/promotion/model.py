"""`invoke model.promote`: a served model version moves stg -> prod only on evidence from stg's serving scenarios.

The evidence is the source environment's passing e2e record (``invoke e2e``): it names the serving model's
``model.tar.gz`` with its SHA-256 (``serving-model`` artifact), the serving image's pushed digest and the holdout
accuracy the serving scenarios measured on the staging endpoint (``serving.accuracy``). The gate compares them
with what the source serves now and the target's quality bar (``settings.serving.min_accuracy``), refusing with
one line (exit 2) before anything changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dsplatform.errors import DsPlatformError
from dsplatform.workflows.promotion.artifacts import ArtifactEvidence, object_sha256
from dsplatform.workflows.promotion.record import Record

SERVING = "serving"  # the component and its image's job
SERVING_ARTIFACT = "serving-model"  # the artifact name in records
ACCURACY = "serving.accuracy"  # the metric the serving scenarios record
PRODUCTION_ALIAS = "production"


class ModelPromotionRefused(DsPlatformError):
    """No evidence vouches for the served version (or the target is not ready for it); nothing changed."""

    exit_code = 2

    def __init__(self, from_env: str, to_env: str, reason: str) -> None:
        self.from_env, self.to_env, self.reason = from_env, to_env, reason
        super().__init__(f"model.promote {from_env} -> {to_env} refused: {reason}")


class ModelSmokeFailed(DsPlatformError):
    """The target endpoint was deployed but does not answer as the source does; the alias did not move."""

    exit_code = 5

    def __init__(self, to_env: str, reason: str) -> None:
        super().__init__(f"{to_env} serving deployed but its smoke test failed: {reason}; the registry alias and SSM "
                         f"were not changed; fix and re-run, or `invoke rollback --env {to_env}`")


@dataclass(frozen=True)
class ServedModel:
    """What an environment's serving stack serves: endpoint, registered version, artifact and image digest."""

    endpoint: str
    name: str
    version: str
    bucket: str
    key: str
    sha256: str
    version_id: str
    image: str
    digest: str  # "" when the model names its image by tag


@dataclass
class ModelPromotionResult:
    """What a model promotion did."""

    from_env: str
    to_env: str
    name: str = ""
    version: str = ""
    evidence: str = ""
    record_key: str = ""
    digest: str = ""
    accuracy: float = 0.0
    seconds_to_serving: float = 0.0  # from the start of model.promote to the prod endpoint answering the smoke test
    notes: list[str] = field(default_factory=list)


def served_model(deployed: Any, clients: Any) -> ServedModel | None:
    """The serving stack's model as deployed (its container's image, model data hashed from S3), or None."""
    from blueprints.serving import ServingOutputs

    if SERVING not in deployed:
        return None
    outputs = deployed.get(ServingOutputs)
    container = clients.client("sagemaker").describe_model(ModelName=outputs.model_name)["PrimaryContainer"]
    bucket, key = str(outputs.model_data_url)[len("s3://"):].split("/", 1)
    parts = key.split("/")  # models/<name>/<version>/model.tar.gz (dsplatform.components.serving.model_key)
    found = object_sha256(clients.client("s3"), bucket, key)
    image = str(container["Image"])
    return ServedModel(endpoint=outputs.endpoint_name, name=parts[1], version=parts[2], bucket=bucket, key=key,
                       sha256=found[0] if found else "", version_id=found[1] if found else "", image=image,
                       digest=image.split("@", 1)[1] if "@" in image else "")


def serving_evidence(deployed: Any, clients: Any) -> tuple[ArtifactEvidence, ...]:
    """The served model.tar.gz as an e2e record's artifact (empty without a serving stack)."""
    served = served_model(deployed, clients)
    if served is None or not served.sha256:
        return ()
    return (ArtifactEvidence(SERVING_ARTIFACT, served.bucket, served.key, served.sha256, served.version_id),)


def gate(records: list[tuple[str, Record]], served: ServedModel, bar: float, from_env: str, to_env: str) -> tuple[
        str, Record]:
    """The newest passing record for exactly this artifact and image digest whose accuracy meets ``bar``."""
    what = f"{served.name} v{served.version}"
    below: tuple[float, str] | None = None
    for key, record in records:
        artifact = next((a for a in record.artifacts if a.name == SERVING_ARTIFACT), None)
        image = next((i for i in record.images if i.job == SERVING), None)
        if not record.passed or artifact is None or image is None:
            continue
        if (artifact.bucket, artifact.key, artifact.sha256, image.digest) != (
                served.bucket, served.key, served.sha256, served.digest):
            continue
        score = record.metrics.get(ACCURACY)
        if score is None:
            continue
        if score < bar:
            below = below or (score, key)
            continue
        return key, record
    if below is not None:
        raise ModelPromotionRefused(from_env, to_env, f"{ACCURACY} {below[0]:.3f} of {what} on the {from_env} holdout "
                                                      f"is below environments.{to_env}.settings.serving.min_accuracy "
                                                      f"{bar} (record {below[1]}); train a better model and stage it")
    raise ModelPromotionRefused(from_env, to_env, f"no passing {from_env} e2e record covers {what} (model.tar.gz "
                                                  f"sha256 {served.sha256[:12]}..., image {served.digest[:19]}...) "
                                                  f"with a measured {ACCURACY}; run `invoke e2e --env {from_env} "
                                                  f"--keep` with the serving component first")


@dataclass(frozen=True)
class _Checked:
    served: ServedModel
    evidence_key: str
    record: Record
    source_clients: Any
    write_parameter: bool


def _check(project: Any, source_plan: Any, plan: Any, target: str | None) -> _Checked:
    """Every refusal, before anything changes."""
    from blueprints.storage import StorageOutputs
    from dsplatform.deployer import ClientFactory, read_deployed
    from dsplatform.images import image_digest
    from dsplatform.registry.models import tasks_own_parameter
    from dsplatform.workflows.promotion.store import list_records

    from_env, to_env = source_plan.target.env, plan.target.env
    for each in (source_plan, plan):
        if not any(spec.component == SERVING for spec in each.stacks):
            raise ModelPromotionRefused(from_env, to_env, f"{each.target.env} has no serving component; add "
                                                          f"components.plugins: [serving]")
    source_clients = ClientFactory(source_plan.target)
    source_clients.verify_account()
    deployed = read_deployed(source_plan, source_clients)
    served = served_model(deployed, source_clients) if "storage" in deployed else None
    if served is None or not served.sha256:
        raise ModelPromotionRefused(from_env, to_env, f"{from_env} serves no model (serving stack or its "
                                                      f"model.tar.gz missing); deploy it and run its e2e first")
    env = project.environment(to_env, target)
    records = list_records(source_clients.client("s3"), deployed.get(StorageOutputs).artifact_bucket_name, "e2e")
    key, record = gate(records, served, env.settings.serving.min_accuracy, from_env, to_env)
    s = env.settings.serving
    if (s.model_version, s.model_sha256) != (served.version, served.sha256):
        raise ModelPromotionRefused(from_env, to_env, f"environments.{to_env}.settings.serving names model_version "
                                                      f"{s.model_version!r} sha256 {s.model_sha256!r}; set "
                                                      f"model_version: '{served.version}' and model_sha256: "
                                                      f"{served.sha256} (what passed in {from_env}) and re-run")
    image = next(i for i in plan.images if i.job == SERVING)
    digest = image_digest(image.source)
    if digest != served.digest:
        raise ModelPromotionRefused(from_env, to_env, f"{image.source} is image {digest[:19]}... now, but "
                                                      f"{served.digest[:19]}... passed in {from_env}; run its e2e "
                                                      f"again with this source or check out the tested one")
    write = tasks_own_parameter(to_env, env.settings.parameters.model_version, served.name, served.version)
    return _Checked(served, key, record, source_clients, write)


def promote_model(from_env: str, to_env: str, yes: bool = False, config_path: str | None = None,
                  target: str | None = None, confirm: Callable[[str], bool] | None = None) -> ModelPromotionResult:
    """Refuse without evidence; else confirm, deploy the target's serving with that artifact and digest,
    smoke-test it against the source endpoint, move the registry alias, record SSM and the evidence."""
    from dsplatform.config import load_config
    from dsplatform.synth import build_plan
    from dsplatform.workflows.confirm import ask
    from dsplatform.workflows.e2e import ensure_localstack
    from dsplatform.workflows.promotion.promote import PromotionAborted, check_direction

    began = time.monotonic()
    project = load_config(config_path)
    check_direction(project, from_env, to_env, target)
    source_plan, plan = build_plan(from_env, config_path, target), build_plan(to_env, config_path, target)
    if plan.target.kind == "localstack":
        ensure_localstack(plan)
    checked = _check(project, source_plan, plan, target)
    plan = plan.select([SERVING, "parameters"])  # the model moves, not the batch platform: serving and SSM only
    served, record = checked.served, checked.record
    result = ModelPromotionResult(from_env, to_env, served.name, served.version, digest=served.digest,
                                  accuracy=record.metrics[ACCURACY])
    result.evidence = f"s3://{served.bucket}/{checked.evidence_key}"
    question = (f"Promote {served.name} v{served.version} {from_env} -> {to_env}: deploy {to_env}'s serving with "
                f"model.tar.gz sha256 {served.sha256[:12]}... and image {served.digest[:19]}... (accuracy "
                f"{result.accuracy:.3f}, evidence {result.evidence})?")
    if plan.target.protected and not yes and not (confirm or ask)(question):
        raise PromotionAborted(from_env, to_env)
    from dsplatform.workflows.promotion.model_deploy import deploy_promoted

    deploy_promoted(project, plan, checked.source_clients, served, record, result, checked.write_parameter,
                    target, began)
    return result
