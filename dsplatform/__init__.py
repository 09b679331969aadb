"""dsplatform: a data-science platform on AWS as software (config -> blueprints -> deployer -> harness)."""

__version__ = "0.2.0"  # the one place the version is written: pyproject reads it; CHANGELOG.md says what changed
