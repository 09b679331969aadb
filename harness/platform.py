"""The harness's view of a deployed environment: ``dsplatform.platform`` (typed stack outputs), re-exported."""

from dsplatform.platform import Platform, PlatformNotDeployedError, platform_from_deployed

__all__ = ["Platform", "PlatformNotDeployedError", "platform_from_deployed"]
