"""AWS::ECR::Repository: Ref is the repository name; GetAtt Arn and RepositoryUri (as on AWS)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import localstack.services.cloudformation.provider_utils as util
from localstack.services.cloudformation.resource_provider import ResourceProvider

from dsplatform_localstack.cfn.convert import ok


def _policy_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class EcrRepositoryProvider(ResourceProvider[dict]):
    """Creates real repositories in moto's ECR backend, with tag mutability, scanning, lifecycle and policy."""

    TYPE = "AWS::ECR::Repository"
    SCHEMA: ClassVar[dict[str, Any]] = {
        "typeName": TYPE,
        "properties": {},
        "primaryIdentifier": ["/properties/RepositoryName"],
        "readOnlyProperties": ["/properties/Arn", "/properties/RepositoryUri"],
        "createOnlyProperties": ["/properties/RepositoryName", "/properties/EncryptionConfiguration"],
    }

    def _apply_mutable(self, request: Any, model: dict[str, Any], previous: dict[str, Any]) -> None:
        ecr, name = request.aws_client_factory.ecr, model["RepositoryName"]
        if model.get("LifecyclePolicy", {}).get("LifecyclePolicyText"):
            ecr.put_lifecycle_policy(
                repositoryName=name, lifecyclePolicyText=_policy_text(model["LifecyclePolicy"]["LifecyclePolicyText"])
            )
        elif previous.get("LifecyclePolicy"):
            ecr.delete_lifecycle_policy(repositoryName=name)
        if model.get("RepositoryPolicyText"):
            ecr.set_repository_policy(repositoryName=name, policyText=_policy_text(model["RepositoryPolicyText"]))
        elif previous.get("RepositoryPolicyText"):
            ecr.delete_repository_policy(repositoryName=name)

    def create(self, request: Any) -> Any:
        """CreateRepository, then lifecycle policy and repository policy."""
        model = request.desired_state
        if not model.get("RepositoryName"):
            model["RepositoryName"] = util.generate_default_name(
                request.stack_name, request.logical_resource_id
            ).lower()
        kwargs: dict[str, Any] = {"repositoryName": model["RepositoryName"]}
        if model.get("ImageTagMutability"):
            kwargs["imageTagMutability"] = model["ImageTagMutability"]
        if model.get("ImageScanningConfiguration"):
            kwargs["imageScanningConfiguration"] = {
                "scanOnPush": str(model["ImageScanningConfiguration"].get("ScanOnPush", False)).lower() == "true"
            }
        if model.get("EncryptionConfiguration"):
            enc = model["EncryptionConfiguration"]
            kwargs["encryptionConfiguration"] = {"encryptionType": enc.get("EncryptionType", "AES256")}
            if enc.get("KmsKey"):
                kwargs["encryptionConfiguration"]["kmsKey"] = enc["KmsKey"]
        if model.get("Tags"):
            kwargs["tags"] = [{"Key": t["Key"], "Value": t["Value"]} for t in model["Tags"]]
        repo = request.aws_client_factory.ecr.create_repository(**kwargs)["repository"]
        model["Arn"], model["RepositoryUri"] = repo["repositoryArn"], repo["repositoryUri"]
        self._apply_mutable(request, model, {})
        return ok(request, model)

    def update(self, request: Any) -> Any:
        """Tag mutability, scan on push, lifecycle policy and repository policy are updated in place."""
        previous = request.previous_state or {}
        model = {**previous, **request.desired_state}
        model["Arn"], model["RepositoryUri"] = previous.get("Arn"), previous.get("RepositoryUri")
        ecr, name = request.aws_client_factory.ecr, model["RepositoryName"]
        if model.get("ImageTagMutability"):
            ecr.put_image_tag_mutability(repositoryName=name, imageTagMutability=model["ImageTagMutability"])
        if model.get("ImageScanningConfiguration"):
            ecr.put_image_scanning_configuration(
                repositoryName=name,
                imageScanningConfiguration={
                    "scanOnPush": str(model["ImageScanningConfiguration"].get("ScanOnPush", False)).lower() == "true"
                },
            )
        self._apply_mutable(request, model, previous)
        return ok(request, model)

    def delete(self, request: Any) -> Any:
        """DeleteRepository; like AWS, a repository with images is only deleted when EmptyOnDelete is true."""
        model = request.desired_state
        force = str(model.get("EmptyOnDelete", False)).lower() == "true"
        request.aws_client_factory.ecr.delete_repository(repositoryName=model["RepositoryName"], force=force)
        return ok(request, model)
