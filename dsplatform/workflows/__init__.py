"""Workflows above the harness: the e2e run, evidence-gated promotion, the scenario runner and its report.

The layer order (checked by import-linter): tasks -> workflows -> harness -> the core of dsplatform ->
blueprints. The core never imports a workflow or the harness.
"""
