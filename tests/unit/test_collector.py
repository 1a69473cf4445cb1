"""The result collector, run end to end with pytester on small fake checks (no engine)."""

from __future__ import annotations

import pytest

from grader.run.collector import ResultCollector

pytest_plugins = ["pytester"]

CHECKS = """
import time
import pytest
from grader.run.activity import doing
from grader.run.verdict import fail

pytestmark = pytest.mark.task("task1", "Things")

@pytest.mark.check("a.passes", points=2, title="passes", hint="nothing")
def test_passes():
    pass

@pytest.mark.check("a.fails", points=3, title="fails", hint="do it")
def test_fails():
    fail("found nothing", hint="do it differently")

@pytest.mark.check("a.asserts", points=1, title="asserts", hint="assert hint")
def test_asserts():
    assert 1 == 2, "one is not two"

@pytest.mark.check("a.crashes", points=1, title="crashes", hint="h")
def test_crashes():
    with doing("reading the moon"):
        raise KeyError("moon")

@pytest.mark.check("a.hangs", points=1, title="hangs", hint="h")
def test_hangs():
    with doing("waiting for godot"):
        time.sleep(30)

def test_not_graded():
    pass
"""


def run(pytester: pytest.Pytester, *args: str, **kwargs) -> ResultCollector:  # type: ignore[no-untyped-def]
    pytester.makepyfile(test_checks=CHECKS)
    collector = ResultCollector(check_timeout=1, **kwargs)
    pytester.runpytest("--timeout=1", "--timeout-method=signal", *args,
                       plugins=[collector])  # fmt: skip
    return collector


def by_id(collector: ResultCollector):  # type: ignore[no-untyped-def]
    return {r.id: r for r in collector.results.values()}


def test_outcomes_are_sorted_into_passed_failed_and_error(pytester: pytest.Pytester) -> None:
    results = by_id(run(pytester))
    assert set(results) == {"a.passes", "a.fails", "a.asserts", "a.crashes", "a.hangs"}
    assert (results["a.passes"].status, results["a.passes"].points) == ("passed", 2)
    assert results["a.passes"].hint == ""
    fails = results["a.fails"]
    assert (fails.status, fails.points, fails.max_points) == ("failed", 0, 3)
    assert (fails.message, fails.hint) == ("found nothing", "do it differently")
    asserts = results["a.asserts"]
    assert (asserts.status, asserts.message, asserts.hint) == (
        "failed",
        "one is not two",
        "assert hint",
    )
    crashes = results["a.crashes"]
    assert crashes.status == "error"
    assert crashes.message == "could not check while reading the moon: KeyError: 'moon'"
    hangs = results["a.hangs"]
    assert (hangs.status, hangs.message) == ("error", "timed out after 1 s while waiting for godot")


def test_points_can_be_overridden(pytester: pytest.Pytester) -> None:
    results = by_id(run(pytester, points={"a.passes": 7}))
    assert results["a.passes"].points == results["a.passes"].max_points == 7


def test_unknown_task_or_check_stops_before_any_check_runs(pytester: pytest.Pytester) -> None:
    collector = run(pytester, tasks=frozenset({"task9"}))
    assert collector.problem == "unknown task 'task9' (tasks: task1)"
    assert collector.results == {}
    collector = run(pytester, points={"a.nope": 1})
    assert collector.problem == "the rubric names an unknown check 'a.nope'"


def test_checks_past_the_overall_limit_are_errors(pytester: pytest.Pytester) -> None:
    results = by_id(run(pytester, run_timeout=0))
    assert {r.status for r in results.values()} == {"error"}
    assert results["a.passes"].message.startswith("not run: grading passed its overall limit")


def test_a_malformed_marker_is_refused(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
import pytest
pytestmark = pytest.mark.task("task1", "Things")
@pytest.mark.check("NoDots", points=1, title="t", hint="h")
def test_bad():
    pass
"""
    )
    result = pytester.runpytest(plugins=[ResultCollector()])
    output = result.stdout.str() + result.stderr.str()
    assert "check id 'NoDots' must look like 'alpine.hostname'" in output


PROVING = """
import pytest
from grader import fail, prove_file

pytestmark = pytest.mark.task("task1", "Things")

@pytest.fixture
def seen():
    prove_file("fixture/file", b"from the fixture")

@pytest.mark.check("b.proves", points=1, title="proves", hint="h")
def test_proves(seen):
    prove_file("a/file", b"hello")
    prove_file("a/file", b"hello")  # the same evidence twice is kept once

@pytest.mark.check("b.nothing", points=1, title="proves nothing", hint="h")
def test_proves_nothing():
    pass

@pytest.mark.check("b.fails", points=1, title="fails after proving", hint="h")
def test_fails_after_proving():
    prove_file("b/file", b"x")
    fail("then found something wrong")
"""


def test_a_passed_check_carries_what_it_proved_and_only_that(pytester: pytest.Pytester) -> None:
    import hashlib

    pytester.makepyfile(test_proving=PROVING)
    collector = ResultCollector()
    pytester.runpytest(plugins=[collector])
    results = by_id(collector)
    proved = results["b.proves"].evidence
    assert [(e.kind, e.name) for e in proved] == [("file", "fixture/file"), ("file", "a/file")]
    assert proved[1].id == hashlib.sha256(b"hello").hexdigest()
    assert results["b.nothing"].evidence == ()  # the previous check's proof does not leak
    assert results["b.fails"].status == "failed" and results["b.fails"].evidence == ()


WAITING = """
import pytest
from grader import fail

pytestmark = pytest.mark.task("task1", "Things")

@pytest.fixture
def mydb():
    fail("found no container named mydb", hint="docker run --name mydb")

@pytest.mark.check("c.running", points=1, title="running", hint="docker run --name mydb")
def test_running(mydb):
    pass

@pytest.mark.check("c.image", points=1, title="image", hint="docker rm -f mydb && docker run")
def test_image(mydb):
    pass

@pytest.mark.check("c.own", points=1, title="a problem of its own", hint="docker run --name mydb")
def test_own():
    fail("something else", hint="docker run --name mydb")

@pytest.mark.check("c.after", points=1, title="after", hint="docker run --name mydb")
def test_after(mydb):
    pass
"""


def test_a_check_whose_precondition_failed_waits_on_the_first_that_failed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_waiting=WAITING)
    collector = ResultCollector()
    pytester.runpytest(plugins=[collector])
    results = by_id(collector)
    assert {cid: r.status for cid, r in results.items()} == dict.fromkeys(results, "failed")
    assert results["c.running"].waits_on == ""  # the first: it is the problem
    assert results["c.after"].waits_on == "c.running"  # same precondition, same command
    assert results["c.image"].waits_on == "c.running"  # the fixture's hint, not the marker's
    assert results["c.own"].waits_on == ""  # a failure of its own never folds
