"""``grade-server roster``: students enrolled from a roster CSV, each with a token."""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy import select

from webhook.cli.errors import BadInput, database_command
from webhook.cli.lookup import find_course
from webhook.database import get_db
from webhook.storage.models import Student
from webhook.storage.tokens import hash_token, new_token


@click.group("roster", help="Students on a course's roster.")
def roster_group() -> None:
    pass


#: Unicode categories never allowed in a student id: control, format (zero-width, RTL
#: marks), surrogate, private use, unassigned, line and paragraph separators.
INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def roster_id(raw: str) -> str:
    """A roster id as stored: NFC, trimmed (the same person typed twice is one id)."""
    return unicodedata.normalize("NFC", raw).strip()


def look_alike_key(student_id: str) -> str:
    """Ids equal under this key look the same to a person (full-width ``Ann``, ``ann``)."""
    return unicodedata.normalize("NFKC", student_id).casefold()


def _invisible(text: str, allowed: set[str] | None = None) -> str | None:
    for char in text:
        if unicodedata.category(char) in (allowed or INVISIBLE):
            return f"U+{ord(char):04X} ({unicodedata.name(char, unicodedata.category(char))})"
    return None


def read_roster(handle: TextIO, source: str) -> Iterator[tuple[str, str, str]]:
    """Rows (student_id, name, email) of a roster CSV with a header naming ``student_id``.

    Ids are NFC and trimmed; an id with a control or invisible character, and two ids
    that look alike, are refused with the line's number (they would be two students).
    """
    reader = csv.DictReader(handle)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise BadInput(f"{source}:1: {_csv_problem(exc)}") from None
    fields = [name.strip().lower() for name in header or ()]
    if "student_id" not in fields:
        raise BadInput(
            f"{source}: the header must name a student_id column (and may name name, email)"
        )
    reader.fieldnames = fields
    seen: dict[str, tuple[str, int]] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadInput(f"{source}:{reader.line_num + 1}: {_csv_problem(exc)}") from None
        line = reader.line_num
        student_id = roster_id(row.get("student_id") or "")
        if not student_id:
            raise BadInput(f"{source}:{line}: empty student_id")
        if len(student_id) > 100 or "/" in student_id:
            raise BadInput(
                f"{source}:{line}: student_id {student_id[:40]!r} is too long or has '/'"
            )
        bad = _invisible(student_id)
        if bad:
            raise BadInput(
                f"{source}:{line}: student_id {student_id[:40]!r} has an invisible or control "
                f"character, {bad}"
            )
        key = look_alike_key(student_id)
        if key in seen:
            first, first_line = seen[key]
            said = "appears twice" if first == student_id else f"looks like {first!r}"
            raise BadInput(f"{source}:{line}: student_id {student_id!r} {said} (line {first_line})")
        seen[key] = (student_id, line)
        name = unicodedata.normalize("NFC", row.get("name") or "").strip()
        email = unicodedata.normalize("NFC", row.get("email") or "").strip()
        for field, value in (("name", name), ("email", email)):
            bad = _invisible(value, {"Cc", "Cs"})
            if bad:
                raise BadInput(f"{source}:{line}: {field} has a control character, {bad}")
        yield student_id, name, email


def _csv_problem(exc: csv.Error) -> str:
    said = str(exc)
    if "field larger than field limit" in said:
        return f"a field is longer than {csv.field_size_limit() // 1024} KiB"
    return f"not a CSV file ({said})"


@database_command(roster_group, "enrol")
@click.argument("course_slug", metavar="COURSE")
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option(
    "--reset-tokens", is_flag=True, help="Issue new tokens to students already enrolled too."
)
def roster_enrol(course_slug: str, roster: Path, reset_tokens: bool) -> None:
    """Enrol the students of a roster CSV; print student_id,token for each new one."""
    try:
        text = sys.stdin.read() if str(roster) == "-" else roster.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{roster}: cannot read the roster ({exc})") from None
    text = text.removeprefix("\ufeff")  # a spreadsheet's BOM, on stdin as from a file
    rows = list(read_roster(io.StringIO(text), str(roster)))
    issued: list[tuple[str, str]] = []
    kept = 0
    with get_db().session() as session:
        course = find_course(session, course_slug)
        enrolled = {
            student.student_id: student
            for student in session.scalars(select(Student).where(Student.course_id == course.id))
        }
        alike = {look_alike_key(student_id): student_id for student_id in enrolled}
        for student_id, name, email in rows:
            student = enrolled.get(student_id)
            other = alike.get(look_alike_key(student_id))
            if student is None and other is not None:
                raise BadInput(
                    f"{roster}: student_id {student_id!r} looks like {other!r}, enrolled "
                    f"already in {course_slug} (nothing was enrolled)"
                )
            if student is None:
                token = new_token()
                session.add(
                    Student(
                        course_id=course.id,
                        student_id=student_id,
                        name=name,
                        email=email,
                        token_hash=hash_token(token),
                    )
                )
                issued.append((student_id, token))
                continue
            student.name = name or student.name
            student.email = email or student.email
            if reset_tokens:
                token = new_token()
                student.token_hash = hash_token(token)
                issued.append((student_id, token))
            else:
                kept += 1
        session.commit()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(("student_id", "token"))
    out.writerows(issued)
    message = f"{len(issued)} token(s) issued for {course_slug}; hand each to its student"
    message += " (they are not shown again)"
    if kept:
        message += f"; {kept} already enrolled kept their token (--reset-tokens issues new ones)"
    click.echo(message, err=True)
