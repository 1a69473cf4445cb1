"""The zygote behind ``grade --hosts``: what each forked grader gets, how it ends, how it is
stopped. A stand-in ``grade`` (below) keeps these fast; the last tests fork the real one.
Grading real hosts with it: tests/engine/test_grade_remote.py and test_class_run.py."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader import __version__
from grader.batch.pool import GraderPool
from grader.batch.worker import parse_request

#: A worker whose graders run this stand-in for ``grade``: ARGV[0] says what to do.
STAND_IN = """
import os, subprocess, sys, time
from grader.batch import worker

def grade(argv):
    what, _, arg = argv[0].partition(" ")
    if what == "exit":
        print("out", flush=True)
        print("err", file=sys.stderr, flush=True)
        return int(arg)
    if what == "env":
        print(repr(os.environ.get(arg)))
        return 0
    if what == "ids":
        print(os.getpid(), os.getpgid(0), os.getsid(0), os.getppid())
        return 0
    if what == "sleep":  # with a child of its own, as grade has its ssh
        child = subprocess.Popen(["sleep", arg])
        print(child.pid, flush=True)
        time.sleep(float(arg))
        return 0
    if what == "raise":
        raise RuntimeError("a bug in grade")
    return 99

sys.exit(worker.main([], grade=grade))
"""


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[GraderPool]:
    workers = GraderPool(None, log=tmp_path / "log", command=[sys.executable, "-c", STAND_IN])
    yield workers
    workers.close()


def graded(pool: GraderPool, tmp_path: Path, argv: str, env: dict[str, str] | None = None):
    """Start one stand-in grader and wait for it: (exit, stdout, stderr, its grader)."""
    name = f"g{len(list(tmp_path.iterdir()))}"
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    grader = pool.start(name, [argv], env or {"PATH": os.environ["PATH"]}, out, err)
    assert grader.wait(30), "the grader did not end"
    return grader.exit, out.read_text(), err.read_text(), grader


@pytest.mark.parametrize("code", [0, 1, 2, 3, 130])
def test_a_grader_s_exit_status_and_output_come_back(
    pool: GraderPool, tmp_path: Path, code: int
) -> None:
    exit_code, out, err, _ = graded(pool, tmp_path, f"exit {code}")
    assert (exit_code, out, err) == (code, "out\n", "err\n")


def test_a_grader_sees_the_request_s_environment_only(pool: GraderPool, tmp_path: Path) -> None:
    os.environ["GRADE_TEST_WORKER_ONLY"] = "leak"  # the worker inherits it at start...
    try:
        fresh = GraderPool(None, command=[sys.executable, "-c", STAND_IN])
        try:
            token = {"PATH": os.environ["PATH"], "GRADER_TOKEN": "gli_secret"}
            assert graded(fresh, tmp_path, "env GRADER_TOKEN", token)[1] == "'gli_secret'\n"
            assert graded(fresh, tmp_path, "env GRADE_TEST_WORKER_ONLY")[1] == "None\n"
        finally:
            fresh.close()
    finally:
        del os.environ["GRADE_TEST_WORKER_ONLY"]  # ...but a grader gets the request's


def test_each_grader_is_a_fork_of_the_worker_in_a_session_of_its_own(
    pool: GraderPool, tmp_path: Path
) -> None:
    first = graded(pool, tmp_path, "ids")
    second = graded(pool, tmp_path, "ids")
    pid, pgid, sid, parent = map(int, first[1].split())
    assert pid == pgid == sid == first[3].pid  # Ctrl-C at the terminal never reaches it
    assert parent == int(second[1].split()[3]) != os.getpid()  # both forked by the worker


def test_stopping_a_grader_stops_what_it_started(pool: GraderPool, tmp_path: Path) -> None:
    out = tmp_path / "sleep.out"
    grader = pool.start("sleeper", ["sleep 60"], {"PATH": os.environ["PATH"]}, out, out)
    child = int(_first_line(out))
    assert not grader.wait(0.2)
    started = time.monotonic()
    grader.stop()
    assert grader.ended.is_set() and grader.exit == -signal.SIGTERM
    assert time.monotonic() - started < 5
    assert _gone(child), "the grader's own child outlived it"


def test_a_grader_that_raises_says_so_and_exits_1(pool: GraderPool, tmp_path: Path) -> None:
    exit_code, _, err, _ = graded(pool, tmp_path, "raise")
    assert exit_code == 1
    assert "RuntimeError: a bug in grade" in err


def test_when_the_worker_dies_its_graders_end_unknown_and_stopped(
    pool: GraderPool, tmp_path: Path
) -> None:
    out = tmp_path / "sleep.out"
    grader = pool.start("sleeper", ["sleep 60"], {"PATH": os.environ["PATH"]}, out, out)
    _first_line(out)
    os.kill(pool._process.pid, signal.SIGKILL)
    assert grader.wait(10)
    assert grader.exit is None
    assert grader.pid is not None and _gone(grader.pid)
    late = pool.start("late", ["exit 0"], {}, tmp_path / "late", tmp_path / "late")
    assert late.wait(1) and late.exit is None  # refused at once, not left waiting


@pytest.mark.parametrize(
    "line",
    [
        b"[]",
        b'{"id": "a", "argv": [], "env": {}, "stdout": "o"}',
        b'{"id": "a", "argv": "--json", "env": {}, "stdout": "o", "stderr": "e"}',
        b'{"id": "a", "argv": [], "env": {"X": 1}, "stdout": "o", "stderr": "e"}',
        b'{"id": "a", "argv": [], "env": {}, "stdout": "o", "stderr": "e", "more": 1}',
    ],
)
def test_a_malformed_request_is_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        parse_request(line)


def test_a_request_as_the_pool_writes_it() -> None:
    line = json.dumps(
        {"id": "s1", "argv": ["--json"], "env": {"A": "b"}, "stdout": "o", "stderr": "e"}
    )
    assert parse_request(line.encode())["argv"] == ["--json"]


# -- the real grade, warm -----------------------------------------------------------


def test_the_real_grade_forked_warm(tmp_path: Path) -> None:
    workers = GraderPool(None, log=tmp_path / "log")
    try:
        env = dict(os.environ)
        version = graded(workers, tmp_path, "--version", env)
        assert version[0] == 0 and __version__ in version[1]
        started = time.monotonic()
        bad = graded(workers, tmp_path, "--lab=no-such-lab", env)
        assert time.monotonic() - started < 2  # a fork: no imports, no pytest start-up
    finally:
        workers.close()
    assert bad[0] == 2
    assert bad[2].startswith("grade: no lab 'no-such-lab' is installed") and bad[2].count("\n") == 1


def _gone(pid: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def _first_line(path: Path, timeout: float = 30) -> str:
    """The first line a grader wrote to ``path``, once it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and (text := path.read_text()).endswith("\n"):
            return text.splitlines()[0]
        time.sleep(0.05)
    raise AssertionError(f"nothing in {path} after {timeout:g} s")
