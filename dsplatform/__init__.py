"""dsplatform: a data-science platform on AWS as software (config -> blueprints -> deployer -> harness)."""

__version__ = "0.1.0"
