"""``grade-server grades``: a course's grades as a CSV for the LMS."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from submissions.scoring import GradePolicy
from webhook.cli.errors import BadInput, database_command
from webhook.cli.lookup import find_course
from webhook.database import get_db
from webhook.export import FORMATS, export_grades


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
) -> None:
    """Write COURSE's grades as a CSV that Canvas or Moodle imports."""
    policy = GradePolicy(
        grade="latest" if grade == "latest" else "best",
        include_flagged=include_flagged,
        include_late=include_late,
    )
    with get_db().session() as session:
        course = find_course(session, course_slug)
        if output is None:
            export_grades(session, course, sys.stdout, fmt=fmt, policy=policy)
            return
        try:
            with output.open("w", encoding="utf-8", newline="") as handle:
                export_grades(session, course, handle, fmt=fmt, policy=policy)
        except OSError as exc:
            raise BadInput(f"{output}: cannot write ({exc.strerror})") from None
    click.echo(f"wrote {fmt} grades of {course_slug} to {output}", err=True)
