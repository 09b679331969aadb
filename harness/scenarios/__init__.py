"""dsplatform's own end-to-end scenarios, run by `invoke e2e` against a deployed environment."""
