"""``grade lab selftest``: the lab proves its checks right on a real engine.

Scenarios, in order: a fresh host (every check must fail), the declared solution (every
check must pass), then each spoiler from the solved lab (exactly its declared checks must
fail), and at the end the lab's objects must be gone. :func:`findings` judges the
observed matrix (pure); :class:`SelfTest` runs the scenarios through the functions it is
given, so its order is tested without an engine too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations

from grader.errors import GradingError
from grader.labtools.declared import Action, Step
from grader.run.labs import LabSpec

#: After this many engine events since the fleeting steps were typed, type them again:
#: the engine keeps only its last 256 (Docker), and a grading run adds some.
EVENTS_BEFORE_REFRESH = 120


@dataclass
class Scenario:
    """One column of the matrix: what must fail, and what did (None: it could not run)."""

    name: str
    expected: frozenset[str]
    failing: frozenset[str] | None = None
    error: str = ""
    seconds: float = 0.0
    messages: dict[str, str] = field(default_factory=dict)
    says: Mapping[str, str] = field(default_factory=dict)
    #: Each failing check's hint (the next command), as the report gives it.
    hints: dict[str, str] = field(default_factory=dict)
    #: A spoiler's column: each check that fails in it must carry a hint.
    needs_hints: bool = False

    @property
    def hintless(self) -> list[str]:
        """The failing checks that tell the student no next command."""
        if not self.needs_hints or self.failing is None:
            return []
        return sorted(c for c in self.failing if not self.hints.get(c, "").strip())

    @property
    def unsaid(self) -> dict[str, str]:
        """The declared texts a failing check's message lacks."""
        return {c: text for c, text in self.says.items() if text not in self.messages.get(c, "")}

    @property
    def as_declared(self) -> bool:
        return (
            self.failing is not None
            and self.failing == self.expected
            and not self.error
            and not self.unsaid
            and not self.hintless
        )

    def mismatch(self) -> str:
        """Why this column is not as declared, in one line ('' when it is)."""
        if self.failing is None or self.error:
            return f"{self.name}: could not run ({self.error})"
        extra = sorted(self.failing - self.expected)
        missing = sorted(self.expected - self.failing)
        parts = []
        if missing:
            parts.append(f"{', '.join(missing)} passed but should fail")
        if extra:
            said = "; ".join(f"{c}: {self.messages.get(c, '')}"[:160] for c in extra)
            parts.append(f"{', '.join(extra)} failed but should pass ({said})")
        for check, text in sorted(self.unsaid.items()) if not missing else ():
            parts.append(f"{check} does not say {text!r} (it says {self.messages.get(check)!r})")
        parts += [f"{check} fails without a hint (the next command)" for check in self.hintless]
        return f"{self.name}: {'; '.join(parts)}" if parts else ""


FRESH = "fresh host"
SOLVED = "solution"
CLEAN = "left clean"


def findings(
    checks: Sequence[str], scenarios: Sequence[Scenario], left: Sequence[str], *, every: bool = True
) -> list[str]:
    """Every way the observed runs differ from the declaration, one line each; none means
    the lab is proved. ``left``: the lab's objects still there at the end. ``every``: all
    the spoilers ran, so a check none breaks, or two none tell apart, can be named."""
    lines = [s.mismatch() for s in scenarios if not s.as_declared]
    fresh = next((s for s in scenarios if s.name == FRESH), None)
    if fresh is not None and fresh.failing is not None:
        lines += [f"check {c} passes on a fresh host" for c in checks if c not in fresh.failing]
    spoiled = [s for s in scenarios if s.name not in (FRESH, SOLVED)]
    observed = [s.failing if s.failing is not None else s.expected for s in spoiled]
    broken_by = {
        c: frozenset(s.name for s, failing in zip(spoiled, observed, strict=True) if c in failing)
        for c in checks
    }
    lines += [f"check {c}: no spoiler breaks it" for c in checks if every and not broken_by[c]]
    for one, other in combinations(checks if every else (), 2):
        if broken_by[one] and broken_by[one] == broken_by[other]:
            lines.append(
                f"checks {one} and {other}: no spoiler tells them apart (each fails with the other)"
            )
    if left:
        lines.append(f"{CLEAN}: the lab's objects remain ({', '.join(left)})")
    return lines


@dataclass
class SelfTest:
    """The scenarios of one lab, run through what the caller gives:

    ``do`` types one action; ``grade`` returns the failing checks, their messages and
    their hints;
    ``remove_all`` and ``reset`` remove the lab's (or a task's) objects; ``events_since``
    counts the engine's events since a time, and ``forget_events`` pushes its short history
    out (for the fleeting steps: a fresh host remembers none)."""

    lab: LabSpec
    checks: dict[str, str]  # check id -> its task
    do: Callable[[Action], None]
    grade: Callable[[], tuple[frozenset[str], dict[str, str], dict[str, str]]]
    remove_all: Callable[[], None]
    reset: Callable[[str], None]
    events_since: Callable[[float], int] = lambda since: 0
    forget_events: Callable[[], None] = lambda: None
    on_scenario: Callable[[Scenario], None] = lambda scenario: None
    fleeting_at: float = 0.0

    def run(self, only: Iterable[str] | None = None) -> list[Scenario]:
        wanted = set(only) if only is not None else None
        everything = frozenset(self.checks)
        scenarios = [self._scenario(FRESH, everything, self._fresh)]
        solved = self._scenario(SOLVED, frozenset(), self._solve)
        scenarios.append(solved)
        if solved.as_declared:  # spoiling an unsolved lab proves nothing
            for spoiler in self.lab.spoilers:
                if wanted is not None and spoiler.name not in wanted:
                    continue
                self._refresh_fleeting()
                scenario = self._scenario(
                    spoiler.name,
                    spoiler.fails,
                    partial(self._all, spoiler.commands),
                    spoiler.says,
                    needs_hints=True,
                )
                scenarios.append(scenario)
                self._undo(spoiler.undo, scenario.failing or spoiler.fails)
        self.remove_all()
        return scenarios

    def _scenario(
        self,
        name: str,
        expected: frozenset[str],
        setup: Callable[[], None],
        says: Mapping[str, str] | None = None,
        *,
        needs_hints: bool = False,
    ) -> Scenario:
        scenario = Scenario(name, expected, says=says or {}, needs_hints=needs_hints)
        started = time.monotonic()
        try:
            setup()
            scenario.failing, scenario.messages, scenario.hints = self.grade()
        except GradingError as exc:
            scenario.error = str(exc)
        scenario.seconds = time.monotonic() - started
        self.on_scenario(scenario)
        return scenario

    def _fresh(self) -> None:
        self.remove_all()
        if any(isinstance(a, Step) and a.fleeting for t in self.lab.tasks for a in t.solution):
            self.forget_events()

    def _all(self, actions: Iterable[Action]) -> None:
        for action in actions:
            self.do(action)

    def _solve(self) -> None:
        self.fleeting_at = time.time()
        for task in self.lab.tasks:
            self._all(task.solution)

    def _refresh_fleeting(self) -> None:
        if self.events_since(self.fleeting_at) < EVENTS_BEFORE_REFRESH:
            return
        self.fleeting_at = time.time()
        for task in self.lab.tasks:
            self._all(a for a in task.solution if isinstance(a, Step) and a.fleeting)

    def _undo(self, undo: tuple[Action, ...] | None, failed: frozenset[str]) -> None:
        """Put the solved lab back: the spoiler's undo, else its tasks reset and redone; when
        that fails too, everything removed and solved again."""
        try:
            if undo is not None:
                self._all(undo)
                return
            for task in self.lab.tasks:
                if task.id in {self.checks.get(c) for c in failed}:
                    self.reset(task.id)
                    self._all(task.solution)
        except GradingError:
            self.remove_all()
            self._solve()
