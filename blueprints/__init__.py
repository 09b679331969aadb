"""Troposphere blueprints of the platform: each module's ``build(props) -> Template`` is a pure function.

Import a blueprint and compose it in your own code::

    from blueprints import storage
    template = storage.build(storage.StorageProps(input_bucket=..., output_bucket=..., artifact_bucket=...))
"""

from blueprints import (
    alerts,
    compute,
    monitoring,
    network,
    orchestration,
    parameters,
    registry,
    schedule,
    storage,
)

__all__ = ["alerts", "compute", "monitoring", "network", "orchestration", "parameters", "registry", "schedule",
           "storage"]
