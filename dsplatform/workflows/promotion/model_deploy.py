"""The changing half of `invoke model.promote`, after every check passed: copy, deploy, smoke-test, alias, record.

Order matters: the target's artifact bucket first (storage), then the tested ``model.tar.gz`` copied into it
and verified by SHA-256, then the whole target plan (the serving image pushed to its ECR, the Model naming that
digest), then a smoke test that the target endpoint answers as the source endpoint does, and only then the
registry alias and SSM move (so neither ever names a version that is not serving) and the evidence is recorded.
"""

from __future__ import annotations

import time
from typing import Any

from dsplatform.workflows.promotion.model import (
    ACCURACY,
    PRODUCTION_ALIAS,
    SERVING,
    SERVING_ARTIFACT,
    ModelPromotionResult,
    ModelSmokeFailed,
    ServedModel,
    served_model,
)
from dsplatform.workflows.promotion.record import Record

SMOKE_ROWS = 40


def copy_artifact(source_s3: Any, served: ServedModel, target_s3: Any, bucket: str) -> str:
    """Copy the tested model.tar.gz to the same key of ``bucket`` and check its SHA-256 there; its version id."""
    import hashlib

    from dsplatform.registry.models import SHA_METADATA_KEY
    from dsplatform.workflows.promotion.artifacts import object_sha256

    body = source_s3.get_object(Bucket=served.bucket, Key=served.key)["Body"].read()
    if hashlib.sha256(body).hexdigest() != served.sha256:
        raise ModelSmokeFailed("(source)", f"s3://{served.bucket}/{served.key} changed while promoting")
    target_s3.put_object(Bucket=bucket, Key=served.key, Body=body, ContentType="application/gzip", Metadata={
        SHA_METADATA_KEY: served.sha256, "model-version": f"{served.name}/{served.version}"})
    found = object_sha256(target_s3, bucket, served.key)
    if found is None or found[0] != served.sha256:
        raise ModelSmokeFailed("(target)", f"s3://{bucket}/{served.key} does not hold the tested bytes after the copy")
    return found[1]


def _smoke(source_clients: Any, served: ServedModel, clients: Any, target: ServedModel) -> list[int]:
    """The target endpoint answers the holdout rows exactly as the source endpoint does; its predictions."""
    from dsplatform.registry.scoring import holdout, invoke_csv

    body, _ = holdout(rows=SMOKE_ROWS * 2)
    lines = body.splitlines(keepends=True)
    body = b"".join(lines[:SMOKE_ROWS + 1])
    expected = invoke_csv(source_clients.client("sagemaker-runtime"), served.endpoint, body)
    try:
        answered = invoke_csv(clients.client("sagemaker-runtime"), target.endpoint, body)
    except Exception as err:  # any failure to answer is the smoke test's finding, reported with its reason
        raise ModelSmokeFailed(target.endpoint, f"InvokeEndpoint failed: {err}") from err
    if answered != expected:
        raise ModelSmokeFailed(target.endpoint, f"{sum(a != e for a, e in zip(answered, expected, strict=False))} "
                                                f"of {len(expected)} predictions differ from {served.endpoint}'s")
    return answered


def deploy_promoted(project: Any, plan: Any, source_clients: Any, served: ServedModel, record: Record,
                    result: ModelPromotionResult, write_parameter: bool, target: str | None, began: float) -> None:
    """Deploy ``plan`` serving the tested artifact and digest, smoke-test, move alias and SSM, record."""
    from blueprints.storage import StorageOutputs
    from dsplatform.deployer import ClientFactory, DeployOptions, deploy, read_deployed
    from dsplatform.lifecycle import deployment
    from dsplatform.registry import registry_uri
    from dsplatform.registry.models import parameter_value, run_ops
    from dsplatform.workflows.promotion.artifacts import ArtifactEvidence
    from dsplatform.workflows.promotion.record import image_evidence, now, who
    from dsplatform.workflows.promotion.store import put_record

    to_env, from_env = plan.target.env, result.from_env
    clients = ClientFactory(plan.target)
    caller = clients.verify_account()
    storage = plan.select(["storage"])
    deploy(storage, clients, DeployOptions()).raise_for_failure()
    bucket = read_deployed(storage, clients).get(StorageOutputs).artifact_bucket_name
    version_id = copy_artifact(source_clients.client("s3"), served, clients.client("s3"), bucket)
    with deployment(plan, clients, keep=True) as dep:  # keep: a promotion deploys for good
        pushed = dep.images.get(SERVING)
        deployed = served_model(dep.deployed, clients)
        if pushed is None or deployed is None or deployed.digest != served.digest:
            raise ModelSmokeFailed(to_env, f"{to_env}'s model names image {deployed.digest if deployed else '-'}, "
                                           f"not the tested {served.digest}")
        _smoke(source_clients, served, clients, deployed)
        result.seconds_to_serving = time.monotonic() - began
        uri = registry_uri(project.environment(to_env, target))
        run_ops(uri, "stage", "--name", served.name, "--version", served.version, "--alias", PRODUCTION_ALIAS)
        parameter = str(dep.deployed["parameters"].parameter_prefix) + "model-version"
        if write_parameter:
            clients.client("ssm").put_parameter(Name=parameter, Value=parameter_value(served.name, served.version),
                                                Type="String", Overwrite=True,
                                                Description="dsplatform: the promoted model version")
        else:
            result.notes.append(f"{parameter} is owned by the parameters stack (settings.parameters.model_version)")
        promotion = Record(
            kind="model-promotion", env=to_env, account_id=plan.target.account_id, created_at=now(), who=who(caller),
            images=image_evidence({SERVING: pushed}), scenarios=tuple(record.scenarios), renderings={},
            source={"from_env": from_env, "evidence": result.evidence, "model": f"{served.name}/{served.version}",
                    "alias": PRODUCTION_ALIAS, "parameter": parameter},
            artifacts=(ArtifactEvidence(SERVING_ARTIFACT, bucket, served.key, served.sha256, version_id),),
            metrics={ACCURACY: record.metrics[ACCURACY]})
        key = put_record(clients.client("s3"), bucket, promotion)
        result.record_key = f"s3://{bucket}/{key}"
        if dep.release is not None:
            from dsplatform.releases import add_event

            add_event(clients, dep.release_bucket, dep.release, "model-promoted",
                      f"{served.name} v{served.version} from {from_env}, evidence {result.evidence}")
