"""An assignment's rescore page: the preview of a rubric change's effect, then its confirm.

``GET /gradebook/<course>/a/<slug>/rescore`` lists each student whose grade a
re-scoring with the newest rubric version changes (old → new), the counts, and the
assignment's past re-scorings; ``POST`` (the page's form, with its CSRF token, checked
for the whole blueprint) applies it as ``grade-server assignment rescore --apply`` does
(:mod:`webhook.rescore`), in the instructor's name. The form carries the version it
previewed: if the rubric has changed since, nothing is applied and the page says so.
Like every page of a course, it is its instructors' only (404 for anyone else).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from webhook import rescore
from webhook.access import require_course
from webhook.auth import current_instructor
from webhook.database import get_db, get_session
from webhook.storage.assignments import by_slug
from webhook.storage.db import write_transaction
from webhook.storage.models import Assignment, Course

URL = "/gradebook/<course>/a/<assignment>/rescore"


def page(course: str, assignment: str) -> Any:
    """The preview (GET) and its confirm (POST)."""
    found = require_course(course)
    target = _assignment(found, assignment)
    if request.method == "POST":
        return _confirm(found, target)
    db = get_session()
    return render_template(
        "gradebook/rescore.html",
        course=found,
        assignment=target,
        plan=rescore.plan(db, target),
        summary=rescore.summary,
        nothing_said=rescore.nothing_said,
        history=rescore.history(db, target),
    )


def _assignment(course: Course, slug: str) -> Assignment:
    found = by_slug(get_session(), course.id, slug)
    if found is None:
        abort(404)
    return found


def _confirm(course: Course, assignment: Assignment) -> Any:
    version = request.form.get("version", "")
    if not version.isdigit() or len(version) > 9:
        abort(400, description="The form names no rubric version: reload the page and retry.")
    instructor = current_instructor()
    assert instructor is not None  # login_required
    here = url_for("gradebook.rescore", course=course.slug, assignment=assignment.slug)
    try:
        with write_transaction(get_db().engine) as connection:
            applied = rescore.apply(
                connection, assignment.id, by=instructor.username, version=int(version)
            )
    except rescore.StaleVersion as exc:
        flash(f"Nothing re-scored: {exc}.", "error")
        return redirect(here, 303)
    if applied is None:
        abort(404)
    made = applied.plan
    if made.nothing:
        flash(f"Nothing to rescore: {rescore.nothing_said(made)}.", "info")
    else:
        flash(f"Re-scored with rubric v{made.to_version}: {rescore.summary(made)}.", "info")
    return redirect(here, 303)
