"""What the deployer is handed: one rendered stack, its dependencies and where its parameters come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Requirement:
    """An object a stack's tasks need that no stack creates (e.g. a trained model in the artifact bucket).

    ``deploy`` refuses to create the stack while ``s3://bucket/key`` is absent, with ``fix`` as the way out.
    ``provide`` ("module:function", called with the plan and its clients) makes it in a test environment:
    the lifecycle runs it once the stacks the requirement lives in exist and before the stack is created.
    """

    what: str
    bucket: str
    key: str
    fix: str
    provide: str = ""

    @property
    def url(self) -> str:
        """Where it must be, as an S3 URL."""
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class CodeAsset:
    """A folder of function code the deployer zips and uploads; the stack's template takes it via parameters.

    The deployer fills ``bucket_parameter`` (its assets bucket), ``key_parameter`` (``assets/<sha256>.zip``)
    and ``sha256_parameter`` (base64 SHA-256 of the zip: Lambda's ``CodeSha256``).
    """

    name: str
    source: Path
    bucket_parameter: str
    key_parameter: str
    sha256_parameter: str


@dataclass(frozen=True)
class StackSpec:
    """One CloudFormation stack ready to deploy.

    ``template`` is the rendered template as a dict (JSON-serialisable). ``depends_on`` names other
    stacks of the same plan. ``parameters`` holds literal parameter values; every template parameter
    not in it is filled from the output of the same name of one of ``depends_on`` (exactly one
    dependency must export it). Which resource types are stateful (their replacement or removal loses
    data) is decided in one place, ``dsplatform.deployer.STATEFUL_TYPES``.
    """

    name: str
    component: str
    template: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    parameters: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False
    outputs: Any = None  # the component's blueprints.outputs.Outputs class: how readers type its outputs
    assets: tuple[CodeAsset, ...] = ()  # function code the deployer builds and uploads (deployer.assets)
    requires: tuple[Requirement, ...] = ()  # what must exist before it is created (deployer.requirements)


@dataclass(frozen=True)
class Target:
    """Where a plan goes: account, region and how to reach it (no credentials are stored here)."""

    env: str
    account_id: str
    region: str
    kind: str  # "localstack" or "aws"
    endpoint_url: str | None = None  # LocalStack gateway, e.g. http://127.0.0.1:4566
    profile: str | None = None
    deploy_role_arn: str | None = None
    protected: bool = False  # prod: never destroyed by a task, termination protection on
    project: str = "ds"  # project.name: stacks are tagged with it, and the deploy lock is per project
    lock_name: str = ""  # SSM parameter of this project's environment lock (from the naming module)
    execution_role_arn: str | None = None  # CloudFormation acts as this role (the bootstrap's), on AWS
    rollback_alarms: tuple[str, ...] = ()  # CloudWatch alarm names whose ALARM state rolls an update back
    monitoring_minutes: int = 0  # how long CloudFormation watches them after an update
    assets_bucket: str = ""  # where the deployer puts code assets and large templates (the bootstrap's bucket)


@dataclass(frozen=True)
class JobImage:
    """A container image the plan's components own: the job, its repository, the tag deployed, its source."""

    job: str
    component: str
    repository: str
    tag: str
    source: Path


@dataclass(frozen=True)
class Plan:
    """The stacks of one environment, dependencies first, with the target they deploy to.

    ``images`` are the jobs' images to push; ``scenarios`` where the components' e2e scenarios live;
    ``all_stacks`` every stack of the project's environment (a ``--stacks`` selection keeps fewer in
    ``stacks``), so stacks that left the config can be told from stacks merely not selected.
    """

    target: Target
    stacks: tuple[StackSpec, ...]
    images: tuple[JobImage, ...] = ()
    scenarios: tuple[tuple[str, str], ...] = ()  # (component, folder or package of its scenarios)
    project_root: Path = field(default_factory=Path.cwd)
    all_stacks: frozenset[str] = frozenset()

    def stack(self, name: str) -> StackSpec:
        """Return the stack called ``name``; KeyError if the plan has none."""
        for spec in self.stacks:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def select(self, wanted: list[str]) -> Plan:
        """The plan narrowed to ``wanted`` (stack or component names) and everything they depend on."""
        from dsplatform.errors import UsageError

        by_key = {spec.name: spec for spec in self.stacks} | {spec.component: spec for spec in self.stacks}
        unknown = [w for w in wanted if w not in by_key]
        if unknown:
            raise UsageError(f"--stacks: {', '.join(repr(u) for u in unknown)} is not a stack or component of "
                             f"{self.target.env}; use some of {', '.join(s.component for s in self.stacks)}")
        keep: set[str] = set()
        todo = [by_key[w].name for w in wanted]
        while todo:
            name = todo.pop()
            if name not in keep:
                keep.add(name)
                todo.extend(self.stack(name).depends_on)
        stacks = tuple(spec for spec in self.stacks if spec.name in keep)
        components = {spec.component for spec in stacks}
        return Plan(target=self.target, stacks=stacks,
                    images=tuple(i for i in self.images if i.component in components),
                    scenarios=tuple(s for s in self.scenarios if s[0] in components), project_root=self.project_root,
                    all_stacks=self.all_stacks or frozenset(s.name for s in self.stacks))

    def before(self, names: set[str]) -> Plan | None:
        """The stacks that neither are in ``names`` nor depend on one of them (None when there are none)."""
        after = set(names)
        keep: list[str] = []
        for spec in self.stacks:  # dependencies first, so a dependant of a named stack is seen after it
            if spec.name in after or any(d in after for d in spec.depends_on):
                after.add(spec.name)
            else:
                keep.append(spec.name)
        return self.select(keep) if keep else None
