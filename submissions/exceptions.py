"""One student's exceptions to an assignment's rules: an extension, excused, an override.

Accommodations (extra time, an excused lab) are a duty at many universities, and an
instructor's own judgement (a grade set by hand) must survive every re-computation:
these values say them, and :func:`submissions.scoring.assignment_grade` applies them.
Who set them, when and why is the server's to store; these are the decision's inputs.

Named for the issue's word ("per-student exceptions"), not for Python's: the one Python
exception here is :class:`ExceptionRefused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: The most days one extension may add: a term is shorter.
MAX_EXTRA_DAYS = 366


class ExceptionRefused(ValueError):
    """An exception that cannot be set: its message is one line for the instructor."""


@dataclass(frozen=True, slots=True)
class Override:
    """A grade an instructor set by hand; it wins over the policy until removed.

    The note is required: an override with no reason cannot be defended to the student,
    nor understood by the next instructor.
    """

    grade: int
    note: str

    def __post_init__(self) -> None:
        if not self.note.strip():
            raise ExceptionRefused("an override needs a note saying why")
        if self.grade < 0:
            raise ExceptionRefused(f"an override of {self.grade} is below 0")


def check_override(override: Override, max_score: int) -> Override:
    """``override`` if it fits the assignment's maximum, else refused with one line."""
    if override.grade > max_score:
        raise ExceptionRefused(
            f"an override of {override.grade} is above the assignment's maximum of {max_score}"
        )
    return override


@dataclass(frozen=True, slots=True)
class Exceptions:
    """What applies to one student on one assignment; the default is "nothing special".

    An extension is either ``until`` (a later close, aware UTC) or ``extra_days`` added to
    the assignment's close, not both: the second follows the close when it moves.
    """

    until: datetime | None = None
    extra_days: int = 0
    excused: bool = False
    override: Override | None = None

    def __post_init__(self) -> None:
        if self.until is not None and self.extra_days:
            raise ExceptionRefused("an extension is a later close or a number of days, not both")
        if self.until is not None and self.until.tzinfo is None:
            raise ExceptionRefused("an extension's close needs a time zone")
        if not 0 <= self.extra_days <= MAX_EXTRA_DAYS:
            raise ExceptionRefused(f"an extension is 1 to {MAX_EXTRA_DAYS} days")

    def due(self, closes_at: datetime | None) -> datetime | None:
        """The student's own due time: the assignment's close, or later, never earlier.

        An extension to a date before the close (the close moved later since) is no
        extension: it must never shorten a student's time. No close, no due time.
        """
        if closes_at is None:
            return None
        if self.until is not None:
            return max(self.until, closes_at)
        return closes_at + timedelta(days=self.extra_days)

    def extends(self, closes_at: datetime | None) -> bool:
        """Whether the student's due time is later than the assignment's close."""
        due = self.due(closes_at)
        return due is not None and closes_at is not None and due > closes_at


NO_EXCEPTIONS = Exceptions()
