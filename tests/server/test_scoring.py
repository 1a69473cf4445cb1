"""The server scores from its own rubric; claims and unknowns are kept but flagged."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from devlab.server.reports import DIGEST, VERSION, make_report, report_xml
from submissions.dialect import CheckResult
from submissions.reader import read_report
from submissions.rubric import Rubric, RubricError, load_rubric, shipped_rubric
from submissions.scoring import score_report


@pytest.fixture
def rubric() -> Rubric:
    base = shipped_rubric()
    return dataclasses.replace(
        base, known_digests=frozenset({DIGEST}), known_versions=frozenset({VERSION})
    )


def test_the_shipped_rubric_has_the_17_checks() -> None:
    rubric = shipped_rubric()
    assert len(rubric) == 17
    assert rubric.max_score == 28
    assert rubric["tweet.dockerfile"].points == 3
    assert rubric.tasks == ("task1", "task2", "task3", "task4")


def test_full_marks_and_nothing_flagged(rubric: Rubric) -> None:
    score = score_report(read_report(report_xml()), rubric)
    assert (score.score, score.max_score, score.flagged) == (28, 28, False)


def test_failed_checks_earn_nothing(rubric: Rubric) -> None:
    score = score_report(read_report(report_xml(failing=("tweet.dockerfile",))), rubric)
    assert score.score == 25


def test_a_partial_run_scores_out_of_the_whole_rubric(rubric: Rubric) -> None:
    report = make_report()
    task1 = tuple(r for r in report.results if r.task == "task1")
    score = score_report(read_report(report_xml(make_report(results=task1))), rubric)
    assert (score.score, score.max_score) == (9, 28)


def test_stated_rubric_points_do_not_count(rubric: Rubric) -> None:
    report = make_report()
    inflated = tuple(dataclasses.replace(r, points=100, max_points=100) for r in report.results)
    score = score_report(read_report(report_xml(make_report(results=inflated))), rubric)
    assert score.score == 28


def test_unknown_digest_version_and_checks_are_kept_but_flagged(rubric: Rubric) -> None:
    extra = CheckResult("bonus.check", "task9", "bonus", "passed", 5, 5)
    report = make_report(checks_digest="sha256:edited", grader_version="9.9")
    report = dataclasses.replace(report, results=(*report.results, extra))
    score = score_report(read_report(report_xml(report)), rubric)
    assert score.score == 28
    assert "unknown checks digest 'sha256:edited'" in score.flag_reason
    assert "unknown grader version '9.9'" in score.flag_reason
    assert "checks not in the rubric: bonus.check" in score.flag_reason


def test_an_instructor_rubric_file(tmp_path: Path) -> None:
    path = tmp_path / "rubric.json"
    path.write_text(json.dumps({"lab": "l", "checks": [{"id": "a", "task": "t", "points": 4}]}))
    assert load_rubric(path).max_score == 4
    path.write_text(json.dumps({"lab": "l", "checks": [{"id": "a", "task": "t", "points": -1}]}))
    with pytest.raises(RubricError, match="points must be an integer"):
        load_rubric(path)
