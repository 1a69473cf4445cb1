"""Step 3½ of :mod:`webhook.ingest`: which of the course's assignments a report is filed under.

A report names its lab; the student's course has at most a few assignments of it. One:
that one. Several: the report must name its assignment's slug (``X-Grader-Assignment``,
``grade --submit URL --assignment SLUG``). None, or a slug the course has not: refused
(404, :class:`NoAssignment`), with one line naming the course and the lab, so that the
student can tell the instructor what to add; their ``grade`` keeps the report in its outbox.
A read only: no lock, no write. The same query reads the assignment's newest rubric
version, the one the report is scored from (one statement per report fewer than asking
:func:`webhook.storage.assignments.newest_version` after it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select

from submissions.rubric import Rubric
from webhook.i18n import N_
from webhook.ingest.outcomes import NoAssignment
from webhook.storage.assignments import stored_rubric
from webhook.storage.models import Assignment, AssignmentRubric, Course

#: The header a report's assignment is named in, when its course has two of its lab.
ASSIGNMENT_HEADER = "X-Grader-Assignment"


@dataclass(frozen=True, slots=True)
class Filed:
    """The assignment a report goes under, with what its checks need of it."""

    id: int
    slug: str
    opens_at: datetime | None
    version: int  # its newest rubric version: what the report is scored from
    rubric: Rubric


_NEWEST = (
    select(func.max(AssignmentRubric.version))
    .where(AssignmentRubric.assignment_id == Assignment.id)
    .correlate(Assignment)
    .scalar_subquery()
)
_OF_LAB = (
    select(
        Assignment.id,
        Assignment.slug,
        Assignment.opens_at,
        AssignmentRubric.version,
        AssignmentRubric.rubric,
    )
    .join(
        AssignmentRubric,
        (AssignmentRubric.assignment_id == Assignment.id) & (AssignmentRubric.version == _NEWEST),
    )
    .where(Assignment.course_id == bindparam("course_id"), Assignment.lab == bindparam("lab"))
    .order_by(Assignment.slug)
)
_COURSE_SLUG = select(Course.slug).where(Course.id == bindparam("course_id"))


def assignment_for(connection: Connection, course_id: int, lab: str, named: str | None) -> Filed:
    """The course's assignment of ``lab`` (the one ``named``, if the request names one)."""
    found = [
        Filed(
            row.id, row.slug, row.opens_at, row.version,
            stored_rubric(row.id, row.version, row.rubric),
        )
        for row in connection.execute(_OF_LAB, {"course_id": course_id, "lab": lab})
    ]  # fmt: skip
    wanted = (named or "").strip()
    if wanted:
        chosen = [filed for filed in found if filed.slug == wanted]
        if chosen:
            return chosen[0]
    elif len(found) == 1:
        return found[0]
    course = connection.execute(_COURSE_SLUG, {"course_id": course_id}).scalar_one()
    slugs = ", ".join(filed.slug for filed in found)
    if not found:
        raise NoAssignment(
            N_(
                "course {course} has no assignment of lab {lab}: ask your instructor "
                "to add one (grade-server assignment create {course} SLUG --lab {name})"
            ).format(course=course, lab=repr(lab[:100]), name=lab[:100]),
            course=course,
            lab=lab,
        )
    if wanted:
        raise NoAssignment(
            N_(
                "course {course} has no assignment {wanted} of lab {lab}"
                " (its assignments of that lab: {slugs})"
            ).format(course=course, wanted=repr(wanted[:64]), lab=repr(lab[:100]), slugs=slugs),
            course=course,
            lab=lab,
        )
    raise NoAssignment(
        N_(
            "course {course} has several assignments of lab {lab}: send with"
            " --assignment SLUG, one of {slugs}"
        ).format(course=course, lab=repr(lab[:100]), slugs=slugs),
        course=course,
        lab=lab,
    )
