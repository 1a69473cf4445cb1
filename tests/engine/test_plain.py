"""``grade --plain`` on the real engine: a fresh host's report as recorded, nothing drawn, and
``--watch`` saying only what changed."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devlab.host import flood_events
from devlab.model_student import DOCKERID, ModelStudent
from tests.engine.conftest import run_grade

pytestmark = pytest.mark.engine

#: The recording; ``GRADE_RECORD=1`` writes it anew from this run (then read the diff).
EXPECTED = Path(__file__).with_name("expected") / "plain_fresh_host.txt"
#: What a terminal draws rather than reads: escapes, box drawing, rich's marks and spinner.
DRAWN = re.compile("[\x1b\u2500-\u257f\u2580-\u259f\u2714\u2718\u2800-\u28ff]")
#: As a student's coloured terminal would have it: rich would draw and colour here.
COLOURFUL = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "80"}


def normalised(stdout: str, home: Path) -> str:
    """The engine line names this machine's engine and version, paths the test's home, and
    the event history when it starts."""
    text = re.sub(r"^Engine: .*$", "Engine: <engine>", stdout, count=1, flags=re.M)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time> UTC", text)
    return text.replace(str(home), "<home>")


def test_plain_output_on_a_fresh_host_is_as_recorded_and_draws_nothing(
    fresh_host, tmp_path: Path
) -> None:
    flood_events(fresh_host)
    plain = run_grade("--plain", home=tmp_path, env=COLOURFUL)
    assert plain.exit_code == 1
    assert DRAWN.search(plain.stdout + plain.stderr) is None
    shown = normalised(plain.stdout, tmp_path)
    if os.environ.get("GRADE_RECORD"):
        EXPECTED.write_text(shown, encoding="utf-8")
    assert shown == EXPECTED.read_text(encoding="utf-8")
    for line in shown.splitlines():  # each check's line starts with its status
        if re.search(r"\), \d+ of \d+ points", line):
            assert line.startswith(("done: ", "not yet: ", "error: ")), line
    # Piped with no option, grade chooses the plain form itself; --no-plain draws tables.
    piped = run_grade(home=tmp_path, env=COLOURFUL)
    assert normalised(piped.stdout, tmp_path) == shown
    tables = run_grade("--no-plain", home=tmp_path, env=COLOURFUL)
    assert tables.exit_code == 1 and DRAWN.search(tables.stdout) is not None


def test_watching_in_plain_form_announces_only_what_changed(
    fresh_host, student_home: Path, tmp_path: Path
) -> None:
    flood_events(fresh_host)  # the hostname run of an earlier lab must not count
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # grade's own memory of events, fresh too: an earlier test's grade in the same home
    # remembered its ubuntu -it run (the fresh host would show it done)
    env.update(HOME=str(student_home), DOCKERID=DOCKERID, XDG_DATA_HOME=str(tmp_path), **COLOURFUL)
    with subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "--watch", "--plain", "task1"],
        env=env, cwd=student_home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as watch:  # fmt: skip
        lines: queue.Queue[str | None] = queue.Queue()

        def follow() -> None:
            for line in watch.stdout:  # type: ignore[union-attr]
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=follow, daemon=True).start()

        def read_until(prefix: str, timeout: float = 30) -> list[str]:
            seen: list[str] = []
            deadline = time.monotonic() + timeout
            while not (seen and seen[-1].startswith(prefix)):
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                assert line is not None, f"grade --watch ended: {seen}"
                seen.append(line)
            return seen

        try:
            first = read_until("Watching for your next step since ")
            assert "not yet: alpine.hostname (alpine ran hostname and exited), 0 of 2 points" in (
                "\n".join(first)
            )
            ModelStudent(student_home).step_1_1()
            changes = read_until("alpine.hostname: done")
            time.sleep(3)  # a few quiet seconds: nothing more is said
        finally:
            watch.send_signal(signal.SIGINT)
            watch.wait(timeout=60)
            stderr = watch.stderr.read()  # type: ignore[union-attr]
        after = [line for line in iter(lambda: lines.get(timeout=10), None) if line is not None]
    assert watch.returncode == 1, stderr  # task 1 is not done
    assert changes == ["alpine.hostname: done"]
    assert after[:2] == [
        "Next step: ubuntu.interactive (ubuntu ran with -it --rm)",
        "  docker container run --interactive --tty --rm ubuntu bash   (then: exit)",
    ]
    report = after[2:]  # at Ctrl-C, the whole report once more, in plain form
    assert report[0].startswith("Engine: ")
    assert "done: alpine.hostname (alpine ran hostname and exited), 2 of 2 points" in report
    assert DRAWN.search("\n".join(first + after) + stderr) is None
