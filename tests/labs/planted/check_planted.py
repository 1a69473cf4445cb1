"""The planted lab's checks: one right, one wrong (it passes on any machine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from grader import Lab, fail

pytestmark = pytest.mark.task("task1", "Plant a file")


@pytest.mark.check("planted.file", points=1, title="~/planted.txt exists", hint="echo > ~/x")
def test_the_file_exists(lab: Lab[Any]) -> None:
    if not (Path.home() / "planted.txt").is_file():
        fail("found no ~/planted.txt")


@pytest.mark.check("planted.always", points=1, title="passes always", hint="nothing to do")
def test_always(lab: Lab[Any]) -> None:
    """Wrong on purpose: it proves nothing."""
