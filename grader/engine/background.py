"""Run slow probes in the background so independent checks do not wait on each other.

Daemon threads, not a ThreadPoolExecutor: a probe stuck in a hung ``docker exec``
must never keep ``grade`` from exiting once its report is written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


def start(fn: Callable[[], T], name: str) -> Future[T]:
    """Start ``fn`` in a daemon thread; its result or exception lands in the returned future."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name=f"probe:{name}", daemon=True).start()
    return future
