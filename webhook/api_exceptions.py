"""The JSON API of per-student exceptions: an instructor sets or removes a student's
extension, *excused* or override on an assignment (issue 19, items 4 and 6).

``PUT`` sets, ``DELETE`` removes, at
``/api/v1/courses/<course>/assignments/<slug>/students/<student>/<kind>`` where ``kind`` is
``extension`` (``{"until": ISO 8601}`` or ``{"days": N}``), ``excused`` or ``override``
(``{"grade": N}``); every body is JSON with a ``note``. ``GET
/api/v1/courses/<course>/assignments/<slug>/exceptions`` lists every exception made (who,
when, why; removed ones too). The checks, the storing and the LMS's hook are
:mod:`webhook.assignment_exceptions`', as for ``grade-server assignment extend|excuse|override``.

Who may: an instructor's login (HTTP basic auth; the gradebook's session cookie is not
taken, so another site cannot make a logged-in browser send one), for a course they may
see (:mod:`webhook.access`: they teach it, or they administer the server). An instructor's
API token only sends verified reports (:mod:`webhook.api`), and is refused here too.
Answers: 200 done (with what is now in force); 400 a body that is not the JSON asked for;
401 no login; 404 no such course (or not theirs), assignment or student; 415 not JSON;
422 refused (an empty note, an extension not after the close, an override out of range),
with one line saying why and nothing changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from flask import Blueprint, Flask, g, jsonify, request
from sqlalchemy import select

from webhook import assignment_exceptions as exceptions
from webhook.access import courses_visible_to
from webhook.api import error, unauthorized
from webhook.auth import login_instructor
from webhook.database import get_db, get_session
from webhook.storage.db import write_transaction
from webhook.storage.models import Assignment, AssignmentException, Course, Instructor, Student
from webhook.storage.student_exceptions import KINDS, history

bp = Blueprint("api_exceptions", __name__, url_prefix="/api/v1/courses")
ASSIGNMENT = "/<course>/assignments/<slug>"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


class Refused(Exception):
    """An answer other than 200: its status, code and one-line reason."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason


@bp.errorhandler(Refused)
def refused(exc: Refused) -> Any:
    if exc.status == 401:
        return unauthorized(exc.reason)
    return error(exc.status, exc.code, exc.reason)


def _instructor() -> Instructor:
    """The instructor of HTTP basic auth (never a cookie, never an API token), once a request."""
    if "api_instructor" in g:
        return cast(Instructor, g.api_instructor)
    auth = request.authorization
    if auth is None or auth.type != "basic":
        raise Refused(401, "unauthorized", "log in with an instructor's name and password")
    instructor = login_instructor(auth.username or "", auth.password or "")
    if instructor is None:
        raise Refused(401, "unauthorized", "log in with an instructor's name and password")
    g.api_instructor = instructor
    return instructor


def _assignment(course: str, slug: str) -> Assignment:
    session = get_session()
    found = session.scalar(
        select(Assignment)
        .join(Course, Course.id == Assignment.course_id)
        .where(Course.slug == course, Assignment.slug == slug, courses_visible_to(_instructor()))
    )
    if found is None:  # a course the instructor may not see is answered like none
        raise Refused(404, "not_found", f"no assignment {slug[:64]!r} in a course of yours")
    return found


def _student(assignment: Assignment, student_id: str) -> int:
    student_pk = get_session().scalar(
        select(Student.id).where(
            Student.course_id == assignment.course_id, Student.student_id == student_id
        )
    )
    if student_pk is None:
        raise Refused(404, "not_found", f"no student {student_id[:100]!r} on the roster")
    return student_pk


def _body() -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise Refused(415, "unsupported_media_type", "send a JSON body (application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("note", None), str):
        raise Refused(400, "bad_request", 'send a JSON object with a "note" (a string)')
    return body


def _whole(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused(400, "bad_request", f'"{key}" must be a whole number')
    return value


def _moment(body: dict[str, Any]) -> datetime | None:
    value = body.get("until")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise Refused(400, "bad_request", '"until" must be an ISO 8601 time') from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@bp.route(f"{ASSIGNMENT}/students/<student_id>/<kind>", methods=("PUT", "DELETE"))
def change(course: str, slug: str, student_id: str, kind: str) -> Any:
    """Set (PUT) or remove (DELETE) one kind of the student's exceptions."""
    if kind not in KINDS:
        raise Refused(404, "not_found", f"no exception kind {kind[:20]!r}: {', '.join(KINDS)}")
    by = _instructor().username
    body = _body()
    assignment = _assignment(course, slug)
    student_pk = _student(assignment, student_id)
    note = body["note"]
    shown: dict[str, Any] = {"student_id": student_id, "kind": kind}
    with write_transaction(get_db().engine) as connection:
        try:
            if request.method == "DELETE":
                shown["removed"] = exceptions.remove(
                    connection, assignment, student_pk, kind, note=note, by=by
                )
            elif kind == "extension":
                due = exceptions.extend(
                    connection, assignment, student_pk, note=note, by=by,
                    until=_moment(body), days=_whole(body, "days"),
                )  # fmt: skip
                shown["due"] = due.isoformat()
            elif kind == "excused":
                exceptions.excuse(connection, assignment, student_pk, note=note, by=by)
            else:
                grade = _whole(body, "grade")
                if grade is None:
                    raise Refused(400, "bad_request", 'an override needs "grade"')
                exceptions.override(connection, assignment, student_pk, grade, note=note, by=by)
                shown["grade"] = grade
        except exceptions.ExceptionRefused as exc:
            raise Refused(422, "refused", str(exc)) from None
    return jsonify(shown)


@bp.get(f"{ASSIGNMENT}/exceptions")
def listed(course: str, slug: str) -> Any:
    """Every exception made on the assignment, oldest first, removed ones too."""
    assignment = _assignment(course, slug)
    return jsonify(
        exceptions=[
            _json(student_id, made) for student_id, made in history(get_session(), assignment.id)
        ]
    )


def _json(student_id: str, made: AssignmentException) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "student_id": student_id,
        "kind": made.kind,
        "until": when(made.until),
        "days": made.extra_days or None,
        "grade": made.grade,
        "note": made.note,
        "set_by": made.set_by,
        "set_at": when(made.set_at),
        "removed_by": made.removed_by or None,
        "removed_at": when(made.removed_at),
        "removed_note": made.removed_note or None,
    }
