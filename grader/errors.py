"""Typed errors the CLI turns into one line and a fixed exit code (never a traceback)."""

from __future__ import annotations


class GradingError(Exception):
    """Grading could not run at all; the message says why and what to do."""

    exit_code = 2


class SettingsError(GradingError):
    """A setting has a bad value; the message names where the value came from."""


class EngineUnreachable(GradingError):
    """No Docker engine answered at the address the Docker CLI would use."""


class EnginePermissionDenied(GradingError):
    """The Docker engine's socket exists but this user may not use it."""
