"""Where ``grade`` keeps what it keeps for the user: the outbox, remembered events.

``$XDG_DATA_HOME/grade``, i.e. ``~/.local/share/grade``. A module of its own, light,
so that knowing the place does not load the submit path's HTTP client and XML reader.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def data_folder(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/grade``; without it, ``~/.local/share/grade``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or str(
        Path(environ.get("HOME", "~")).expanduser() / ".local" / "share"
    )
    return Path(base) / "grade"
