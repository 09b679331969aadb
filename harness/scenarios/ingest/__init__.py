"""End-to-end scenarios of the ingest component (event-driven cataloguing of arriving files)."""
