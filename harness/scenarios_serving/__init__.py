"""End-to-end scenarios of the serving component: the SageMaker endpoint, the registry and SSM agree and serve."""
