"""The model student does the whole lab with STEPS.md's commands; grade gives full marks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.engine


def test_a_completed_lab_gets_full_marks(completed_lab, grade) -> None:
    graded = grade("--json")
    assert graded.exit_code == 0, graded.stdout + graded.stderr
    assert graded.failing == set()
    assert graded.doc["score"] == graded.doc["max_score"] == 28
    assert len(graded.doc["checks"]) == 17
