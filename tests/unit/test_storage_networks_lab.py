"""The storage and networks lab, as the grader sees it without an engine: installed beside the
Docker lab (which stays the default), its rubric current, its proof consistent with its checks."""

from __future__ import annotations

import json
from collections import Counter

from grader.run.labs import load_lab
from grader.run.rubric import RUBRIC_FILE, rubric_document, rubric_file
from grader.run.runner import collect_checks
from submissions.rubric import rubric_from_json


def test_it_is_installed_and_the_docker_lab_stays_the_default() -> None:
    assert load_lab().name == "docker_beginners"
    lab = load_lab("storage_networks")
    assert lab.title == "Docker storage and networks"
    assert rubric_file(lab) == lab.checks / "rubric.json" != RUBRIC_FILE


def test_its_rubric_beside_its_checks_is_current() -> None:
    lab = load_lab("storage_networks")
    kept = json.loads(rubric_file(lab).read_text())
    assert kept == rubric_document(lab, previous=kept), (
        "the checks changed: run python -m grader.run.rubric --lab storage_networks --write"
    )
    rubric = rubric_from_json(rubric_file(lab).read_text(), source="storage_networks")
    assert (len(rubric), rubric.max_score) == (9, 17)
    assert rubric.tasks == ("task1", "task2", "task3", "task4")


def test_every_check_has_a_hint_and_a_spoiler_and_no_two_spoilers_fail_alike() -> None:
    lab = load_lab("storage_networks")
    checks = {spec.id: spec for spec in collect_checks(lab)}
    assert all(spec.hint for spec in checks.values())
    spoiled = {name for spoiler in lab.spoilers for name in spoiler.fails}
    assert spoiled == set(checks)  # each declared failure is a real check, each check spoiled
    own = Counter(frozenset(spoiler.fails) for spoiler in lab.spoilers)
    assert max(own.values()) == 1
    assert {task.id for task in lab.tasks} == {spec.task for spec in checks.values()}
    assert lab.preflight.ports == (8080,)
    assert set(lab.cleanup.volumes) == {"notes"} and set(lab.cleanup.networks) == {"labnet"}
