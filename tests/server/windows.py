"""Tests that count tries up to a throttle's limit on the real clock start inside one window.

The login throttle and the report rate limit count in fixed windows (:mod:`webhook.throttle`):
tries on both sides of a window's edge are counted apart, so a test whose over-limit try
falls in the next window would see it let through. Seen in CI on a loaded machine.
"""

from __future__ import annotations

import time


def within_one_window(period: int, needed: float = 20.0) -> None:
    """Wait for the next fixed window of ``period`` seconds when this one ends within
    ``needed`` seconds."""
    left = period - time.time() % period
    if left < needed:
        time.sleep(left + 0.1)
