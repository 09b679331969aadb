"""This repo's tasks: dsplatform's collection, unchanged (`invoke --list`)."""

from dsplatform.tasks import ns  # noqa: F401
