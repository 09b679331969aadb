"""This repo's invoke tasks: the library's collection, unchanged (`invoke --list`)."""

from dsplatform.tasks import ns  # noqa: F401
