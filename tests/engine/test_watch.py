"""``grade --watch`` while the model student does the whole lab: each step ticks off in time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devlab.host import flood_events
from devlab.model_student import DOCKERID, ModelStudent
from tests.engine.conftest import LabState

pytestmark = pytest.mark.engine

#: How long after its step a check may take to turn passed (the issue's promise).
WITHIN = 2.0
#: The checks each step of the lab completes, in the order the student does them.
STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("step_1_1", ("alpine.hostname",)),
    ("step_1_2", ("ubuntu.interactive",)),
    ("step_1_3", ("mydb.running", "mydb.image", "mydb.password", "mydb.detached")),
    ("step_1_4_to_1_6", ("mydb.version",)),  # docker exec mydb mysql --version: mysql is up
    ("clone_tweet_app", ("tweet.dockerfile",)),
    ("step_2_2", ("tweet.image",)),
    ("step_2_3", ("tweet.published", "tweet.serves")),
    ("figlet", ("figlet.image", "figlet.committed", "figlet.runs")),
    ("hello", ("hello.dockerfile", "hello.image", "hello.runs")),
]


def take_step(student: ModelStudent, step: str) -> None:
    """Type one of :data:`STEPS`' steps (two of them are a pair of the model student's)."""
    if step == "figlet":
        student.step_3_3(student.step_3_1())
    elif step == "hello":
        student.write_hello()
        student.step_4_1()
    else:
        getattr(student, step)()


class WatchOutput:
    """The JSON lines of ``grade --watch --json``: when each check was first seen passed."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.first_passed: dict[str, float] = {}
        self.lines = 0
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            doc = json.loads(line)
            self.lines += 1
            for check, status in doc["checks"].items():
                if status == "passed":
                    self.first_passed.setdefault(check, doc["at"])

    def wait_for(self, checks: tuple[str, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not set(checks) <= set(self.first_passed):
            time.sleep(0.05)


def test_every_check_turns_passed_within_2_s_of_its_step(
    fresh_host, student_home: Path, tmp_path: Path
) -> None:
    flood_events(fresh_host)  # the --rm run of an earlier lab must not count
    student = ModelStudent(student_home)
    for folder in (student.tweet_app, student.hello_dir):  # files of an earlier lab go too
        shutil.rmtree(folder, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # grade's own memory of events, fresh too: an earlier test's grade in the same home
    # remembered its ubuntu -it run (the fresh host would show it done)
    env.update(HOME=str(student_home), DOCKERID=DOCKERID, NO_COLOR="1")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    report = tmp_path / "watch.xml"
    watch = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "--watch", "--json", "--junit", str(report)],
        env=env,
        cwd=student_home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output = WatchOutput(watch.stdout)
    try:
        deadline = time.monotonic() + 30
        while output.lines == 0 and time.monotonic() < deadline:  # the first, empty, checklist
            time.sleep(0.1)
        assert output.lines == 1 and output.first_passed == {}
        done_at: dict[str, float] = {}
        for step, checks in STEPS:
            take_step(student, step)
            done_at.update(dict.fromkeys(checks, time.time()))
            output.wait_for(checks, WITHIN + 3)
        delays = {
            c: round(output.first_passed.get(c, float("inf")) - t, 2) for c, t in done_at.items()
        }
        print(f"\nseconds from step to passed: {delays}")
        late = {check: delay for check, delay in delays.items() if delay > WITHIN}
        assert late == {}, delays
    finally:
        watch.send_signal(signal.SIGINT)
        _, stderr = watch.communicate(timeout=60)
    LabState.student, LabState.complete = student, True  # the lab is done: no need to redo it
    assert watch.returncode == 0, stderr
    assert report.is_file() and 'name="dialect_version"' in report.read_text()
