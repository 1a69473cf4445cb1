"""The board's pure logic: what a progress document may say, how messages are grouped."""

from __future__ import annotations

import json

import pytest

from webhook.board.document import MAX_MESSAGE, BadProgress, parse
from webhook.board.problems import group, pattern


def _doc(**fields: object) -> bytes:
    return json.dumps({"lab": "lab", "checks": [], **fields}).encode()


def test_a_document_is_taken_with_its_failing_messages_only() -> None:
    checks = [
        {"id": "a", "status": "passed", "message": "ignored"},
        {"id": "b", "status": "failed", "message": "line one\nline two"},
    ]
    parsed = parse(_doc(checks=checks, assignment="lab1"))
    assert parsed.assignment == "lab1"
    assert [(c.id, c.status, c.message) for c in parsed.checks] == [
        ("a", "passed", ""),
        ("b", "failed", "line one"),
    ]
    (cut,) = parse(_doc(checks=[{"id": "c", "status": "error", "message": "y" * 999}])).checks
    assert len(cut.message) == MAX_MESSAGE


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'\xff{"lab": "x"}',
        _doc(lab=""),
        _doc(lab="x" * 101),
        _doc(checks={"a": 1}),
        _doc(checks=[{"id": "a"}]),
        _doc(checks=[{"id": "a", "status": "failed", "message": 3}]),
        _doc(checks=[{"id": "a\tb", "status": "passed"}]),
        _doc(checks=[{"id": f"c{n}", "status": "passed"} for n in range(101)]),
        _doc(assignment=7),
        b" " * (16 * 1024 + 1),
    ],
)
def test_anything_else_is_refused_with_one_line(body: bytes) -> None:
    with pytest.raises(BadProgress) as refused:
        parse(body)
    assert "\n" not in str(refused.value)


def test_messages_that_differ_only_in_ids_numbers_and_names_are_one_problem() -> None:
    assert pattern("container 3f2a9c1b7d0e exited with code 137") == pattern(
        "container a81c00ff2b3d exited with code 1"
    )
    assert pattern("image 'ann/web:1.0' not found") == pattern("image 'bob/site:2' not found")
    assert pattern("no file /home/ann/Dockerfile") == "no file <path>"
    assert pattern("port 8080 is closed") != pattern("image 'x' not found")
    found = group([("ann", "c", "port 1 closed"), ("bob", "c", "port 2 closed"),
                   ("cy", "d", "port 1 closed"), ("di", "c", "other")])  # fmt: skip
    assert [(p.check, p.count, p.students) for p in found] == [
        ("c", 2, ["ann", "bob"]), ("c", 1, ["di"]), ("d", 1, ["cy"])
    ]  # fmt: skip
