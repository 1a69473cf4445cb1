"""``grade --hosts`` with its warm worker, against the suite's real lab machines over SSH: what
a host stopped at its limit leaves behind, and where the instructor's token travels.

The class's verdicts, limits, Ctrl-C and exit codes: tests/engine/test_grade_remote.py.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devlab.remote import RemoteHosts, keep_history

pytestmark = pytest.mark.engine

GRADE = [sys.executable, "-m", "grader.cli"]


def _processes() -> dict[int, bytes]:
    """Every live process's command line (its title, for an ssh master)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
    return found


class Watch:
    """Polls the process table while a class runs, remembering what matched."""

    def __init__(self, match: bytes) -> None:
        self.match = match
        self.seen: dict[int, bytes] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.is_set():
            self.seen |= {p: c for p, c in _processes().items() if self.match in c}
            time.sleep(0.02)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def run_class(
    tmp_path: Path, hosts: RemoteHosts, host: str, *options: str, env: dict[str, str] | None = None
):
    """A class of one, ``host``; what grade did and the summary's row."""
    path = tmp_path / "class.csv"
    path.write_text(f"student_id,host\ns1,{getattr(hosts, host).ssh_url()}\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ.update(NO_COLOR="1", **(env or {}))
    done = subprocess.run(
        [*GRADE, "--hosts", str(path), "--ssh-config", str(hosts.ssh_config),
         "--out", str(tmp_path / "out"), *options],
        env=environ, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    with (tmp_path / "out" / "summary.csv").open() as handle:
        return done, next(csv.DictReader(handle))


def test_a_host_stopped_at_its_limit_leaves_no_ssh_master_behind(
    remote_hosts: RemoteHosts, tmp_path: Path
) -> None:
    """ssh puts its master connection in a session of its own, out of the grader's process
    group: stopping the grader alone would leave it connected to the student's host. The
    hanging host lets it log in, then its ``docker`` never answers."""
    before = _processes()
    masters = Watch(b"[mux]")
    try:
        done, row = run_class(tmp_path, remote_hosts, "hangs", "--host-timeout", "8")
    finally:
        masters.stop()
    assert (row["status"], row["reason"]) == ("timeout", "did not finish within 8 s"), done.stderr
    ours = {p: t for p, t in masters.seen.items() if b"/gh-" in t and before.get(p) != t}
    assert ours, "the grader never had a master connection up"
    deadline = time.monotonic() + 5  # -O exit is answered just before the master ends
    while (left := {p: t for p, t in _processes().items() if ours.get(p) == t}) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert left == {}, "the stopped grader's ssh master is still connected"


def test_the_instructor_s_token_is_never_on_a_command_line(
    remote_hosts: RemoteHosts, tmp_path: Path
) -> None:
    keep_history(remote_hosts.complete)
    token = "gli_" + os.urandom(12).hex()
    seen = Watch(token.encode())
    try:
        done, row = run_class(
            tmp_path, remote_hosts, "complete", "--submit", "http://127.0.0.1:9", "--course", "c1",
            env={"GRADER_TOKEN": token, "XDG_DATA_HOME": str(tmp_path / "data")},
        )  # fmt: skip
    finally:
        seen.stop()
    assert done.returncode == 0, done.stderr  # graded; the report waits in the outbox
    assert row["status"] == "passed" and row["score"] == "28"
    assert row["reason"].startswith("not submitted") or "not submitted" in row["submitted"]
    assert seen.seen == {}
    assert token not in done.stdout + done.stderr
    waiting = list((tmp_path / "data" / "grade" / "verified" / "c1" / "s1").iterdir())
    assert len(waiting) == 1 and token not in waiting[0].read_text()  # kept, in this test's home
