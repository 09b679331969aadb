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


# Images a release refers to carry a tag with one of these prefixes (``rel-<release id>``, and version tags like
# v1.2.3 from `invoke image.tag`); rule 1 keeps them, and ECR never lets a lower-priority rule expire an image a
# higher-priority rule selected.
KEPT_TAG_PREFIXES = ("rel-", "v")
KEPT_IMAGES = 10_000


def lifecycle_policy(max_images: int) -> str:
    """ECR lifecycle policy text: keep released and versioned images, and the newest ``max_images`` of the rest."""
    return json.dumps({"rules": [
        {"rulePriority": 1, "description": "keep images a release or a version tag refers to",
         "selection": {"tagStatus": "tagged", "tagPrefixList": list(KEPT_TAG_PREFIXES),
                       "countType": "imageCountMoreThan", "countNumber": KEPT_IMAGES},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"keep the newest {max_images} images",
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
