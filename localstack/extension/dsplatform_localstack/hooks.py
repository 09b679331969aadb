"""LocalStack lifecycle hooks: patch at start, warm the local images' venvs once the gateway is ready."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
_WATCH_SECONDS = 0.5  # how often the warm-up looks for newly registered image sources (a small local file)


@hooks.on_infra_start()
def apply_patches() -> None:
    """Bind the gateway to its host; fix the unsupported-type check, runTask.sync failures, dropped properties,
    rollback triggers, outputs published after the stack's status, Distributed Map runs (thresholds, results,
    paging), the missing ContinueUpdateRollback, and Lambda alias / event invoke config updates, and
    LocalStack's own 1 s polls in the CloudFormation engine and the Lambda function update; and release multipart
    parts while an object is assembled (s3_multipart: the disk held every upload twice)."""
    from dsplatform_localstack import (
        cfn_continue,
        cfn_fixes,
        cfn_lambda,
        cfn_outputs,
        cfn_polling,
        cfn_rollback,
        cfn_support,
        cfn_triggers,
        cfn_updates,
        ecs_runner,
        gateway_bind,
        lambda_async,
        s3_multipart,
        sfn_ecs,
        sfn_fail,
        sfn_map_parse,
        sfn_map_reader,
        sfn_map_run,
    )

    gateway_bind.install()
    cfn_support.install()
    cfn_support.prefer_extension_providers()
    sfn_ecs.install()
    sfn_fail.install()
    sfn_map_parse.install()
    sfn_map_reader.install()
    sfn_map_run.install()
    cfn_fixes.install()
    cfn_rollback.install()
    cfn_rollback.install_skip_never_created()
    cfn_triggers.install()  # wraps cfn_rollback's executor patch
    cfn_updates.install()
    cfn_outputs.install()
    cfn_continue.install()
    cfn_lambda.install()
    cfn_polling.install()  # after cfn_rollback's deploy_loop patch: both stay
    lambda_async.install()
    ecs_runner.install()
    s3_multipart.install()
    LOG.info("dsplatform extension: patches applied")


@hooks.on_infra_ready()
def warm_images() -> None:
    """Build the venv of every mapped image in the background, and of images registered later (pip may take
    minutes; tasks wait on its lock)."""
    from dsplatform_localstack import local_images

    state_dir = os.environ.get("DSPLATFORM_STATE_DIR")
    status_file = Path(state_dir) / "images.json" if state_dir else None
    threading.Thread(
        target=local_images.prebuild,
        args=(status_file, _WATCH_SECONDS),
        daemon=True,
        name="dsplatform-warm-images",
    ).start()


@hooks.on_infra_shutdown()
def stop_tasks() -> None:
    """Stop every running task's processes, so none outlives LocalStack."""
    from dsplatform_localstack import ecs_runner

    ecs_runner.stop_all("LocalStack is shutting down")


@hooks.on_infra_shutdown()
def stop_endpoints() -> None:
    """Stop every SageMaker endpoint's serving replicas, so none outlives LocalStack."""
    from dsplatform_localstack import sagemaker_endpoints

    sagemaker_endpoints.stop_all()
