"""Per-check time limits where SIGALRM does not exist (Windows), run here without it.

``signal.SIGALRM`` is removed for the test, so the runner can only stop a check
with its watchdog; pytester runs small fake checks through the result collector,
as ``grade`` does.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from grader.run import runner
from grader.run.collector import ResultCollector

pytest_plugins = ["pytester"]

CHECKS = """
import subprocess
import sys
import time
import pytest
from grader.run.activity import doing
from grader.run.verdict import fail

pytestmark = pytest.mark.task("task1", "Things")

@pytest.fixture
def answer():
    return 42

@pytest.mark.check("a.passes", points=2, title="passes", hint="nothing")
def test_passes(answer):
    assert answer == 42  # fixtures still reach the check

@pytest.mark.check("a.fails", points=3, title="fails", hint="do it")
def test_fails():
    fail("found nothing", hint="do it differently")

@pytest.mark.check("a.crashes", points=1, title="crashes", hint="h")
def test_crashes():
    with doing("reading the moon"):
        raise KeyError("moon")

@pytest.mark.check("a.sleeps", points=1, title="sleeps", hint="h")
def test_sleeps():
    with doing("waiting for godot"):
        time.sleep(6)

@pytest.mark.check("a.spins", points=1, title="spins", hint="h")
def test_spins():
    end = time.monotonic() + 6
    while time.monotonic() < end:
        pass

@pytest.mark.check("a.blocks", points=1, title="blocks", hint="h")
def test_blocks():
    with doing("running a hung command"):  # as a hung docker exec: blocked in a system call
        subprocess.run([sys.executable, "-c", "import time; time.sleep(6)"])
"""


@pytest.fixture
def no_sigalrm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(signal, "SIGALRM")


def grade(pytester: pytest.Pytester) -> tuple[dict[str, object], float]:
    pytester.makepyfile(test_checks=CHECKS)
    collector = ResultCollector(check_timeout=1)
    args = runner._pytest_args(Path(pytester.path), collect_only=False, check_timeout=1)
    options = [arg for arg in args[3:] if not arg.startswith("--rootdir")]  # here, not /lab
    started = time.monotonic()
    pytester.runpytest(
        *options, plugins=[*runner.grading_plugins(), collector, *runner.time_limit_plugins(1)]
    )
    return {r.id: r for r in collector.results.values()}, time.monotonic() - started


@pytest.mark.skipif(sys.platform == "win32", reason="removes SIGALRM where it exists")
def test_without_sigalrm_the_watchdog_stops_each_check_at_its_limit(
    pytester: pytest.Pytester, no_sigalrm: None
) -> None:
    assert not hasattr(signal, "SIGALRM")
    args = runner._pytest_args(Path("/lab"), collect_only=False, check_timeout=1)
    assert not any(arg.startswith("--timeout") for arg in args)  # pytest-timeout cannot help
    results, took = grade(pytester)
    assert took < 8, f"three 6 s checks took {took:.1f} s: not stopped at 1 s"
    sleeps, spins, blocks = results["a.sleeps"], results["a.spins"], results["a.blocks"]
    assert (sleeps.status, sleeps.message) == (
        "error",
        "timed out after 1 s while waiting for godot",
    )
    assert (spins.status, spins.message) == ("error", "timed out after 1 s")
    assert (blocks.status, blocks.message) == (
        "error",
        "timed out after 1 s while running a hung command",
    )
    # what finishes in time is judged as before, on the watchdog's thread
    assert (results["a.passes"].status, results["a.passes"].points) == ("passed", 2)
    assert (results["a.fails"].status, results["a.fails"].message) == ("failed", "found nothing")
    assert results["a.fails"].hint == "do it differently"
    crashes = results["a.crashes"]
    assert (crashes.status, crashes.message) == (
        "error",
        "could not check while reading the moon: KeyError: 'moon'",
    )


def test_with_sigalrm_pytest_timeouts_signal_method_is_kept() -> None:
    if not hasattr(signal, "SIGALRM"):
        pytest.skip("this platform has no SIGALRM")
    args = runner._pytest_args(Path("/lab"), collect_only=False, check_timeout=7)
    assert "--timeout=7" in args and "--timeout-method=signal" in args
    assert runner.time_limit_plugins(7) == []
