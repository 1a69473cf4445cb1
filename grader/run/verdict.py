"""How a check says it failed: a message with the evidence, and the command to try."""

from __future__ import annotations

from typing import NoReturn


class CheckFailed(AssertionError):
    """A check found the student's step missing or wrong.

    ``hint`` replaces the check's default hint when this failure needs another
    command (``docker container rm mydb`` before running it again, say).
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def fail(message: str, *, hint: str | None = None) -> NoReturn:
    """Fail the current check with a message written for the student."""
    __tracebackhide__ = True
    raise CheckFailed(message, hint)
