"""Registry: the ECR repository of the job image, scanned on push, with a lifecycle rule."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template, ecr

from blueprints.common import add_output, new_template


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
    add_output(template, "RepositoryName", Ref(repo), "ECR repository name")
    add_output(template, "RepositoryUri", GetAtt(repo, "RepositoryUri"), "ECR repository URI")
    add_output(template, "RepositoryArn", GetAtt(repo, "Arn"), "ECR repository ARN")
    return template
