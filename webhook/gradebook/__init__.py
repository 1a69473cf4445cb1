"""The instructor's gradebook: who is done, where the class gets stuck, and exports.

Pages (all behind the instructor login, server-rendered, no JavaScript and no
external assets). Each course's pages, forms and exports are the instructor's only if
they teach it or are a server administrator (:mod:`webhook.access`); any other course
answers 404, like one that does not exist.

- ``/login``, ``/logout``
- ``/gradebook/``: the courses (straight to the course when there is one)
- ``/gradebook/<course>/``: the course page, students by assignments, each cell the
  student's final grade with its marks (late, extended, excused, overridden, flagged),
  links to each assignment's and each student's page
- ``/gradebook/<course>/a/<slug>``: an assignment's page, its roster with latest, best
  self-reported and latest verified scores, flags for suspicious reports (and for a
  self-reported best above the latest verified score), and a chart of each check's pass
  rate; ``.../a/<slug>/settings``: its dates, grade policy and rubric versions
- ``/gradebook/<course>/students/<roster id>[?page=N]``: a student's reports over time,
  50 a page, newest first
- ``/gradebook/<course>/submissions/<id>``: one report, check by check, and its flags
- ``/gradebook/<course>/flags?show=open|decided|all[&page=N][&group=G]``: the flagged
  reports, 50 entries a page, with the reason and the other student involved; a shared
  piece of evidence is one entry listing its students (``group=G``: its flags one by one).
  ``POST /gradebook/<course>/flags/<id>`` (or ``.../flags/groups/<G>``, every open flag of
  a group) with ``action=accept|reject`` and a ``note`` records the instructor's decision
- ``/gradebook/<course>/export.csv?format=canvas|flags|moodle[&assignment=SLUG]
  [&include_flagged=1][&include_late=1]``: grades for the LMS (:mod:`webhook.export`: Canvas
  and its flags file the whole course's, Moodle one assignment's), counting what can be
  trusted unless told otherwise; the same bytes as ``grade-server grades export``
- ``/gradebook/<course>/a/<slug>/exceptions`` (``POST``): a student's extension, excused or
  override from the settings page's form: :mod:`.exception_form`
- ``/gradebook/<course>/a/<slug>/rescore``: a rubric change's effect on the grades
  (preview), and its confirm (``POST``): :mod:`.rescore_page`

Check titles and the chart's order come from the assignment's newest rubric.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from submissions.integrity import KINDS
from submissions.scoring import GradePolicy
from webhook.access import courses_visible_to, require_course
from webhook.auth import current_instructor
from webhook.crosscheck import decisions
from webhook.database import get_db, get_session
from webhook.export import FORMATS, ExportRefused, export_bytes
from webhook.grade_events import notify_grade_changed
from webhook.storage.assignments import newest_rubric
from webhook.storage.db import write_transaction
from webhook.storage.models import MAX_ROW_ID

from . import (
    assignment_pages,
    charts,
    csrf,
    exception_form,
    flag_pages,
    flag_queries,
    queries,
    sessions,
    student_queries,
)
from .exception_form import URL as EXCEPTION_URL
from .rescore_page import URL as RESCORE_URL
from .rescore_page import page as rescore_view

bp = Blueprint(
    "gradebook",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/gradebook/static",
)

F = TypeVar("F", bound=Callable[..., Any])

EXPORT_FORMATS = FORMATS
#: The longest note an instructor may keep with a decision.
MAX_NOTE = 1000
#: What a form's yes/no field may say.
YES_NO = {"": False, "0": False, "1": True}

# The pages use no script, no frames and nothing from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def login_required(view: F) -> F:
    """Send a visitor who is not logged in as an instructor to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_instructor() is None:
            return redirect(url_for("gradebook.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


@bp.record_once
def _init_csrf(state: Any) -> None:
    csrf.init_app(state.app)


@bp.before_request
def _check_csrf() -> None:
    csrf.protect()


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(400)
@bp.errorhandler(404)
def _error_page(error: HTTPException) -> Any:
    """Errors of these pages as a page of the gradebook, not Werkzeug's bare text."""
    return render_template("gradebook/error.html", error=error), error.code


@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
@bp.errorhandler(ProgrammingError)
def _database_not_ready(exc: Exception) -> Any:
    """A page saying the database is not ready (unmigrated, unreachable, read-only): 503."""
    from flask import current_app

    current_app.logger.error("database unavailable: %s", exc)
    g.instructor = None  # the page asks the database nothing more
    error = ServiceUnavailable(
        description="The gradebook's database is not ready (not migrated, unreachable or "
        "read-only). Try again in a moment; the server's log says why."
    )
    page = render_template("gradebook/error.html", error=error)
    return page, 503, {"Retry-After": "30"}


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf.token, "instructor": current_instructor()}


@bp.app_template_filter("gb_time")
def _format_time(value: datetime | None) -> str:
    """A UTC time as ``2026-11-29 14:03 UTC`` (instructors compare them across rooms)."""
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")


@bp.route("/gradebook/")
@login_required
def index() -> Any:
    instructor = current_instructor()
    assert instructor is not None  # login_required
    courses = queries.courses(get_session(), where=courses_visible_to(instructor))
    if len(courses) == 1:
        return redirect(url_for("gradebook.overview", course=courses[0].slug))
    return render_template("gradebook/courses.html", courses=courses)


@bp.route("/gradebook/<course>/")
@login_required
def overview(course: str) -> Any:
    """The course page: students by assignments (:mod:`.assignment_pages`)."""
    return assignment_pages.course_page(course)


@bp.route("/gradebook/<course>/a/<slug>")
@login_required
def assignment(course: str, slug: str) -> Any:
    return assignment_pages.assignment_page(course, slug)


@bp.route("/gradebook/<course>/a/<slug>/settings")
@login_required
def assignment_settings(course: str, slug: str) -> Any:
    return assignment_pages.settings_page(course, slug)


@bp.route("/gradebook/<course>/students/<student_id>")
@login_required
def student(course: str, student_id: str) -> Any:
    db = get_session()
    found = require_course(course)
    who = student_queries.student(db, found, student_id) or abort(404)
    page = request.args.get("page", "1")
    if not page.isdigit() or len(page) > 9:
        abort(400, description=f"page must be a whole number, not {page[:20]!r}")
    history = student_queries.history_page(db, who, int(page))
    return render_template(
        "gradebook/student.html",
        course=found,
        student=who,
        history=history,
        chart=charts.score_chart(history.rows) if history.rows else None,
    )


#: A row's id in a URL: one beyond every database's column is not found (404), not a 500.
ROW_ID = f"int(max={MAX_ROW_ID})"


@bp.route(f"/gradebook/<course>/submissions/<{ROW_ID}:submission_id>")
@login_required
def submission(course: str, submission_id: int) -> Any:
    db = get_session()
    found = require_course(course)
    sub = student_queries.submission(db, found, submission_id) or abort(404)
    checks = student_queries.checks(db, sub)
    tasks: dict[str, list[student_queries.CheckRow]] = {}
    for check in checks:
        tasks.setdefault(check.task, []).append(check)
    return render_template(
        "gradebook/submission.html",
        course=found,
        student=sub.student,
        sub=student_queries.submission_row(sub),
        tasks=tasks,
        titles=assignment_pages.check_titles(newest_rubric(db, sub.assignment_id)),
        flags=flag_queries.flags(db, found, "all", submission_id=sub.id),
    )


@bp.route("/gradebook/<course>/flags")
@login_required
def flags(course: str) -> Any:
    """The course's flags, 50 entries a page; a shared piece of evidence is one entry
    listing its students (``?group=N``: that group's flags, to decide report by report)."""
    db = get_session()
    found = require_course(course)
    show = request.args.get("show", "open")
    if show not in flag_queries.FLAG_FILTERS:
        abort(400, description=f"show must be one of {', '.join(flag_queries.FLAG_FILTERS)}")
    page = _number("page", 1) - 1
    group = _number("group", 0) or None
    entries, more = flag_pages.flag_page(
        db, found, cast(flag_queries.FlagFilter, show), page=page, group_id=group
    )
    return render_template(
        "gradebook/flags.html",
        course=found,
        show=show,
        entries=entries,
        page=page + 1,
        more=more,
        group=group,
        counts=flag_queries.flag_counts(db, found),
        kinds=KINDS,
        max_note=MAX_NOTE,
    )


def _number(name: str, default: int) -> int:
    """A whole number from 1 in the query string (400 otherwise), ``default`` if absent."""
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        abort(400, description=f"{name} must be a whole number from 1")
    return int(text)


def _decision_form() -> tuple[str, str]:
    """The decision's action and note, checked (400 otherwise)."""
    action = request.form.get("action", "")
    if action not in decisions.DECISIONS:
        abort(400, description="The decision must be accept or reject.")
    note = request.form.get("note", "").strip()
    if len(note) > MAX_NOTE:
        abort(400, description=f"The note is longer than {MAX_NOTE} characters.")
    return action, note


@bp.route(f"/gradebook/<course>/flags/<{ROW_ID}:flag_id>", methods=("POST",))
@login_required
def decide(course: str, flag_id: int) -> Any:
    """Accept a flag (the report counts again) or reject its report; who and when are kept."""
    found = require_course(course)
    action, note = _decision_form()
    instructor = current_instructor()
    assert instructor is not None  # login_required
    with write_transaction(get_db().engine) as connection:
        decided = decisions.decide(
            connection,
            course_id=found.id,
            flag_id=flag_id,
            action=action,
            note=note,
            by=instructor.username,
        )
        if decided is not None and decided.student_pk is not None:
            notify_grade_changed(connection, decided.student_pk)  # in this transaction
    if decided is None:
        abort(404)
    if decided.status == "accepted":
        flash(f"Flag #{flag_id} accepted: it no longer holds its report back.", "info")
    elif decided.submission_id is not None:
        flash(f"Report #{decided.submission_id} rejected: it never counts.", "info")
    else:
        flash(f"Flag #{flag_id} rejected.", "info")
    back = _safe_back(request.form.get("back"), found.slug)
    return redirect(back)


@bp.route(f"/gradebook/<course>/flags/groups/<{ROW_ID}:group_id>", methods=("POST",))
@login_required
def decide_group(course: str, group_id: int) -> Any:
    """Accept every open flag of a group, or reject every report it holds (issue 20)."""
    found = require_course(course)
    action, note = _decision_form()
    instructor = current_instructor()
    assert instructor is not None  # login_required
    with write_transaction(get_db().engine) as connection:
        decided = decisions.decide_group(
            connection, course_id=found.id, group_id=group_id, action=action, note=note,
            by=instructor.username,
        )  # fmt: skip
        for student_pk in decided.student_pks if decided else ():
            notify_grade_changed(connection, student_pk)  # in this transaction
    if decided is None:
        abort(404)
    flash(f"Group #{group_id}: {decided.flags} open flags {decided.status}.", "info")
    return redirect(_safe_back(request.form.get("back"), found.slug))


def _safe_back(target: str | None, slug: str) -> str:
    """Where a decision returns to: a page of this course's gradebook, else its flags."""
    prefix = f"/gradebook/{slug}/"
    if target and target.startswith(prefix) and "\\" not in target and "//" not in target:
        return target
    return url_for("gradebook.flags", course=slug)


@bp.route("/gradebook/<course>/export.csv")
@login_required
def export(course: str) -> Any:
    """The same bytes as ``grade-server grades export`` with the same options."""
    db = get_session()
    found = require_course(course)
    fmt = request.args.get("format", "canvas")
    if fmt not in EXPORT_FORMATS:
        abort(400, description=f"format must be one of {', '.join(EXPORT_FORMATS)}")
    policy = GradePolicy(
        include_flagged=_yes_no("include_flagged"), include_late=_yes_no("include_late")
    )
    slug = request.args.get("assignment") or None
    try:
        body = export_bytes(db, found, fmt=fmt, policy=policy, assignment=slug)
    except ExportRefused as exc:
        abort(404 if exc.not_found else 400, description=str(exc))
    name = f"{found.slug}-{fmt}.csv" if slug is None else f"{found.slug}-{slug}-{fmt}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": attachment(name)})


def attachment(filename: str) -> str:
    """``Content-Disposition`` for any file name (RFC 6266): an ASCII ``filename`` for old
    clients and the exact name, UTF-8 and percent-encoded, as ``filename*``."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    plain = "".join(c if c.isalnum() or c in "._-" else "_" for c in plain) or "grades.csv"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _yes_no(name: str) -> bool:
    """A query's yes/no field (``1``, ``0`` or absent); anything else is a 400 page."""
    value = request.args.get(name, "")
    if value not in YES_NO:
        abort(400, description=f"{name} must be 1 or 0, not {value[:20]!r}")
    return YES_NO[value]


# The login and logout pages, on this blueprint.
bp.add_url_rule("/login", view_func=sessions.login, methods=("GET", "POST"))
bp.add_url_rule("/logout", view_func=sessions.logout, methods=("POST",))
# An assignment's rescore preview and confirm (issue 19): its own module and template.
bp.add_url_rule(RESCORE_URL, "rescore", login_required(rescore_view), methods=("GET", "POST"))
# A student's exception on an assignment, from its settings page (issue 19).
bp.add_url_rule(
    EXCEPTION_URL, "exception", login_required(exception_form.submit), methods=("POST",)
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
