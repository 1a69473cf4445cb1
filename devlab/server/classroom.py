"""An instructor's server on its embedded SQLite default, set up with the real ``grade-server``.

Shared by the demo and the end-to-end tests: create the database, a course, an
instructor and a one-student roster, then serve with gunicorn on loopback.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from devlab.server.services import Gunicorn

BIN = Path(sys.executable).parent
COURSE = "docker-101"
INSTRUCTOR = ("teacher", "demo-password-1234")


@dataclass
class Classroom:
    """A course with one enrolled student, served from ``folder``."""

    folder: Path
    student_id: str = "modelstudent"
    token: str = ""
    server: Gunicorn | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "GRADER_DATABASE_URL": f"sqlite:///{self.folder / 'grader.sqlite'}",
            "GRADER_INSTANCE_PATH": str(self.folder / "instance"),
        }

    def grade_server(self, *args: str, stdin: str | None = None, said: bool = False) -> str:
        """``grade-server *args``' output (``said``: its messages on stderr too, after it)."""
        done = subprocess.run(
            [str(BIN / "grade-server"), *args],
            env={**os.environ, **self.env}, input=stdin, capture_output=True, text=True,
            check=False, cwd=self.folder,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"grade-server {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout + done.stderr if said else done.stdout

    def set_up(self) -> Classroom:
        self.folder.mkdir(parents=True, exist_ok=True)
        roster = self.folder / "roster.csv"
        roster.write_text(f"student_id,name\n{self.student_id},Model Student\n")
        self.grade_server("db", "upgrade")
        self.grade_server("course", "create", COURSE, "Docker 101")
        tokens = self.grade_server("roster", "enrol", COURSE, str(roster))
        rows = {row["student_id"]: row["token"] for row in csv.DictReader(io.StringIO(tokens))}
        self.token = rows[self.student_id]
        self.grade_server(
            "instructor", "create", INSTRUCTOR[0], "--password-stdin", stdin=INSTRUCTOR[1] + "\n"
        )
        # An instructor sees the courses they teach (issue 20): this one teaches the class.
        self.grade_server("course", "add-instructor", COURSE, INSTRUCTOR[0])
        return self

    def serve(self) -> str:
        self.server = Gunicorn(self.env, workers=2, log=self.folder / "gunicorn.log").start()
        return self.server.url

    def grade_in_gradebook(self) -> str | None:
        """The student's grade as the gradebook exports it for Moodle (None: not listed)."""
        assert self.server is not None
        export = requests.get(
            f"{self.server.url}/gradebook/{COURSE}/export.csv",
            params={"format": "moodle"}, auth=INSTRUCTOR, timeout=10,
        )  # fmt: skip
        export.raise_for_status()
        rows = list(csv.reader(io.StringIO(export.text)))
        return next((row[-1] for row in rows[1:] if row[0] == self.student_id), None)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
