"""An assignment's late policy, and how late a report is: pure arithmetic, no storage.

Three policies, typed by an instructor on the command line as short text:

* ``none``: late reports count in full;
* ``cutoff``: late reports do not count (the server's behaviour before late policies);
* ``penalty:grace=15m,per-day=10%,floor=50%``: after a grace period, each *started* day
  takes ``per-day`` of the score off, never below ``floor`` of it. One second past the grace
  is day 1, exactly 24 hours past it still day 1, 24 hours and a second day 2: "per started
  day" is what students read in a syllabus, and it needs no rounding of times.

A report counts as submitted when it was *made* (its ``created``), not when it reached the
server, as long as its own evidence agrees with that date (no ``evidence_after_report`` nor
``future_report`` flag, :mod:`submissions.integrity`): ``grade --submit`` keeps a report in
the student's outbox when the server cannot be reached, and a report graded before the
deadline must not turn late because the network was down. A report whose evidence
contradicts its date is judged by when it arrived, the only clock the student cannot set.
Either way never later than it arrived: the server had it by then.

Penalties are whole points, rounded down (in the student's favour), because grades are
whole points everywhere else (the rubric, the CSVs, the LMS passback).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

LateKind = Literal["none", "cutoff", "penalty"]
KINDS: tuple[LateKind, ...] = ("none", "cutoff", "penalty")

#: Flag kinds that say a report's own date cannot be trusted (:data:`submissions.integrity.KINDS`).
CLOCK_FLAGS = frozenset({"evidence_after_report", "future_report"})
DAY = timedelta(days=1)
#: The longest grace an instructor may give: a longer one is a later close, not a grace.
MAX_GRACE = timedelta(days=365)
HUNDRED = Decimal(100)

_UNITS = {"d": DAY, "h": timedelta(hours=1), "m": timedelta(minutes=1), "s": timedelta(seconds=1)}
_DURATION = re.compile(
    r"(?:(?P<d>\d{1,6})d)?(?:(?P<h>\d{1,6})h)?(?:(?P<m>\d{1,6})m)?(?:(?P<s>\d{1,6})s)?"
)
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d{1,2})?)%?")
_KEYS = ("grace", "per-day", "floor")


class BadLatePolicy(ValueError):
    """A late policy that cannot be: its message is one line for the instructor."""


@dataclass(frozen=True, slots=True)
class LatePolicy:
    """How an assignment treats reports submitted after its due time.

    ``per_day`` and ``floor`` are percentages of the report's score; they mean something
    only for ``penalty`` (and must be zero otherwise, so that two equal policies are equal).
    """

    kind: LateKind = "cutoff"
    grace: timedelta = timedelta(0)
    per_day: Decimal = Decimal(0)
    floor: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadLatePolicy(f"late policy {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind != "penalty":
            if self.grace or self.per_day or self.floor:
                raise BadLatePolicy(f"late policy {self.kind} takes no grace, per-day or floor")
            return
        if not timedelta(0) <= self.grace <= MAX_GRACE:
            raise BadLatePolicy("grace must be between 0 and 365d")
        if not Decimal(0) < self.per_day <= HUNDRED:
            raise BadLatePolicy("per-day must be above 0% and at most 100% (no penalty: none)")
        if not Decimal(0) <= self.floor < HUNDRED:
            raise BadLatePolicy("floor must be at least 0% and below 100% (no penalty: none)")

    @property
    def counts_late(self) -> bool:
        """Whether a late report can count at all (``cutoff``: never)."""
        return self.kind != "cutoff"

    @classmethod
    def parse(cls, text: str) -> LatePolicy:
        """The policy ``text`` says (``none``, ``cutoff``, ``penalty:per-day=10%,...``).

        ``grace`` and ``floor`` default to 0; ``per-day`` is required.
        """
        kind, colon, rest = text.strip().partition(":")
        kind = kind.strip().lower()
        if kind in ("none", "cutoff"):
            if colon:
                raise BadLatePolicy(f"late policy {kind} takes no settings: {text.strip()!r}")
            return cls(kind)  # type: ignore[arg-type]  # checked just above
        if kind != "penalty":
            raise BadLatePolicy(
                f"late policy {text.strip()[:40]!r} is not none, cutoff or"
                " penalty:grace=15m,per-day=10%,floor=50%"
            )
        settings: dict[str, str] = {}
        for item in rest.split(",") if rest.strip() else ():
            key, equals, value = (part.strip() for part in item.partition("="))
            key = key.lower()
            if key not in _KEYS or not equals:
                raise BadLatePolicy(f"{item.strip()[:40]!r}: expected grace=, per-day= or floor=")
            if key in settings:
                raise BadLatePolicy(f"{key} is given twice")
            settings[key] = value
        if "per-day" not in settings:
            raise BadLatePolicy("penalty needs per-day=, e.g. penalty:per-day=10%")
        return cls(
            "penalty",
            grace=parse_duration(settings.get("grace", "0")),
            per_day=parse_percent(settings["per-day"], "per-day"),
            floor=parse_percent(settings.get("floor", "0"), "floor"),
        )

    def __str__(self) -> str:
        """The text :meth:`parse` reads back to this very policy."""
        if self.kind != "penalty":
            return self.kind
        return (
            f"penalty:grace={format_duration(self.grace)},"
            f"per-day={_percent(self.per_day)},floor={_percent(self.floor)}"
        )


NONE = LatePolicy("none")
CUTOFF = LatePolicy("cutoff")


def parse_duration(text: str) -> timedelta:
    """``15m``, ``2h``, ``1d12h``, ``90s`` or ``0`` as a duration."""
    value = text.strip().lower()
    if value == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(value)
    if not value or match is None:
        raise BadLatePolicy(f"grace {text.strip()[:20]!r} is not a duration like 15m, 2h or 1d")
    return sum((int(n) * _UNITS[unit] for unit, n in match.groupdict().items() if n), timedelta(0))


def format_duration(duration: timedelta) -> str:
    """A duration as :func:`parse_duration` reads it, largest units first (``1h30m``)."""
    seconds = int(duration.total_seconds())
    if seconds == 0:
        return "0"
    parts = []
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, int(size.total_seconds()))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_percent(text: str, name: str) -> Decimal:
    """``10%`` (or ``10``, ``12.5%``) as a number of percent; ``name`` says which setting."""
    match = _PERCENT.fullmatch(text.strip())
    if match is None:
        raise BadLatePolicy(f"{name} {text.strip()[:20]!r} is not a percentage like 10%")
    return Decimal(match.group(1))


def _percent(value: Decimal) -> str:
    digits = format(value, "f")
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    return f"{digits}%"


def submitted_at(
    received_at: datetime, created: datetime | None = None, flag_kinds: Iterable[str] = ()
) -> datetime:
    """When a report counts as submitted: its ``created`` if its evidence agrees, else its arrival.

    ``flag_kinds`` are the kinds of every flag on the report, decided or not: dismissing a
    flag accepts the report, not its clock. Never later than ``received_at``.
    """
    if created is None or CLOCK_FLAGS.intersection(flag_kinds):
        return received_at
    return min(created, received_at)


def lateness(submitted: datetime, due: datetime | None) -> timedelta:
    """How long after ``due`` a report was submitted; zero when on time or with no due time."""
    if due is None:
        return timedelta(0)
    return max(submitted - due, timedelta(0))


def late_days(policy: LatePolicy, late: timedelta) -> int:
    """The days a penalty counts: each started day after the grace (0 within it)."""
    if policy.kind != "penalty":
        return 0
    days, rest = divmod(max(late - policy.grace, timedelta(0)), DAY)
    return days + (1 if rest else 0)


def penalty_percent(policy: LatePolicy, late: timedelta) -> Decimal:
    """The percentage of the score a report ``late`` by this much loses (floor respected)."""
    return min(late_days(policy, late) * policy.per_day, HUNDRED - policy.floor)


def penalty_points(policy: LatePolicy, score: int, late: timedelta) -> int:
    """The whole points a report of ``score`` loses, rounded down (the student's favour)."""
    return int(score * penalty_percent(policy, late) / HUNDRED)
