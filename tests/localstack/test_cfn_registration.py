"""The extension's CloudFormation types are registered from its own package metadata, so a stale plux entry-point
index (its file cache is keyed by times in 128 s steps) cannot hide a type added by the latest reinstall."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.localstack

# Run in LocalStack's own venv (where the extension is installed), with plux's file cache in a folder of our own.
_STALE_INDEX = """
import os, sys
from pathlib import Path

from plux.runtime.cache import EntryPointsCache

cache = EntryPointsCache.instance()
cache.get_entry_points()  # writes the index file for this interpreter and sys.path
[index] = (Path(os.environ["XDG_CACHE_HOME"]) / "plux").glob("*.entry_points.txt")
# The index as an earlier install of the extension left it: without the OIDC provider's entry point.
index.write_text("".join(line for line in index.read_text().splitlines(keepends=True)
                         if not line.startswith("aws::iam::oidcprovider")))
cache._cache.clear()

from localstack.services.cloudformation.resource_provider import plugin_manager

print("stale:", "AWS::IAM::OIDCProvider" in plugin_manager.list_names())
from dsplatform_localstack import cfn_support

cfn_support.prefer_extension_providers()
print("registered:", "AWS::IAM::OIDCProvider" in plugin_manager.list_names())
print("ecr provider:", plugin_manager.load("AWS::ECR::Repository").factory.__module__)
"""


def test_a_type_missing_from_a_stale_plux_index_is_registered_from_the_extension_metadata(tmp_path: Path) -> None:
    from dsplatform.localstack import LocalStackSettings
    from dsplatform.localstack.venv import ensure_venv

    python = ensure_venv(LocalStackSettings()) / "bin" / "python"
    out = subprocess.run([str(python), "-c", _STALE_INDEX], capture_output=True, text=True, cwd=tmp_path,
                         timeout=300, env={"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "stale: False",  # what LocalStack saw: "not currently supported"
        "registered: True",
        "ecr provider: dsplatform_localstack.cfn.ecr_repository",  # the extension's wins over the community mock
    ]
