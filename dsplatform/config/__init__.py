"""Typed project configuration: ``load_config()`` reads ``dsplatform.yml`` and validates it."""

from dsplatform.config.loader import find_config, load_config, parse_config
from dsplatform.config.models import ComponentSettings, EnvironmentConfig, ProjectConfig

__all__ = ["ComponentSettings", "EnvironmentConfig", "ProjectConfig", "find_config", "load_config", "parse_config"]
