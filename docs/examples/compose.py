"""Example: another repo imports dsplatform's blueprints and composes them into its own template.

Run it with ``python docs/examples/compose.py``; the test suite runs it too (tests/unit/test_examples.py).
"""

from __future__ import annotations

from troposphere import Output, Ref, sqs

from blueprints import storage
from dsplatform.naming import Names


def build_team_template() -> dict:
    """A team stack: dsplatform's secure buckets plus the team's own queue, in one template."""
    names = Names(project="ds", env="dev", account_id="111111111111", region="us-east-1", qualify=False)
    template = storage.build(storage.StorageProps(
        input_bucket=names.input_bucket, output_bucket=names.output_bucket,
        artifact_bucket=names.artifact_bucket, artifact_readers=("222222222222",)))
    queue = template.add_resource(sqs.Queue("TeamEventsQueue", SqsManagedSseEnabled=True))
    template.add_output(Output("TeamEventsQueueUrl", Value=Ref(queue)))
    return template.to_dict()


if __name__ == "__main__":
    import json

    print(json.dumps(build_team_template(), indent=2, sort_keys=True))
