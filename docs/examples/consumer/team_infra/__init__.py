"""The team's own platform components, composed with dsplatform's stock ones (see dsplatform.yml)."""
