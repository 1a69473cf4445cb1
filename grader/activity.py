"""What grading is doing right now, so a timeout or crash can say so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_current = threading.local()


@contextmanager
def doing(what: str) -> Iterator[None]:
    """Name the step in progress (``running figlet hello in ourfiglet``) for error messages."""
    previous = getattr(_current, "what", "")
    _current.what = what
    try:
        yield
    finally:
        _current.what = previous


def current() -> str:
    """The step in progress in this thread, or an empty string."""
    return getattr(_current, "what", "")
