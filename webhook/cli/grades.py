"""``grade-server grades``: a course's grades as a CSV for the LMS.

The bytes are :func:`webhook.export.export_bytes`'s, the same as the gradebook's export
links: ``canvas`` (every assignment a column) and ``flags`` (what Canvas's file cannot say)
are the whole course's, ``moodle`` one assignment's (``--assignment SLUG``; default the
course's only one).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from submissions.scoring import GradePolicy
from webhook.cli.errors import BadInput, BadValue, NotFound, database_command
from webhook.cli.lookup import find_course
from webhook.database import get_db
from webhook.export import FORMATS, ExportRefused, export_bytes


@click.group("grades", help="Grades for the LMS.")
def grades_group() -> None:
    pass


@database_command(grades_group, "export")
@click.argument("course_slug", metavar="COURSE")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="canvas", show_default=True)
@click.option(
    "--grade",
    type=click.Choice(["best", "latest"]),
    default="best",
    show_default=True,
    help="Which submission counts.",
)
@click.option(
    "--include-flagged",
    is_flag=True,
    help="Count reports with open flags too (a rejected report never counts).",
)
@click.option("--include-late", is_flag=True, help="Count reports received after the deadline.")
@click.option(
    "--assignment",
    "assignment",
    metavar="SLUG",
    help="The Moodle file's assignment (default: the course's only one).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
def grades_export(
    course_slug: str,
    fmt: str,
    grade: str,
    include_flagged: bool,
    include_late: bool,
    output: Path | None,
    assignment: str | None,
) -> None:
    """Write COURSE's grades as a CSV that Canvas or Moodle imports (or, ``flags``, what
    the Canvas file cannot say: raw score, penalty, marks, open flags)."""
    policy = GradePolicy(
        grade="latest" if grade == "latest" else "best",
        include_flagged=include_flagged,
        include_late=include_late,
    )
    with get_db().session() as session:
        course = find_course(session, course_slug)
        try:
            body = export_bytes(session, course, fmt=fmt, policy=policy, assignment=assignment)
        except ExportRefused as exc:
            if exc.not_found:
                raise NotFound(str(exc)) from None
            raise BadValue(str(exc)) from None
    if output is None:
        sys.stdout.buffer.write(body)  # bytes: CRLF lines as the web sends them
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(body)
    except OSError as exc:
        raise BadInput(f"{output}: cannot write ({exc.strerror})") from None
    click.echo(f"wrote {fmt} grades of {course_slug} to {output}", err=True)
