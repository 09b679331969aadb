"""Settings of the opt-in online services: the real-time API, the model registry and the SageMaker endpoint."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator, model_validator

from dsplatform.config.fields import FargateCpu, Strict
from dsplatform.config.stock_settings import ComputeSettings


class ApiSettings(Strict):
    """The real-time API (component `api`): its service, load balancer, scaling and alarms."""

    image_tag: str = Field("latest", description="tag of the API image in its ECR repository (the api-registry "
                                                  "stack); the service runs the digest pushed under it")
    cpu: FargateCpu = Field(512, description="task CPU units (a Fargate size)")
    memory: int = Field(1024, description="task memory in MiB (must suit cpu)")
    container_port: int = Field(8080, ge=1024, le=65535, description="port the container listens on")
    desired_count: int = Field(2, ge=1, le=100, description="tasks running normally")
    min_capacity: int = Field(2, ge=1, le=100, description="auto scaling minimum tasks")
    max_capacity: int = Field(6, ge=1, le=100, description="auto scaling maximum tasks")
    cpu_target_percent: int = Field(60, ge=10, le=90, description="target tracking: average CPU per task")
    requests_per_target: int = Field(500, ge=1, description="target tracking: ALB requests per target per minute")
    health_check_grace_seconds: int = Field(30, ge=0, le=600, description="ignore failed health checks this long "
                                                                            "after a task starts")
    health_check_interval_seconds: int = Field(10, ge=5, le=300, description="seconds between the load balancer's "
                                                                             "health checks of each task (/ready)")
    deregistration_delay_seconds: int = Field(30, ge=0, le=3600, description="seconds a deregistered task keeps "
                                                                             "its in-flight requests (draining)")
    internet_facing: bool = Field(False, description="internet-facing load balancer (needs network.public_subnets "
                                                     "and explicit allowed_cidrs); internal otherwise")
    allowed_cidrs: tuple[str, ...] = Field(("10.0.0.0/8",), description="CIDRs allowed to reach the load balancer")
    certificate_arn: str | None = Field(None, description="ACM certificate ARN: HTTPS listener (TLS 1.2+), HTTP "
                                                          "redirected to it; required on an aws target, where "
                                                          "nothing is served in plain HTTP; without it (LocalStack "
                                                          "targets only) the listener is plain HTTP")
    access_log_days: int = Field(90, ge=1, le=3650, description="days the load balancer's access logs are kept in "
                                                                "their bucket")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="request bodies over this many bytes get 413")
    error_5xx_threshold: int = Field(5, ge=1, description="5xx answers per period that raise the alarm")
    p99_latency_seconds: float = Field(1.0, gt=0, description="p99 target response time that raises the alarm")

    _memory = field_validator("memory")(ComputeSettings._memory.__func__)  # type: ignore[attr-defined]
    _tag = field_validator("image_tag")(ComputeSettings._tag.__func__)  # type: ignore[attr-defined]

    @model_validator(mode="after")
    def _consistent(self) -> ApiSettings:
        if not self.min_capacity <= self.desired_count <= self.max_capacity:
            raise ValueError(f"desired_count {self.desired_count} must lie between min_capacity {self.min_capacity} "
                             f"and max_capacity {self.max_capacity}")
        for cidr in self.allowed_cidrs:
            try:
                ipaddress.IPv4Network(cidr)
            except ValueError as exc:
                raise ValueError(f"allowed_cidrs: {cidr!r} is not an IPv4 network such as 10.0.0.0/8") from exc
        if self.certificate_arn and not re.fullmatch(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+",
                                                     self.certificate_arn):
            raise ValueError(f"certificate_arn {self.certificate_arn!r} is not an ACM certificate ARN such as "
                             f"arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d")
        return self


class ModelRegistrySettings(Strict):
    """The MLflow model registry the serving side reads (on LocalStack: the local server of `invoke registry.start`)."""

    uri: str | None = Field(
        None, description="tracking URI on AWS: an https:// MLflow server or a SageMaker MLflow tracking server ARN")

    @field_validator("uri")
    @classmethod
    def _uri(cls, uri: str | None) -> str | None:
        if uri is not None and not re.fullmatch(
                r"https://[^/\s]+(/\S*)?|arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:mlflow-tracking-server/[\w-]+",
                uri):
            raise ValueError(f"{uri!r} is not a registry URI; use https://mlflow.example.com or "
                             f"arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/NAME")
        return uri


class ServingSettings(Strict):
    """The SageMaker endpoint of the serving component (opt-in: components.plugins)."""

    model_name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                                   description="registered model name (default <project>-model)")
    model_version: str | None = Field(None, pattern=r"^[1-9][0-9]{0,8}$",
                                      description="registry version to serve (staged with `invoke model.stage`)")
    model_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                                     description="SHA-256 of that version's model.tar.gz (printed by model.stage)")
    image_tag: str = Field("latest", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
                           description="tag the serving image is pushed under; the model names its digest")
    min_accuracy: float = Field(0.8, ge=0.0, le=1.0,
                                description="quality bar: holdout accuracy the serving scenarios must measure on "
                                            "the endpoint before `invoke model.promote` moves a version on")
    instance_type: str = Field("ml.m5.large", pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$",
                               description="SageMaker instance type, e.g. ml.m5.large")
    instance_count: int = Field(1, ge=1, le=100, description="initial instances (the scaling minimum)")
    max_instances: int = Field(1, ge=1, le=100,
                               description="auto scaling maximum; above instance_count adds target tracking")
    invocations_per_instance: int = Field(100, ge=1, description="scaling target: invocations per instance/minute")
    data_capture: bool = Field(False, description="capture requests and responses to the output bucket")
    capture_percent: int = Field(10, ge=1, le=100, description="percentage of requests captured")
    latency_threshold_ms: int = Field(1000, ge=1, description="ModelLatency alarm threshold (average, ms)")
    errors_threshold: int = Field(1, ge=1, description="Invocation5XXErrors alarm threshold per period")

    @model_validator(mode="after")
    def _scaling(self) -> ServingSettings:
        if self.max_instances < self.instance_count:
            raise ValueError(f"max_instances {self.max_instances} is below instance_count {self.instance_count}; "
                             f"set max_instances >= instance_count")
        return self

