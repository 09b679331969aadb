"""Registry: the ECR repository of a job's image (scanned on push, a lifecycle rule) and how a dependant pins it."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import Equals, GetAtt, If, Not, Parameter, Ref, Sub, Template, ecr

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


# Filled by the deployer with the digest ECR holds under the image's tag (dsplatform.deployer.images); empty until
# an image is pushed, when the task definition names the tag so a first deploy still works.
IMAGE_DIGEST_PARAMETER = "ImageDigest"


def pinned_image(template: Template, image_tag: str, repository_uri: object, what: str) -> object:
    """The image a dependant's container runs: ``<uri>@<ImageDigest>`` once pushed, else ``<uri>:<image_tag>``."""
    digest = template.add_parameter(Parameter(
        IMAGE_DIGEST_PARAMETER, Type="String", Default="", AllowedPattern="^(sha256:[0-9a-f]{64})?$",
        Description=f"digest of {what} to run (set by the deployer from the pushed image)"))
    template.add_condition("HasImageDigest", Not(Equals(Ref(digest), "")))
    # By digest: what runs cannot change without a deploy, whatever is pushed under the tag later.
    return If("HasImageDigest", Sub("${Uri}@${Digest}", Uri=repository_uri, Digest=Ref(digest)),
              Sub("${Uri}:" + image_tag, Uri=repository_uri))


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
