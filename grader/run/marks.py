"""The grading markers, validated strictly: ``task`` on a module, ``check`` on each test.

pytestmark = pytest.mark.task("task1", "Run some simple containers")

@pytest.mark.check("alpine.hostname", points=2, title="...", hint="docker container run ...")
def test_alpine_ran_hostname(lab): ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
TASK_ID = re.compile(r"^[a-z][a-z0-9_]*$")

MARKER_HELP = [
    "task(id, title): the lab task the checks of a module belong to",
    "check(id, *, points, title, hint): a graded check, its points and the command to try",
]


@dataclass(frozen=True)
class TaskSpec:
    id: str
    title: str


@dataclass(frozen=True)
class CheckSpec:
    """A check's rubric entry, as its marker declares it."""

    id: str
    task: str
    task_title: str
    title: str
    points: int
    hint: str


class MarkerError(ValueError):
    """A grading marker is malformed; the message names the test."""


def task_of(item: pytest.Item) -> TaskSpec:
    marker = item.get_closest_marker("task")
    if marker is None or len(marker.args) != 2 or marker.kwargs:
        raise MarkerError(f"{item.nodeid}: needs pytest.mark.task(id, title) on its module")
    task_id, title = marker.args
    if not isinstance(task_id, str) or not TASK_ID.match(task_id) or not isinstance(title, str):
        raise MarkerError(f"{item.nodeid}: task id must look like 'task1', title a string")
    return TaskSpec(task_id, title)


def check_of(item: pytest.Item) -> CheckSpec | None:
    """The check a test declares, or None for a test that is not graded."""
    marker = item.get_closest_marker("check")
    if marker is None:
        return None
    if len(marker.args) != 1 or set(marker.kwargs) != {"points", "title", "hint"}:
        raise MarkerError(f"{item.nodeid}: use pytest.mark.check(id, *, points, title, hint)")
    (check_id,) = marker.args
    points, title, hint = marker.kwargs["points"], marker.kwargs["title"], marker.kwargs["hint"]
    if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
        raise MarkerError(f"{item.nodeid}: check id {check_id!r} must look like 'alpine.hostname'")
    if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= 100:
        raise MarkerError(f"{item.nodeid}: points must be a whole number from 0 to 100")
    if not isinstance(title, str) or not title or not isinstance(hint, str):
        raise MarkerError(f"{item.nodeid}: title must be a non-empty string, hint a string")
    task = task_of(item)
    return CheckSpec(check_id, task.id, task.title, title, points, hint)
