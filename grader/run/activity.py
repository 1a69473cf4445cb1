"""What grading is doing right now, so a timeout or crash can say so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_current = threading.local()


@contextmanager
def doing(what: str) -> Iterator[None]:
    """Name the step in progress (``running figlet hello in ourfiglet``) for error messages.

    When an exception (a timeout, say) leaves the block, the innermost step it
    left is remembered for :func:`interrupted`, since the block itself is gone
    by the time the error is reported.
    """
    previous = getattr(_current, "what", "")
    _current.what = what
    try:
        yield
    except BaseException:
        if not getattr(_current, "interrupted", ""):
            _current.interrupted = what
        raise
    finally:
        _current.what = previous


def current() -> str:
    """The step in progress in this thread, or an empty string."""
    return getattr(_current, "what", "")


def interrupted() -> str:
    """The step an exception last broke out of in this thread (since :func:`reset`)."""
    return getattr(_current, "interrupted", "")


def reset() -> None:
    """Forget the interrupted step: a new check starts."""
    _current.interrupted = ""
