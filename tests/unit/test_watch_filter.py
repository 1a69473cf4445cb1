"""Which engine events make ``grade --watch`` grade again: a student's steps, never grading's own.

The exec events are in the shapes the engines send them: Docker names the command
(``exec_start: /bin/sh -c ...``); Podman 4.3 says only ``exec`` and ``exec_died`` (recorded
from its compat ``/events``), so grading's own execs are counted off by container.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from grader import probes
from grader.probes import EXEC_SHELL, OwnExecs
from grader.run.watch import is_students_change


def container_event(action: str, name: str = "mydb", **attributes: str) -> dict[str, Any]:
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": "c0ffee", "Attributes": {"name": name, "image": "mysql", **attributes}},
    }


@pytest.fixture(autouse=True)
def own_execs(monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnExecs]:
    """A fresh count of grading's own execs for each test."""
    fresh = OwnExecs()
    monkeypatch.setattr(probes, "OWN_EXECS", fresh)
    monkeypatch.setattr("grader.run.watch.OWN_EXECS", fresh, raising=False)
    yield fresh


def test_a_students_steps_count() -> None:
    assert is_students_change(container_event("start"))
    assert is_students_change(container_event("destroy", name="quirky_turing"))
    assert is_students_change({"Type": "image", "Action": "tag", "Actor": {"ID": "sha256:1"}})


def test_grading_throwaways_and_other_kinds_do_not() -> None:
    assert not is_students_change(container_event("start", **{probes.THROWAWAY_LABEL: "1"}))
    assert not is_students_change({"Type": "network", "Action": "connect", "Actor": {}})


def test_docker_a_students_exec_counts_gradings_own_does_not(own_execs: OwnExecs) -> None:
    students = "exec_start: mysql --user=root --version"
    assert is_students_change(container_event("exec_create: mysql --user=root --version"))
    assert is_students_change(container_event(students))
    own_execs.expect("mydb")
    assert not is_students_change(container_event(f"exec_create: {EXEC_SHELL} mysql ..."))
    assert not is_students_change(container_event(f"exec_start: {EXEC_SHELL} mysql ..."))
    assert not is_students_change(container_event("exec_die"))
    assert not own_execs.claim("mydb")  # counted off at its exec_start


def test_podman_gradings_own_exec_is_counted_off_a_students_counts(own_execs: OwnExecs) -> None:
    """Before: every Podman ``exec`` counted, so grading's own probe into mydb set off the
    next grading, every second (12 gradings in 15 s of ``grade --watch``)."""
    own_execs.expect("mydb")
    assert not is_students_change(container_event("exec"))  # grading's own
    assert not is_students_change(container_event("exec_died"))
    assert is_students_change(container_event("exec"))  # then the student's docker exec


def test_podman_an_exec_into_another_container_is_the_students(own_execs: OwnExecs) -> None:
    own_execs.expect("mydb")
    assert is_students_change(container_event("exec", name="other"))
    assert not is_students_change(container_event("exec"))


def test_an_exec_that_never_started_leaves_no_count(own_execs: OwnExecs) -> None:
    own_execs.expect("mydb")
    own_execs.cancel("mydb")
    assert is_students_change(container_event("exec"))
