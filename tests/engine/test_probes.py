"""Probes on the real engine: without the student's own finished runs, throwaway containers
answer (named by grade, so the hostname needs no inspect) and are gone afterwards."""

from __future__ import annotations

import pytest

from devlab.host import snapshot
from tests.engine.spoil import assert_only, remove_containers

pytestmark = pytest.mark.engine


def test_without_the_students_runs_throwaways_answer_and_go(completed_lab, engine, grade) -> None:
    finished = [
        c["Id"]
        for c in engine.api.containers(all=True)
        if c["Image"] in ("hello:v0.1", "ourfiglet") and c["State"] == "exited"
    ]
    assert len(finished) == 2  # steps 3.4 and 4.2
    remove_containers(engine, finished)
    try:
        before = snapshot(engine)
        graded = grade("--json", "task3", "task4")
        assert_only(graded, set())  # hello.runs: "hello from <the throwaway's hostname>"
        assert snapshot(engine) == before
    finally:
        completed_lab.step_3_4()
        completed_lab.step_4_2()
