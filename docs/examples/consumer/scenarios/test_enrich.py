"""The team's own scenario: its enrich job, run as a real ECS task on the deployed stock cluster, writes its
summary where the stock output bucket is. Every fact comes from the deployed stacks' typed outputs."""

from __future__ import annotations

import json

from team_infra.enrich import PREFIX, EnrichOutputs


def test_enrich_job_runs_on_the_stock_cluster_and_writes_its_summary(ds_run, ds_platform, ds_deployed, ds_clients,
                                                                     ds_wait):
    enrich = ds_deployed.get(EnrichOutputs)
    run = ds_run("enrich")
    ecs, s3 = ds_clients.client("ecs"), ds_clients.client("s3")
    key = f"{PREFIX}{run.id}.json"
    run.add_cleanup(f"delete s3://{ds_platform.output_bucket}/{key}",
                    lambda: s3.delete_object(Bucket=ds_platform.output_bucket, Key=key))
    task = ecs.run_task(
        cluster=ds_platform.cluster_arn, taskDefinition=enrich.task_definition_arn, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": list(ds_platform.subnet_ids),
                                                      "securityGroups": [ds_platform.security_group_id]}},
        overrides={"containerOverrides": [{"name": enrich.container_name,
                                           "environment": [{"name": "RUN_ID", "value": run.id}]}]},
    )["tasks"][0]
    stopped = ds_wait.aws(ecs, "DescribeTasks", cluster=ds_platform.cluster_arn, tasks=[task["taskArn"]],
                          success_path="tasks[0].lastStatus", success="STOPPED", what="the enrich task to stop")
    assert stopped["tasks"][0]["containers"][0].get("exitCode") == 0, stopped["tasks"][0].get("stoppedReason")
    body = json.loads(s3.get_object(Bucket=ds_platform.output_bucket, Key=key)["Body"].read())
    assert body == {"run_id": run.id, "job": "enrich", "status": "done"}
