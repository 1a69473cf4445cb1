"""The main job, end to end on one machine: the lab done, graded, submitted, in the gradebook.

1. a Docker engine with stand-in images (no registry is reachable here);
2. ``grade start`` checks the machine, then the model student types the lab's commands
   (STEPS.md), verbatim;
3. ``grade`` shows the student's results, task by task;
4. the instructor's server, on its embedded SQLite default, receives the report
   through ``grade --submit`` and its gradebook shows the score;
5. the instructor's term in a few commands: the course's assignments, an extension with its
   note, a rubric change's preview, and the course's Canvas file (one column per assignment);
6. the class board: progress turned on, the student's ``grade --watch --submit`` shares its
   checks, and the board's JSON shows them (the page: ``--serve``).

    .venv/bin/python -m devlab.demo [--serve]

It resets the lab's containers and images on the engine: run it on a test machine.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import docker
import requests

from devlab.engine import ensure_engine
from devlab.host import reset_lab
from devlab.model_student import ModelStudent
from devlab.server.classroom import COURSE, INSTRUCTOR, Classroom
from devlab.standins.build import ensure_standins

#: The course's one assignment: ``course create`` makes it, of the server's lab.
ASSIGNMENT = "docker_beginners"


def say(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The lab, graded and submitted, end to end.")
    parser.add_argument("--serve", action="store_true", help="keep the gradebook up afterwards")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="grade-demo-"))

    say("a Docker engine with stand-ins for alpine, ubuntu, nginx and mysql")
    ensure_engine()
    client = docker.from_env()
    ensure_standins(client)

    say("the model student does the lab, typing the commands of STEPS.md")
    student = ModelStudent(work / "home")
    student.home.mkdir(parents=True)
    reset_lab(client)
    grade = str(Path(sys.executable).parent / "grade")
    env = {**os.environ, **student.env, "XDG_DATA_HOME": str(work / "data")}
    say("first the student checks the machine: grade start")
    started = subprocess.run([grade, "start"], env=env, cwd=student.home, check=False)
    print(f"   grade start exited with {started.returncode}")
    student.do_the_lab()
    for command in student.typed:
        print(f"   $ {command}")

    say("the instructor's server on its embedded default (SQLite), served by gunicorn")
    classroom = Classroom(work / "server").set_up()
    url = classroom.serve()
    print(f"   {url}  (course {COURSE}, student {classroom.student_id} enrolled)")

    try:
        say(f"the student runs: grade --submit {url}")
        env["GRADER_TOKEN"] = classroom.token
        graded = subprocess.run([grade, "--submit", url], env=env, cwd=student.home, check=False)
        print(f"   grade exited with {graded.returncode}")

        say("the instructor's gradebook")
        page = requests.get(f"{url}/gradebook/{COURSE}", auth=INSTRUCTOR, timeout=10)
        recorded = classroom.grade_in_gradebook()
        print(f"   GET /gradebook/{COURSE}: HTTP {page.status_code}")
        print(f"   its Moodle export: {classroom.student_id} has {recorded} points")

        say("the instructor's term: assignments, an extension, a rescore preview, Canvas")
        for words in instructor_term(classroom.student_id):
            print(f"   $ grade-server {' '.join(words)}")
            shown = classroom.grade_server(*words, said=True).rstrip()
            print("\n".join(f"     {line}" for line in shown.splitlines()))
        say("the class board: progress on, the student's grade --watch --submit shares it")
        board = show_the_board(classroom, [grade, "--watch", "--plain", "--submit", url], env,
                               student.home, url)  # fmt: skip
        if args.serve:
            say(
                f"gradebook at {url}/gradebook/ "
                f"(login {INSTRUCTOR[0]} / {INSTRUCTOR[1]}); Ctrl-C stops"
            )
            while True:
                time.sleep(3600)
        done = graded.returncode == 0 and page.ok and recorded == "28" and board
        return 0 if done else 1
    except KeyboardInterrupt:
        return 0
    finally:
        classroom.stop()


def show_the_board(
    classroom: Classroom, watch: list[str], env: dict[str, str], home: Path, url: str
) -> bool:
    """Turn the assignment's board on, let ``grade --watch --submit`` share one run, and
    print what the board's JSON says of the student; True once it showed them all done."""
    for words in (("assignment", "set", COURSE, ASSIGNMENT, "--progress", "on"),):
        print(f"   $ grade-server {' '.join(words)}")
        classroom.grade_server(*words)
    print(f"   $ {' '.join(['grade', *watch[1:]])}   (until Ctrl-C)")
    watching = subprocess.Popen(watch, env=env, cwd=home, stdout=subprocess.DEVNULL)
    data_url = f"{url}/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/board"
    shown: dict[str, Any] = {}
    try:
        for _ in range(120):  # the first run's progress, within a few seconds
            shown = requests.get(data_url, auth=INSTRUCTOR, timeout=10).json()
            if any(student["changed_at"] for student in shown.get("students", [])):
                break  # the roster is on the board from the start; this one has shared
            time.sleep(0.5)
    finally:
        watching.send_signal(signal.SIGINT)
        watching.wait(timeout=30)
    checks = len(shown.get("checks", []))
    for student in shown.get("students", []):
        print(f"   board: {student['id']}: {student['passed']} of {checks} checks passed")
    stuck, problems = len(shown.get("stuck", [])), len(shown.get("problems", []))
    print(f"   stuck: {stuck}, common problems now: {problems}")
    print(f"   the page: {url}/gradebook/{COURSE}/a/{ASSIGNMENT}/board")
    return any(student["passed"] == checks for student in shown.get("students", []))


def instructor_term(student_id: str) -> list[tuple[str, ...]]:
    """What an instructor types over a term, shown on the demo's class (see docs/server.md)."""
    assignment = (COURSE, ASSIGNMENT)
    closes = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    return [
        ("assignment", "list", COURSE),
        ("assignment", "set", *assignment, "--closes", closes, "--late-policy",
         "penalty:grace=15m,per-day=10%,floor=50%"),
        ("assignment", "extend", *assignment, student_id, "--days", "2", "--note",
         "a doctor's note", "--by", INSTRUCTOR[0]),
        ("assignment", "show", *assignment),
        ("assignment", "rescore", *assignment),
        ("grades", "export", COURSE, "--format", "canvas"),
    ]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
