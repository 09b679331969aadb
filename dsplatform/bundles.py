"""Folders of the checkout that ship inside the dsplatform distribution as package data, found at run time.

``pyproject.toml`` maps a package name (e.g. ``dsplatform._bundled_localstack``) onto a top-level folder of the
repository (``localstack/``), which must not itself become an importable package. In a wheel the folder is
package data, read with ``importlib.resources``. An editable install cannot serve such a mapped folder (setuptools'
editable finder needs an ``__init__.py``), so there the checkout recorded by pip (PEP 610 ``direct_url.json``)
is read instead.
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from importlib.abc import Traversable
from pathlib import Path
from urllib.parse import unquote, urlparse

DISTRIBUTION = "dsplatform"


def bundled_folder(package: str, checkout_folder: str) -> Traversable | None:
    """The bundled folder: package data of ``package`` in a wheel, else ``checkout_folder`` of an editable checkout."""
    try:
        return resources.files(package)
    except ModuleNotFoundError:
        pass
    source = editable_source()
    if source is not None and (source / checkout_folder).is_dir():
        return source / checkout_folder
    return None


def editable_source() -> Path | None:
    """The checkout an editable install of dsplatform points at (PEP 610), or None."""
    # All candidates are read: run from the checkout, the build's dsplatform.egg-info there (no
    # direct_url.json) comes first on sys.path.
    for dist in metadata.distributions(name=DISTRIBUTION):
        try:
            info = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        url = urlparse(str(info.get("url", "")))
        if info.get("dir_info", {}).get("editable") and url.scheme == "file":
            return Path(unquote(url.path))
    return None
