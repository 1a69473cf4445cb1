"""``grade-server assignment``: create, list, show, rubric; each refusal one line, its exit
code, nothing changed. The tiny lab (``tests/labs/tiny``) is installed as a course's own lab
package would be: a distribution with an entry point in ``docker_lab_grader.labs``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from devlab.server.enrolment import Classroom
from submissions.rubric import shipped_rubric
from webhook.cli.errors import EXIT_BAD_INPUT, EXIT_BAD_VALUE, EXIT_EXISTS, EXIT_NOT_FOUND
from webhook.storage.db import make_engine
from webhook.storage.models import Assignment, AssignmentRubric

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "site" / "tiny_lab-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-lab\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[docker_lab_grader.labs]\ntiny = tests.labs.tiny:LAB\n")
    monkeypatch.syspath_prepend(str(dist.parent))


def rows(url: str) -> tuple[list[tuple[object, ...]], int]:
    """Every assignment (slug, lab, title, policy) and the number of rubric versions."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            made = connection.execute(
                select(
                    Assignment.slug, Assignment.lab, Assignment.title, Assignment.grade_policy
                ).order_by(Assignment.id)
            ).all()
            versions = connection.scalar(select(func.count()).select_from(AssignmentRubric))
            return [tuple(row) for row in made], int(versions or 0)
    finally:
        engine.dispose()


def refused(runner: FlaskCliRunner, args: list[str], code: int, said: str) -> None:
    result = runner.invoke(args=args)
    assert result.exit_code == code, result.output
    assert said in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_create_list_and_show_an_assignment_of_an_installed_lab(
    runner: FlaskCliRunner, classroom: Classroom, tiny_installed: None
) -> None:
    made = runner.invoke(
        args=[
            "assignment",
            "create",
            "docker-101",
            "motd",
            "--lab",
            "tiny",
            "--title",
            "MOTD",
            "--opens",
            "2026-12-01T09:00",
            "--closes",
            "2026-12-08T09:00",
            "--grade-policy",
            "self",
        ]
    )
    assert made.exit_code == 0, made.output
    assert "created assignment docker-101/motd: lab tiny, 'MOTD'" in made.output
    assert rows(classroom.url) == (
        [("docker_beginners", "docker_beginners", "Docker 101 lab", "verified-else-self"),
         ("motd", "tiny", "MOTD", "self")],
        2,
    )  # fmt: skip
    listed = runner.invoke(args=["assignment", "list", "docker-101"])
    assert listed.exit_code == 0
    assert [line.split("\t")[0] for line in listed.output.splitlines()] == [
        "docker_beginners", "motd",
    ]  # fmt: skip
    shown = runner.invoke(args=["assignment", "show", "docker-101", "motd"])
    assert shown.exit_code == 0
    assert "closes 2026-12-08 09:00:00 UTC" in shown.output
    assert "rubric v1" in shown.output


def test_bad_input_is_one_line_with_its_code_and_changes_nothing(
    runner: FlaskCliRunner, classroom: Classroom, tiny_installed: None
) -> None:
    before = rows(classroom.url)
    create = ["assignment", "create", "docker-101"]
    refused(runner, [*create, "x", "--lab", "nosuchlab"], EXIT_NOT_FOUND,
            "no lab 'nosuchlab' is installed "
            "(installed: docker_beginners, storage_networks, tiny)")  # fmt: skip
    refused(runner, [*create, "x", "--lab", "tiny", "--opens", "2026-12-08", "--closes",
                     "2026-12-01"], EXIT_BAD_VALUE, "the assignment would close")  # fmt: skip
    refused(runner, [*create, "docker_beginners", "--lab", "tiny"], EXIT_EXISTS,
            "already has an assignment 'docker_beginners'")  # fmt: skip
    refused(runner, ["assignment", "create", "nocourse", "x", "--lab", "tiny"], EXIT_NOT_FOUND,
            "no course 'nocourse'")  # fmt: skip
    refused(runner, [*create, "x", "--lab", "tiny", "--grade-policy", "best"], EXIT_BAD_VALUE,
            "--grade-policy 'best' must be one of")  # fmt: skip
    refused(runner, ["assignment", "show", "docker-101", "nope"], EXIT_NOT_FOUND,
            "course docker-101 has no assignment 'nope'")  # fmt: skip
    assert rows(classroom.url) == before


def test_a_rubric_change_is_a_new_version_and_one_for_other_checks_is_refused(
    runner: FlaskCliRunner, classroom: Classroom, tmp_path: Path
) -> None:
    document = shipped_rubric().to_dict()
    document["checks"][0]["points"] += 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document))
    document["checks"][0]["id"] = "invented.check"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(document))
    rubric = ["assignment", "rubric", "docker-101", "docker_beginners"]
    refused(runner, [*rubric, str(other)], EXIT_BAD_INPUT,
            "does not match lab docker_beginners's checks")  # fmt: skip
    refused(runner, [*rubric, str(tmp_path / "none.json")], EXIT_BAD_INPUT, "cannot read")
    assert rows(classroom.url)[1] == 1
    same = runner.invoke(args=rubric)  # the lab's shipped rubric: the one it has
    assert same.exit_code == 0 and "unchanged" in same.output
    new = runner.invoke(args=[*rubric, str(changed)])
    assert new.exit_code == 0, new.output
    assert "rubric v2 (17 checks, 29 points)" in new.output
    back = runner.invoke(args=rubric)
    assert back.exit_code == 0 and "rubric v3 (17 checks, 28 points)" in back.output
    shown = runner.invoke(args=["assignment", "show", "docker-101", "docker_beginners"])
    assert [line.split("\t")[0] for line in shown.output.splitlines()[1:]] == [
        "rubric v1", "rubric v2", "rubric v3",
    ]  # fmt: skip
