"""A passing check may say something (step 1.2 "seen on <date>" from memory): the note is
its message, and only its own."""

from __future__ import annotations

import pytest

from grader.run.collector import ResultCollector

pytest_plugins = ["pytester"]

NOTING = """
import pytest
from grader import Lab, fail

pytestmark = pytest.mark.task("task1", "Things")
lab = Lab.__new__(Lab)  # no engine: note() needs none

@pytest.mark.check("n.noted", points=1, title="noted", hint="h")
def test_noted():
    lab.note("seen on 2026-12-01 by an earlier grade")
    lab.note("seen on 2026-12-01 by an earlier grade")  # said once

@pytest.mark.check("n.silent", points=1, title="silent", hint="h")
def test_silent():
    pass

@pytest.mark.check("n.fails", points=1, title="fails", hint="h")
def test_fails():
    lab.note("seen on 2026-12-01")
    fail("found something wrong")
"""


def test_a_passed_check_s_message_is_what_it_noted(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_noting=NOTING)
    collector = ResultCollector()
    pytester.runpytest("-p", "no:randomly", plugins=[collector])
    results = {result.id: result for result in collector.results.values()}
    assert results["n.noted"].status == "passed"
    assert results["n.noted"].message == "seen on 2026-12-01 by an earlier grade"
    assert results["n.silent"].message == ""  # the previous check's note does not leak
    assert results["n.fails"].status == "failed"
    assert results["n.fails"].message == "found something wrong"
