"""Registry: the ECR repository of the job image, scanned on push, with a lifecycle rule."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template, ecr

from blueprints.common import new_template
from blueprints.outputs import Key, Outputs


class RegistryOutputs(Outputs):
    """Outputs of the registry stack."""

    repository_name = Key("ECR repository name")
    repository_uri = Key("ECR repository URI")
    repository_arn = Key("ECR repository ARN")


@dataclass(frozen=True)
class RegistryProps:
    """Inputs of the registry blueprint."""

    repository_name: str
    tag_mutability: str = "MUTABLE"
    scan_on_push: bool = True
    max_images: int = 30


def lifecycle_policy(max_images: int) -> str:
    """ECR lifecycle policy text that keeps the newest ``max_images`` images."""
    return json.dumps({"rules": [{
        "rulePriority": 1, "description": f"keep the newest {max_images} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": max_images},
        "action": {"type": "expire"}}]}, sort_keys=True)


def build(props: RegistryProps) -> Template:
    """Render the registry template."""
    template = new_template("registry (ECR repository of the job image)")
    repo = template.add_resource(ecr.Repository(
        "Repository", RepositoryName=props.repository_name, ImageTagMutability=props.tag_mutability,
        ImageScanningConfiguration=ecr.ImageScanningConfiguration(ScanOnPush=props.scan_on_push),
        EncryptionConfiguration=ecr.EncryptionConfiguration(EncryptionType="AES256"),
        LifecyclePolicy=ecr.LifecyclePolicy(LifecyclePolicyText=lifecycle_policy(props.max_images))))
    RegistryOutputs.repository_name.emit(template, Ref(repo))
    RegistryOutputs.repository_uri.emit(template, GetAtt(repo, "RepositoryUri"))
    RegistryOutputs.repository_arn.emit(template, GetAtt(repo, "Arn"))
    return template
