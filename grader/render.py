"""Shows a report to people (tables) and to programs (JSON), from the same value objects."""

from __future__ import annotations

import json
from itertools import groupby

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from submissions.dialect import CheckResult, Report
from submissions.writer import evidence_json

STATUS_LABEL = {
    "passed": ("done", "green"),
    "failed": ("not yet", "red"),
    "error": ("error", "yellow"),
}
STATUS_MARK = {"passed": "✔", "failed": "✘", "error": "!"}


def as_json(report: Report) -> str:
    """The stable ``--json`` document other tools read."""
    return json.dumps(
        {
            "lab": report.lab,
            "score": report.score,
            "max_score": report.max_score,
            "checks": [
                {
                    "id": r.id,
                    "task": r.task,
                    "title": r.title,
                    "status": r.status,
                    "points": r.points,
                    "max_points": r.max_points,
                    "message": r.message,
                    "hint": r.hint,
                    "evidence": [json.loads(evidence_json(e)) for e in r.evidence],
                }
                for r in report.results
            ],
            "engine": {
                "id": report.engine_id,
                "name": report.engine_name,
                "version": report.engine_version,
            },
        },
        indent=2,
    )


def _task_heading(task: str, title: str) -> str:
    name = task.replace("task", "Task ", 1) if task.startswith("task") else task
    return f"{name}: {title}" if title else name


def print_report(console: Console, report: Report, task_titles: dict[str, str]) -> None:
    """A table per task, then what was found and the command to try for each check not done."""
    for task, grouped in groupby(report.results, key=lambda r: r.task):
        results = list(grouped)
        table = Table(
            title=_task_heading(task, task_titles.get(task, "")),
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
        )
        table.add_column("Check", no_wrap=True)
        table.add_column("What", overflow="fold")
        table.add_column("Result", no_wrap=True)
        table.add_column("Points", justify="right", no_wrap=True)
        for result in results:
            label, style = STATUS_LABEL[result.status]
            table.add_row(
                result.id,
                result.title,
                Text(f"{STATUS_MARK[result.status]} {label}", style=style),
                f"{result.points}/{result.max_points}",
            )
        console.print(table)
        for result in results:
            if not result.passed:
                _print_next_step(console, result)
    done = sum(r.passed for r in report.results)
    console.print(
        f"[bold]Score: {report.score}/{report.max_score}[/bold]  "
        f"({done} of {len(report.results)} checks done)"
    )


def _print_next_step(console: Console, result: CheckResult) -> None:
    _label, style = STATUS_LABEL[result.status]
    line = Text(f"  {STATUS_MARK[result.status]} {result.id}: ", style=style)
    line.append(result.message, style="")
    console.print(line)
    if result.hint:
        # soft_wrap: a command must stay on one line to be copied and pasted as it is
        console.print(
            Text("      try: ", style="dim") + Text(result.hint, style="bold"), soft_wrap=True
        )
    console.print()
