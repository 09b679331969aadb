"""Readable reports of an e2e run (HTML)."""
