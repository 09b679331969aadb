"""The invoke task collection; another repo's ``tasks.py`` reuses it with ``from dsplatform.tasks import ns``.

A repo with its own configuration file passes ``--config PATH`` or keeps ``dsplatform.yml`` at its root.
Task modules import their heavy dependencies inside the task bodies, so ``invoke --list`` stays fast.
"""

from invoke import Collection

from dsplatform.tasks import (
    check_tasks,
    delivery_tasks,
    deploy_tasks,
    e2e_tasks,
    job_tasks,
    localstack_tasks,
    model_tasks,
    registry_tasks,
    release_tasks,
    synth_tasks,
)
from dsplatform.tasks._cli import install_usage_exit_code

install_usage_exit_code()

ns = Collection()
for _task in (
    check_tasks.check,
    synth_tasks.synth,
    synth_tasks.lint,
    deploy_tasks.diff,
    deploy_tasks.deploy,
    deploy_tasks.outputs,
    deploy_tasks.destroy,
    e2e_tasks.e2e,
    e2e_tasks.promote,
    release_tasks.releases,
    release_tasks.rollback,
    delivery_tasks.bootstrap,
    delivery_tasks.pipeline,
    delivery_tasks.cost,
):
    ns.add_task(_task)
for _task in (model_tasks.fit, model_tasks.register, model_tasks.stage, model_tasks.promote):
    job_tasks.model.add_task(_task)
ns.add_collection(job_tasks.model)
ns.add_collection(job_tasks.data)
ns.add_collection(localstack_tasks.ns)
release_tasks.image.add_task(delivery_tasks.push)  # image.push beside image.tag
ns.add_collection(release_tasks.image)
ns.add_collection(registry_tasks.ns)
ns.add_collection(delivery_tasks.ci)
