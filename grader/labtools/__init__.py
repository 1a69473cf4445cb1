"""A lab's proof and its students' housekeeping: what a lab declares beside its checks
(:mod:`.declared`), and the commands built on it (:mod:`.cli`): ``grade start``
(:mod:`.preflight`), ``grade finish`` and ``grade reset`` (:mod:`.objects`), ``grade lab
selftest`` (:mod:`.selftest`). Only :func:`split` is here: ``grade`` asks it on every run."""

from __future__ import annotations

from collections.abc import Sequence

#: The words that are commands rather than tasks to grade (no lab may name a task so).
SUBCOMMANDS = ("start", "finish", "reset", "lab")


def split(args: Sequence[str]) -> tuple[str, list[str]] | None:
    """``(command, its arguments)`` when ``args`` name one of :data:`SUBCOMMANDS`."""
    if args and args[0] in SUBCOMMANDS:
        return args[0], list(args[1:])
    if len(args) > 2 and args[0] == "--lab" and args[2] in SUBCOMMANDS:
        return args[2], ["--lab", args[1], *args[3:]]
    if len(args) > 1 and args[0].startswith("--lab=") and args[1] in SUBCOMMANDS:
        return args[1], [args[0], *args[2:]]
    return None
