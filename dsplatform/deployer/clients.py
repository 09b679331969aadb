"""The one place boto3 clients are made: region, retries, LocalStack endpoint, profile or deploy role."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, NoCredentialsError, ProfileNotFound

from dsplatform.deployer.errors import (
    AccountMismatchError,
    DeployerError,
    EndpointUnreachableError,
    NoCredentialsFoundError,
)
from dsplatform.stackspec import Target

DEFAULT_LOCALSTACK_URL = "http://127.0.0.1:4566"
LOCALSTACK_URL_ENV = "DSPLATFORM_LOCALSTACK_URL"
# LocalStack accepts any secret; the 12-digit access key id selects the simulated account.
LOCALSTACK_SECRET = "test"


def localstack_endpoint(target: Target) -> str:
    """The LocalStack gateway for a target: its own endpoint, else $DSPLATFORM_LOCALSTACK_URL, else :4566."""
    return target.endpoint_url or os.environ.get(LOCALSTACK_URL_ENV) or DEFAULT_LOCALSTACK_URL


class ClientFactory:
    """Makes and caches boto3 clients for one Target; thread-safe, so stacks deploy in parallel."""

    def __init__(self, target: Target, *, max_pool_connections: int = 20, session: boto3.Session | None = None) -> None:
        self.target = target
        self._config = Config(
            region_name=target.region,
            # LocalStack answers at once or not at all: few retries, so a stopped gateway fails fast.
            retries={"mode": "standard", "max_attempts": 4 if target.kind == "localstack" else 8},
            max_pool_connections=max_pool_connections,
            connect_timeout=5 if target.kind == "localstack" else 30,
            read_timeout=30 if target.kind == "localstack" else 60,
        )
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        if target.kind not in ("localstack", "aws"):
            raise DeployerError(f"target kind {target.kind!r} is unknown; use 'localstack' or 'aws'")

    @property
    def is_localstack(self) -> bool:
        """True when the target is a LocalStack gateway."""
        return self.target.kind == "localstack"

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint every client talks to (None on AWS: botocore's default endpoints)."""
        return localstack_endpoint(self.target) if self.is_localstack else None

    def session(self) -> boto3.Session:
        """The boto3 session for the target, created once (assuming the deploy role if one is set)."""
        with self._lock:
            if self._session is None:
                self._session = self._make_session()
            return self._session

    def _make_session(self) -> boto3.Session:
        t = self.target
        if t.kind == "localstack":
            return boto3.Session(
                aws_access_key_id=t.account_id, aws_secret_access_key=LOCALSTACK_SECRET, region_name=t.region
            )
        try:
            base = boto3.Session(profile_name=t.profile, region_name=t.region)
        except ProfileNotFound:
            raise NoCredentialsFoundError(t.env, t.profile, t.deploy_role_arn, profile_missing=True) from None
        if base.get_credentials() is None:
            # Without this check the role fetcher fails later with an AttributeError on None credentials.
            raise NoCredentialsFoundError(t.env, t.profile, t.deploy_role_arn)
        if not t.deploy_role_arn:
            return base
        # Refreshable: a deploy (or a wait) longer than the role session's hour renews the credentials
        # instead of failing half way. This is what botocore does for role_arn profiles.
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=base._session.create_client,
            source_credentials=base.get_credentials(),
            role_arn=t.deploy_role_arn,
            extra_args={"RoleSessionName": f"dsplatform-{t.env}"},
        )
        core = botocore.session.Session()
        # botocore has no public setter for refreshable credentials; its own role provider sets this too.
        core._credentials = DeferredRefreshableCredentials(  # type: ignore[attr-defined]
            method="assume-role", refresh_using=fetcher.fetch_credentials
        )
        return boto3.Session(botocore_session=core, region_name=t.region)

    def client(self, service: str) -> Any:
        """A cached client for ``service`` in the target's account and region."""
        session = self.session()
        with self._lock:
            if service not in self._clients:
                # Sessions are not thread-safe; creating every client under the lock keeps that safe.
                make: Any = session.client  # boto3-stubs types it per literal service name only
                self._clients[service] = make(service, config=self._config, endpoint_url=self.endpoint_url)
            return self._clients[service]

    def verify_account(self) -> str:
        """Check the caller's account is the target's; returns the caller ARN, raises AccountMismatchError."""
        try:
            ident = self.client("sts").get_caller_identity()
        except (EndpointConnectionError, ConnectTimeoutError, NoCredentialsError) as err:
            raise EndpointUnreachableError(
                self.target.env, self.endpoint_url or "AWS", str(err), self.is_localstack
            ) from err
        if ident["Account"] != self.target.account_id:
            raise AccountMismatchError(self.target.env, self.target.account_id, ident["Account"], ident["Arn"])
        return str(ident["Arn"])
