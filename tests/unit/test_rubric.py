"""The server's shipped rubric is the checks' own: same ids, points and titles, current digest."""

from __future__ import annotations

import json

from grader import __version__
from grader.run.labs import load_lab
from grader.run.rubric import RUBRIC_FILE, rubric_document
from submissions.rubric import load_rubric


def test_the_shipped_rubric_matches_the_checks() -> None:
    shipped = json.loads(RUBRIC_FILE.read_text())
    generated = rubric_document(load_lab(), previous=shipped)
    assert shipped == generated, "the checks changed: run python -m grader.run.rubric --write"


def test_the_server_reads_it_and_trusts_this_grader() -> None:
    rubric = load_rubric()
    assert len(rubric) == 17 and rubric.max_score == 28
    assert __version__ in rubric.known_versions
    assert rubric.tasks == ("task1", "task2", "task3", "task4")


def test_a_rubric_stored_as_json_reads_back_with_its_known_files() -> None:
    """An assignment's rubric is stored as :meth:`Rubric.to_json`: the hashes of the files
    the lab gives must survive it, or no stored rubric could flag an unknown file."""
    from submissions.rubric import rubric_from_json

    shipped = load_rubric()
    assert shipped.known_files
    again = rubric_from_json(shipped.to_json())
    assert again == shipped
    assert again.known_files == shipped.known_files
