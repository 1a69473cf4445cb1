"""The board's data for one assignment: every student's checks, who is stuck, and the common
problems now. One JSON document, served to the board page and to other tools (:mod:`.api`).

Two reads: the roster with each student's progress row (one outer join), and the
assignment's newest rubric (the columns' order; checks the rubric does not name follow).
Times are epoch seconds: the browser counts "idle for" itself, so the document changes only
when a student's progress does or someone becomes stuck, and its ETag lets a poll that finds
nothing new cost no body at all.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select

from webhook.board import problems
from webhook.board.document import FAILING
from webhook.board.models import Progress
from webhook.storage.assignments import newest_rubric
from webhook.storage.models import Assignment, AssignmentRubric, Student

#: Someone becoming stuck changes the document with no post: the fingerprint of an
#: unchanged class changes every this many seconds, so the board learns of it this late.
STUCK_GRANULARITY = 15

_ROSTER = (
    select(
        Student.student_id,
        Student.name,
        Progress.checks,
        Progress.changed_at,
    )
    .outerjoin(
        Progress,
        and_(
            Progress.student_pk == Student.id,
            Progress.assignment_id == bindparam("assignment_id"),
        ),
    )
    .where(Student.course_id == bindparam("course_id"))
    .order_by(Student.student_id)
)


_PROGRESS_STATE = select(func.count(), func.max(Progress.changed_at)).where(
    Progress.assignment_id == bindparam("assignment_id")
)
_ROSTER_STATE = select(func.count(), func.max(Student.id)).where(
    Student.course_id == bindparam("course_id")
)
_RUBRIC_STATE = select(func.max(AssignmentRubric.version)).where(
    AssignmentRubric.assignment_id == bindparam("assignment_id")
)


def fingerprint(
    connection: Connection, assignment: Assignment, settings: tuple[bool, int], now: float
) -> str:
    """What the board's document depends on, in one cheap read: its ETag. A poll that
    finds it unchanged is answered 304 before the document is built."""
    params = {"assignment_id": assignment.id, "course_id": assignment.course_id}
    rows = connection.execute(_PROGRESS_STATE, params).one()
    roster = connection.execute(_ROSTER_STATE, params).one()
    rubric = connection.execute(_RUBRIC_STATE, params).scalar()
    changed = rows[1].timestamp() if rows[1] is not None else 0
    bucket = int(now // STUCK_GRANULARITY)
    said = f"{assignment.id}|{rows[0]}|{changed}|{roster[0]}|{roster[1]}|{rubric}|{settings}"
    said += f"|{bucket}"
    return hashlib.sha256(said.encode()).hexdigest()[:32]


def board(
    connection: Connection, assignment: Assignment, course_slug: str, stuck_minutes: int,
    progress_on: bool, now: float,
) -> dict[str, Any]:  # fmt: skip
    """The board's document for ``assignment`` at ``now`` (epoch seconds)."""
    limit = now - stuck_minutes * 60
    rubric = newest_rubric(connection, assignment.id)
    columns = list(rubric)
    known = set(columns)
    students: list[dict[str, Any]] = []
    stuck: list[dict[str, Any]] = []
    failures: list[tuple[str, str, str]] = []
    params = {"assignment_id": assignment.id, "course_id": assignment.course_id}
    for row in connection.execute(_ROSTER, params):
        # One pass per student over their stored checks, which become the document's cells
        # as they are (less their id): no copy per check, no second walk.
        cells: dict[str, dict[str, Any]] = {}
        passed = 0
        longest: tuple[str, dict[str, Any]] | None = None
        for check in json.loads(row.checks) if row.checks is not None else ():
            check_id = check.pop("id")
            cells[check_id] = check
            if check_id not in known:
                known.add(check_id)
                columns.append(check_id)
            status = check["status"]
            if status == "passed":
                passed += 1
            elif status in FAILING:
                failures.append((row.student_id, check_id, check.get("message", "")))
                if longest is None or check["since"] < longest[1]["since"]:
                    longest = (check_id, check)
        shown = {
            "id": row.student_id,
            "name": row.name,
            "checks": cells,
            "passed": passed,
            "changed_at": row.changed_at.timestamp() if row.changed_at is not None else None,
            "stuck": None,
        }
        if longest is not None and longest[1]["since"] < limit:
            check_id, check = longest
            shown["stuck"] = {
                "id": check_id,
                "message": check.get("message", ""),
                "since": check["since"],
            }
            stuck.append({"student": row.student_id, "name": row.name, **shown["stuck"]})
        students.append(shown)
    stuck.sort(key=lambda entry: entry["since"])
    return {
        "course": course_slug,
        "assignment": assignment.slug,
        "title": assignment.title,
        "lab": assignment.lab,
        "progress": progress_on,
        "stuck_minutes": stuck_minutes,
        "checks": [
            {"id": check_id, "title": rubric[check_id].title if check_id in rubric else check_id}
            for check_id in columns
        ],
        "students": students,
        "stuck": stuck,
        "problems": [
            {
                "check": problem.check,
                "pattern": problem.pattern,
                "example": problem.example,
                "count": problem.count,
                "students": problem.students,
            }
            for problem in problems.group(failures)
        ],
    }
