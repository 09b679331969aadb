"""Small helpers every blueprint shares: a template with a description, typed outputs, stack parameters."""

from __future__ import annotations

from troposphere import AWSObject, Output, Parameter, Template


def new_template(description: str) -> Template:
    """An empty template with the standard format version and a description."""
    template = Template(Description=f"dsplatform: {description}")
    template.set_version("2010-09-09")
    return template


def add_output(template: Template, name: str, value: object, description: str) -> Output:
    """Add an output; its name is the contract dependants' parameters are matched by."""
    return template.add_output(Output(name, Value=value, Description=description))


def add_parameter(template: Template, name: str, description: str, kind: str = "String") -> Parameter:
    """Add a parameter filled by the deployer from a dependency's output of the same name."""
    return template.add_parameter(Parameter(name, Type=kind, Description=description))


def retain(resource: AWSObject) -> AWSObject:
    """Keep the resource (and its data) when the stack is deleted or the resource is replaced."""
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    return resource
