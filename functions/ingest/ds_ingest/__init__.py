"""The ingest function: catalogues every file arriving under the input bucket's raw/ prefix in DynamoDB."""
