"""The course's pages by assignment (issue 19): the course page (students by assignments, each
cell the final grade with its marks), an assignment's page (its roster, checks and pass
rates) and its settings page (dates, grade policy, rubric versions).

The views are plain functions; :mod:`webhook.gradebook` routes them behind its login. Every
grade is :func:`webhook.storage.queries.assignment_grades`' (through
:func:`webhook.export.gradesheet`, the exports' own rows), so the page, the CSVs and the
LMS passback cannot disagree. Check titles and order come from the assignment's newest
rubric (:func:`webhook.storage.assignments.newest_rubric`).
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for

from submissions.rubric import Rubric
from webhook.access import require_course
from webhook.database import get_db, get_session
from webhook.export import assignments_of, gradesheet
from webhook.storage import stored_grades, student_exceptions
from webhook.storage.assignments import by_slug, newest_rubric
from webhook.storage.models import Assignment, Course

from . import assignment_queries, charts, flag_queries, grid, queries

#: What each grade policy counts, said for the pages.
POLICIES = {
    "self": "self-reported reports",
    "verified": "verified reports only",
    "verified-else-self": "verified reports, else self-reported",
}


def course_page(course: str) -> Any:
    """Students by assignments: each cell the final grade and its marks."""
    found = require_course(course)
    db = get_session()
    if stored_grades.settle(get_db().engine, found.id):  # the reports since: decided now
        db.commit()  # read after it (SQLite's read transaction would keep its snapshot)
    assignments = assignments_of(db, found)
    columns, rows = gradesheet(db, found, assignments, stored=True)
    return render_template(
        "gradebook/course.html",
        course=found,
        assignments=assignments,
        columns=columns,
        linked={a.slug for a in assignments},
        rows=rows,
        grid=grid.row_cells(
            columns, rows, url_for("gradebook.student", course=found.slug, student_id="")
        ),
        flag_counts=flag_queries.flag_counts(db, found),
    )


def assignment_page(course: str, slug: str) -> Any:
    """One assignment: its students' reports, scores and flags, and its checks' pass rates."""
    db = get_session()
    found = require_course(course)
    assignment = _assignment(found, slug)
    rubric = newest_rubric(db, assignment.id)
    sort = request.args.get("sort", "id")
    if sort not in queries.SORT_KEYS:
        sort = "id"
    descending = request.args.get("dir") == "desc"
    rows = queries.sort_rows(queries.student_rows(db, found, assignment), sort, descending)
    rates = queries.pass_rates(db, found, only=set(rubric), assignment=assignment)
    return render_template(
        "gradebook/assignment.html",
        course=found,
        assignment=assignment,
        policies=POLICIES,
        rows=rows,
        sort=sort,
        descending=descending,
        chart=charts.pass_rate_chart(in_rubric_order(rubric, rates)),
        titles=check_titles(rubric),
        counts={
            "students": len(rows),
            "started": sum(1 for r in rows if r.started),
            "done": sum(1 for r in rows if r.done),
            "flagged": sum(1 for r in rows if r.flagged),
            "self_higher": sum(1 for r in rows if r.self_higher),
        },
        flag_counts=flag_queries.flag_counts(db, found),
    )


def settings_page(course: str, slug: str) -> Any:
    """The assignment's dates, policies, rubric versions and exceptions (read only)."""
    db = get_session()
    found = require_course(course)
    assignment = _assignment(found, slug)
    return render_template(
        "gradebook/settings.html",
        course=found,
        assignment=assignment,
        policies=POLICIES,
        versions=assignment_queries.rubric_versions(db, assignment),
        exceptions=student_exceptions.history(db, assignment.id),
    )


def _assignment(course: Course, slug: str) -> Assignment:
    """The course's assignment ``slug``, else 404."""
    return by_slug(get_session(), course.id, slug) or abort(404)


def check_titles(rubric: Rubric) -> dict[str, str]:
    return {entry.id: entry.title for entry in rubric.entries}


def in_rubric_order(rubric: Rubric, rates: list[queries.PassRate]) -> list[queries.PassRate]:
    """Rubric order (:func:`queries.pass_rates` counts the rubric's checks only)."""
    order = {check_id: i for i, check_id in enumerate(rubric)}
    return sorted(rates, key=lambda r: (order.get(r.check_id, len(order)), r.task, r.check_id))
