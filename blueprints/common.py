"""Small helpers every blueprint shares: a template with a description, retention of data resources."""

from __future__ import annotations

from troposphere import AWSObject, Template


def new_template(description: str) -> Template:
    """An empty template with the standard format version and a description."""
    template = Template(Description=f"dsplatform: {description}")
    template.set_version("2010-09-09")
    return template


def retain(resource: AWSObject) -> AWSObject:
    """Keep the resource (and its data) when the stack is deleted or the resource is replaced."""
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    return resource

