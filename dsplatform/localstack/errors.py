"""Errors raised by the LocalStack launcher (subclasses of the one dsplatform root)."""

from __future__ import annotations

from dsplatform.errors import DsPlatformError


class LocalStackError(DsPlatformError):
    """LocalStack could not be found, installed, started, reached or stopped."""

    exit_code = 3


class InterpreterNotFoundError(LocalStackError):
    """No Python >= 3.12 was found to run LocalStack."""

    exit_code = 2
