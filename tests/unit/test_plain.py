"""``grade --plain``: a report as lines a screen reader reads in order, and when it is chosen."""

from __future__ import annotations

import io
import re

import pytest

from grader.report.plain import ChangeAnnouncer, plain_lines, print_plain
from grader.report.show import Form
from submissions.dialect import CheckResult, Report
from tests.unit.test_render import HINT, folded_report, report

#: Anything a terminal would draw rather than read: escapes and rich's box characters.
DRAWN = re.compile("[\x1b\u2500-\u257f\u2580-\u259f\u2714\u2718\u280b-\u28ff]")


def text(result: Report, titles: dict[str, str] | None = None) -> str:
    out = io.StringIO()
    print_plain(out, result, titles or {})
    return out.getvalue()


def test_each_check_is_one_line_that_starts_with_its_status() -> None:
    lines = plain_lines(report(), {"task1": "Run some simple containers", "task3": "Commit"})
    assert lines == [
        "Task 1: Run some simple containers",
        "done: alpine.hostname (alpine ran hostname), 2 of 2 points",
        "not yet: mydb.running (mydb is running), 0 of 2 points: found no container named mydb",
        f"  try: {HINT}",
        "",
        "Task 3: Commit",
        "error: figlet.runs (figlet runs), 0 of 2 points: timed out",
        "",
        "Score: 2 of 6 points, 1 of 3 checks done",
        "Next step: mydb.running (mydb is running)",
        f"  {HINT}",
    ]


def test_a_check_waiting_on_another_says_so_instead_of_repeating_it() -> None:
    lines = plain_lines(folded_report(), {})
    assert "not yet: mydb.image (mydb.image), 0 of 1 points: waits on mydb.running" in lines
    assert sum("found no container named mydb" in line for line in lines) == 1
    assert lines[-2:] == ["Next step: mydb.running (mydb is running)", f"  {HINT}"]


def test_nothing_is_drawn_and_every_check_line_starts_with_a_status_word() -> None:
    shown = text(folded_report()) + text(report())
    assert DRAWN.search(shown) is None
    for line in shown.splitlines():
        if re.match(r"^\S+: [a-z]+\.[a-z]+ \(", line) and not line.startswith("Next step"):
            assert line.startswith(("done: ", "not yet: ", "error: ")), line


def test_no_next_step_when_everything_passed() -> None:
    done = Report(**{**report().__dict__, "results": report().results[:1]})
    assert not any(line.startswith("Next step") for line in plain_lines(done, {}))


def results(**statuses: str) -> Report:
    checks = tuple(
        CheckResult(
            check.replace("_", "."), "task1", check, status,  # type: ignore[arg-type]
            2 if status == "passed" else 0, 2, "" if status == "passed" else "missing",
            f"do {check}",
        )
        for check, status in statuses.items()
    )  # fmt: skip
    return Report(**{**report().__dict__, "results": checks})


def test_watching_announces_only_the_checks_that_changed() -> None:
    out = io.StringIO()
    announce = ChangeAnnouncer(out, clock=lambda: "10:00:00")
    announce(results(alpine_hostname="failed", mydb_running="failed"), {})
    first = out.getvalue()
    assert "not yet: alpine.hostname" in first and "not yet: mydb.running" in first
    assert first.endswith("Watching for your next step since 10:00:00; Ctrl-C stops and "
                          "writes the report.\n")  # fmt: skip
    out.truncate(0), out.seek(0)
    announce(results(alpine_hostname="passed", mydb_running="failed"), {})
    assert out.getvalue().splitlines() == [
        "alpine.hostname: done",
        "Next step: mydb.running (mydb_running)",
        "  do mydb_running",
    ]
    out.truncate(0), out.seek(0)
    announce(results(alpine_hostname="passed", mydb_running="failed"), {})
    assert out.getvalue() == ""  # a run that changed nothing says nothing
    announce(results(alpine_hostname="error", mydb_running="passed"), {})
    assert out.getvalue().splitlines() == [
        "alpine.hostname: error",
        "mydb.running: done",
        "Next step: alpine.hostname (alpine_hostname)",
        "  do alpine_hostname",
    ]
    out.truncate(0), out.seek(0)
    announce(results(alpine_hostname="passed", mydb_running="passed"), {})
    assert out.getvalue().splitlines() == ["alpine.hostname: done", "All checks done."]
    assert DRAWN.search(out.getvalue()) is None


class Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize(
    ("flag", "term", "terminal", "plain"),
    [
        (None, "xterm-256color", True, False),  # a terminal that draws: tables
        (None, "dumb", True, True),
        (None, "xterm-256color", False, True),  # a pipe, a file
        (True, "xterm-256color", True, True),  # --plain
        (False, "dumb", False, False),  # --no-plain
    ],
)
def test_plain_when_asked_on_a_dumb_terminal_or_with_no_terminal(
    flag: bool | None, term: str, terminal: bool, plain: bool
) -> None:
    assert Form(flag, term).plain(Stream(terminal)) is plain


def test_no_spinner_in_plain_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", Stream(terminal=True))
    monkeypatch.setattr("sys.stderr", Stream(terminal=True))
    assert Form(True).progress(as_json=False) is None
    assert Form(None, "dumb").progress(as_json=True) is None
    assert Form(None, "xterm").progress(as_json=False) is not None
