"""Step 3½ of :mod:`webhook.ingest`: which of the course's assignments a report is filed under.

A report names its lab; the student's course has at most a few assignments of it. One:
that one. Several: the report must name its assignment's slug (``X-Grader-Assignment``,
``grade --submit URL --assignment SLUG``). None, or a slug the course has not: refused
(404, :class:`NoAssignment`), with one line naming the course and the lab, so that the
student can tell the instructor what to add; their ``grade`` keeps the report in its outbox.
A read only: no lock, no write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from webhook.i18n import N_
from webhook.ingest.outcomes import NoAssignment
from webhook.storage.models import Assignment, Course

#: The header a report's assignment is named in, when its course has two of its lab.
ASSIGNMENT_HEADER = "X-Grader-Assignment"


@dataclass(frozen=True, slots=True)
class Filed:
    """The assignment a report goes under, with what its checks need of it."""

    id: int
    slug: str
    opens_at: datetime | None


_OF_LAB = (
    select(Assignment.id, Assignment.slug, Assignment.opens_at)
    .where(Assignment.course_id == bindparam("course_id"), Assignment.lab == bindparam("lab"))
    .order_by(Assignment.slug)
)
_COURSE_SLUG = select(Course.slug).where(Course.id == bindparam("course_id"))


def assignment_for(connection: Connection, course_id: int, lab: str, named: str | None) -> Filed:
    """The course's assignment of ``lab`` (the one ``named``, if the request names one)."""
    found = [
        Filed(row.id, row.slug, row.opens_at)
        for row in connection.execute(_OF_LAB, {"course_id": course_id, "lab": lab})
    ]
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
