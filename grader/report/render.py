"""Shows a report to people: a table per task, what was found, the next step (rich).

Programs get the same report as JSON from :mod:`grader.report.report_json`, which needs no rich.
"""

from __future__ import annotations

from itertools import groupby

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from grader.i18n import _, message
from grader.report.plain import engine_line, status_word, task_heading
from submissions.dialect import CheckResult, Report

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "yellow"}
STATUS_MARK = {"passed": "✔", "failed": "✘", "error": "!"}


def print_report(console: Console, report: Report, task_titles: dict[str, str]) -> None:
    """A table per task, what was found and the command to try, then the one next step."""
    console.print(report_view(report, task_titles), soft_wrap=True)


def report_view(report: Report, task_titles: dict[str, str]) -> Group:
    """The whole report for people, as one renderable (``grade --watch`` redraws it live).

    A check that fails only because an earlier check of its task did (no container
    named mydb: five mydb checks) is folded into one line under that check.
    """
    parts: list[RenderableType] = []
    if engine := engine_line(report):
        parts.append(Text(engine, style="dim"))
    waiting: dict[str, list[str]] = {}
    for result in report.results:
        if result.waits_on:
            waiting.setdefault(result.waits_on, []).append(result.id)
    for task, grouped in groupby(report.results, key=lambda r: r.task):
        results = list(grouped)
        parts.append(_task_table(task, task_titles.get(task, ""), results))
        for result in results:
            if not result.passed and not result.waits_on:
                parts += _problem(result, waiting.get(result.id, []))
    done = sum(r.passed for r in report.results)
    score = _("Score: {score}/{max_score}").format(score=report.score, max_score=report.max_score)
    checks = _("({done} of {checks} checks done)").format(done=done, checks=len(report.results))
    parts.append(Text(score, style="bold") + Text(f"  {checks}"))
    parts += _next_step(report)
    return Group(*parts)


def _task_table(task: str, title: str, results: list[CheckResult]) -> Table:
    table = Table(
        title=task_heading(task, title),
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
    )
    table.add_column(_("Check"), no_wrap=True)
    table.add_column(_("What"), overflow="fold")
    table.add_column(_("Result"), no_wrap=True)
    table.add_column(_("Points"), justify="right", no_wrap=True)
    for result in results:
        table.add_row(
            result.id,
            _(result.title),
            Text(
                f"{STATUS_MARK[result.status]} {status_word(result.status)}",
                style=STATUS_STYLE[result.status],
            ),
            f"{result.points}/{result.max_points}",
        )
    return table


def _problem(result: CheckResult, waiting: list[str]) -> list[RenderableType]:
    """What was found, the command to try (on one line, to copy), and who waits on it."""
    style = STATUS_STYLE[result.status]
    line = Text(f"  {STATUS_MARK[result.status]} {result.id}: ", style=style)
    line.append(message(result.message), style="")
    lines: list[RenderableType] = [line]
    if result.hint:
        lines.append(_command("      " + _("try:") + " ", result.hint))
    if waiting:
        also = _("also waiting on this: {checks}").format(checks=", ".join(waiting))
        lines.append(Text(f"      {also}", style="dim"))
    lines.append(Text(""))
    return lines


def _next_step(report: Report) -> list[RenderableType]:
    """The first unfinished step in lab order, and its command."""
    todo = next((r for r in report.results if not r.passed and not r.waits_on), None)
    if todo is None:
        return []
    heading = Text(_("Next step:"), style="bold") + Text(f" {todo.id} ({_(todo.title)})")
    return [heading, _command("  ", todo.hint)] if todo.hint else [heading]


def _command(prefix: str, command: str) -> Text:
    # a command must stay on one line to be copied and pasted as it is (soft_wrap)
    return Text(prefix, style="dim") + Text(command, style="bold")
