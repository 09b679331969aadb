"""Typed stack outputs: one class per component whose fields are its CloudFormation output keys.

A blueprint emits its outputs through its class, a dependant declares the parameters it takes from them
through the same class, and every reader (the deployed-outputs reader, the harness, promotion) reads
through it, so no other code spells an output key::

    class StorageOutputs(Outputs):
        input_bucket_name = Key("input bucket name")        # output key InputBucketName
        data_key_arn = Key("KMS key ...", required=False)   # emitted only with KMS encryption

    StorageOutputs.input_bucket_name.emit(template, Ref(bucket))          # in the storage blueprint
    Ref(StorageOutputs.input_bucket_name.parameter(template, "input ..."))  # in a dependant's blueprint
    StorageOutputs.read({"InputBucketName": "ds-input-..."}).input_bucket_name  # in a reader
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self, overload

from troposphere import Output, Parameter, Template


def output_key(field: str) -> str:
    """The CloudFormation output key of a snake_case field: ``input_bucket_name`` -> ``InputBucketName``."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


class MissingOutputsError(KeyError):
    """A deployed stack lacks required outputs of its component's class."""

    def __init__(self, cls: type[Outputs], missing: list[str]) -> None:
        self.cls, self.missing = cls, missing
        super().__init__(f"{cls.__name__}: missing output(s) {', '.join(missing)}")


class Key:
    """One output of a component: its key (from the field name), description and whether it is always emitted."""

    name: str  # the CloudFormation output key, set when the class body is built

    def __init__(self, description: str, required: bool = True) -> None:
        self.description, self.required, self.field = description, required, ""

    def __set_name__(self, owner: type, field: str) -> None:
        self.field, self.name = field, output_key(field)

    @overload
    def __get__(self, obj: None, owner: type) -> Key: ...

    @overload
    def __get__(self, obj: Outputs, owner: type) -> str: ...

    def __get__(self, obj: Outputs | None, owner: type) -> Key | str:
        if obj is None:
            return self
        return obj.values.get(self.name, "")

    def emit(self, template: Template, value: object, description: str | None = None) -> Output:
        """Add this output to ``template`` (the blueprint that owns the component calls this)."""
        return template.add_output(Output(self.name, Value=value, Description=description or self.description))

    def parameter(self, template: Template, description: str, kind: str = "String") -> Parameter:
        """Declare a parameter of a dependant's template that the deployer fills from this output."""
        return template.add_parameter(Parameter(self.name, Type=kind, Description=description))

    def __repr__(self) -> str:
        return f"Key({self.name})"


class Outputs:
    """Base of every component's typed outputs; subclasses declare ``Key`` class attributes."""

    keys: ClassVar[tuple[Key, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherited = [k for base in cls.__mro__[1:] for k in getattr(base, "keys", ())]
        own = [v for v in vars(cls).values() if isinstance(v, Key)]
        cls.keys = tuple(dict.fromkeys([*inherited, *own]))

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values: dict[str, str] = {k.name: str(values[k.name]) for k in self.keys if k.name in values}

    @classmethod
    def read(cls, values: Mapping[str, str]) -> Self:
        """The typed view of one stack's ``{output key: value}``; MissingOutputsError names absent required keys."""
        missing = [k.name for k in cls.keys if k.required and k.name not in values]
        if missing:
            raise MissingOutputsError(cls, missing)
        return cls(values)

    @classmethod
    def required_names(cls) -> tuple[str, ...]:
        """The output keys every deployment of the component has."""
        return tuple(k.name for k in cls.keys if k.required)

    @classmethod
    def key_names(cls) -> tuple[str, ...]:
        """Every output key this class declares."""
        return tuple(k.name for k in cls.keys)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.values == self.values  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.values.items()))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.values!r})"
