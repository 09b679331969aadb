"""The dsplatform serving container: an MLflow pyfunc model behind SageMaker's /ping and /invocations."""
