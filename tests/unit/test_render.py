"""How a report is shown: the stable JSON document and the tables for people."""

from __future__ import annotations

import io
import json

from rich.console import Console

from grader.report.render import print_report
from grader.report.report_json import as_json
from submissions.dialect import CheckResult, Report

HINT = "docker container run --detach --name mydb -e MYSQL_ROOT_PASSWORD=my-secret-pw mysql:latest"


def report() -> Report:
    return Report(
        lab="docker_beginners",
        grader_version="1.0",
        checks_digest="sha256:0",
        report_id="r1",
        created="2026-11-28T10:00:00+00:00",
        engine_id="E",
        results=(
            CheckResult("alpine.hostname", "task1", "alpine ran hostname", "passed", 2, 2),
            CheckResult(
                "mydb.running", "task1", "mydb is running", "failed", 0, 2,
                "found no container named mydb", HINT,
            ),
            CheckResult("figlet.runs", "task3", "figlet runs", "error", 0, 2, "timed out"),
        ),
    )  # fmt: skip


def test_the_json_document_keeps_its_shape() -> None:
    doc = json.loads(as_json(report()))
    assert list(doc) == ["lab", "score", "max_score", "checks", "engine"]  # new keys go last
    assert (doc["score"], doc["max_score"]) == (2, 6)
    assert list(doc["checks"][1]) == [
        "id", "task", "title", "status", "points", "max_points", "message", "hint", "evidence",
        "waits_on",
    ]  # fmt: skip
    assert list(doc["engine"]) == ["id", "name", "version", "context", "endpoint"]
    assert [c["status"] for c in doc["checks"]] == ["passed", "failed", "error"]


def test_the_tables_say_what_was_found_and_what_to_type() -> None:
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)
    print_report(console, report(), {"task1": "Run some simple containers", "task3": "Commit"})
    text = out.getvalue()
    assert "Task 1: Run some simple containers" in text
    assert "Task 3: Commit" in text
    assert "✘ mydb.running: found no container named mydb" in text
    assert f"try: {HINT}" in text  # one line, whatever the width: it must paste as it is
    assert "! figlet.runs: timed out" in text
    assert "Score: 2/6  (1 of 3 checks done)" in text


def folded_report() -> Report:
    """A fresh host's task 1: no mydb, so every mydb check waits on the first one."""
    missing = "found no container named mydb"

    def waiting(check_id: str, on: str = "mydb.running") -> CheckResult:
        return CheckResult(check_id, "task1", check_id, "failed", 0, 1, missing, HINT, waits_on=on)

    return Report(
        lab="docker_beginners", grader_version="1.0", checks_digest="sha256:0", report_id="r1",
        created="2026-11-28T10:00:00+00:00", engine_id="E",
        results=(
            CheckResult("alpine.hostname", "task1", "alpine ran hostname", "passed", 2, 2),
            CheckResult("mydb.running", "task1", "mydb is running", "failed", 0, 2, missing, HINT),
            waiting("mydb.image"), waiting("mydb.password"),
            CheckResult("figlet.image", "task3", "image tagged ourfiglet", "failed", 0, 1,
                        "found no image tagged ourfiglet", "docker container commit ..."),
        ),
    )  # fmt: skip


def test_checks_waiting_on_an_earlier_one_fold_under_it() -> None:
    out = io.StringIO()
    print_report(Console(file=out, width=80, color_system=None), folded_report(), {})
    text = out.getvalue()
    assert text.count("found no container named mydb") == 1
    assert "also waiting on this: mydb.image, mydb.password" in text
    assert "✘ mydb.image:" not in text
    assert "✘ figlet.image: found no image tagged ourfiglet" in text
    assert "mydb.image" in text.split("✘ mydb.running:")[0]  # still a row of the table


def test_the_output_ends_with_the_one_next_step() -> None:
    out = io.StringIO()
    print_report(Console(file=out, width=80, color_system=None), folded_report(), {})
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert lines[-2] == "Next step: mydb.running (mydb is running)"
    assert lines[-1] == f"  {HINT}"


def test_no_next_step_when_everything_passed() -> None:
    done = folded_report()
    done = Report(**{**done.__dict__, "results": done.results[:1]})
    out = io.StringIO()
    print_report(Console(file=out, width=80, color_system=None), done, {})
    assert "Next step" not in out.getvalue()
