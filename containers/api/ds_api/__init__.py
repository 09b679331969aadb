"""The real-time preprocessing API: the batch job's schema, validation and model behind FastAPI."""
