"""Tasks ``model.fit|register|stage``: the sample predictive model through the MLflow registry (library:
dsplatform.registry.models). The registry is the environment's (settings.model_registry.uri on AWS, the local
server of `invoke registry.start` on LocalStack)."""

from __future__ import annotations

from invoke import task

from dsplatform.tasks._cli import next_command, number_flag, plan_and_clients, user_errors

_COMMON = {"env": "environment (dev, stg, prod)", "config": "config file (default: dsplatform.yml)",
           "target": "override the environment's target: localstack or aws"}


def _uri_and_name(env: str, config: str | None, target: str | None, name: str | None) -> tuple[str, str]:
    from dsplatform.config.loader import load_config
    from dsplatform.registry import registry_uri
    from dsplatform.registry.models import check_name

    project = load_config(config)
    return registry_uri(project.environment(env, target)), check_name(name or f"{project.project.name}-model")


@task(help={**_COMMON, "data": "job output CSV to train on (default: the job's checks over generated sample input)",
            "rows": "rows of generated sample input (without --data)", "seed": "random seed"})
@user_errors
def fit(c, env="dev", config=None, target=None, data=None, rows="2000", seed="0"):  # type: ignore[no-untyped-def]
    """Train the sample predictive model on the preprocessing output and log it (pyfunc, signature) as a run."""
    from pathlib import Path

    from dsplatform.errors import UsageError
    from dsplatform.registry.models import fit as fit_model
    from dsplatform.registry.models import sample_training_csv

    uri, name = _uri_and_name(env, config, target, None)
    seed_value = int(number_flag("--seed", seed, minimum=0, example="0"))
    if data:
        if not Path(data).is_file():
            raise UsageError(f"--data {data!r} is not a file; give the job's output.csv, e.g. --data build/output.csv")
        payload = Path(data).read_bytes()
    else:
        payload = sample_training_csv(int(number_flag("--rows", rows, minimum=100, example="2000")), seed_value)
    result = fit_model(uri, payload, experiment=name, seed=seed_value)
    print(f"run {result.run_id}: accuracy {result.accuracy:.3f} on a 25% holdout of {result.rows} rows; "
          f"register it with `{next_command('model.register', env, config, target, run=result.run_id)}`")


@task(help={**_COMMON, "run": "run id printed by model.fit", "name": "registered model name (default <project>-model)"})
@user_errors
def register(c, run, env="dev", config=None, target=None, name=None):  # type: ignore[no-untyped-def]
    """Register a run's model as a new version in the registry."""
    from dsplatform.registry.models import register as register_model

    uri, model_name = _uri_and_name(env, config, target, name)
    version = register_model(uri, run, model_name)
    print(f"registered {model_name} version {version}; stage it with "
          f"`{next_command('model.stage', env, config, target, version=version, name=name)}`")


@task(help={**_COMMON, "version": "registered version to stage", "name": "registered model name"})
@user_errors
def stage(c, version, env="dev", config=None, target=None, name=None):  # type: ignore[no-untyped-def]
    """Alias a version `staging`, export its model.tar.gz (with SHA-256) to the artifact bucket, record it in SSM."""
    from dsplatform.config.loader import load_config
    from dsplatform.registry.models import stage as stage_model

    uri, model_name = _uri_and_name(env, config, target, name)
    version = str(int(number_flag("--version", version, minimum=1, example="1")))
    configured = load_config(config).environment(env, target).settings.parameters.model_version
    plan, clients = plan_and_clients(env, config, target)
    staged = stage_model(plan, clients, uri, model_name, version, configured)
    print(f"{staged.name} v{staged.version} is {staged.alias}: {staged.model_data_url} (sha256 {staged.sha256}); "
          f"{staged.parameter} = models:/{staged.name}/{staged.version}")


@task(
    name="promote",
    help={"from": "environment whose serving scenarios passed (default stg)", "to": "environment to serve it in",
          "yes": "do not ask for confirmation (CI)", "config": "config file (default: dsplatform.yml)",
          "target": "override the environments' target: localstack or aws"},
)
@user_errors
def promote(c, from_="stg", to="prod", yes=False, target=None, config=None):  # type: ignore[no-untyped-def]
    """Promote the served model version: refuse without stg evidence (version, SHA-256, image digest, quality
    bar), confirm, deploy the prod endpoint with that artifact and digest, smoke-test, move the alias, record."""
    from dsplatform.tasks._cli import env_flag
    from dsplatform.workflows.promotion.model import promote_model

    result = promote_model(env_flag(from_, "--from"), env_flag(to, "--to"), yes=yes, config_path=config,
                           target=target)
    print(f"promoted {result.name} v{result.version} {result.from_env} -> {result.to_env} (image {result.digest}, "
          f"accuracy {result.accuracy:.3f}); serving after {result.seconds_to_serving:.1f} s")
    print(f"evidence: {result.evidence}\nrecord: {result.record_key}")
    for note in result.notes:
        print(f"note: {note}")
