"""Shows a report as plain lines, for a screen reader, a dumb terminal or a pipe (``--plain``).

The same report as :mod:`grader.report.render`'s tables, read in order: no box drawing,
no colour, no spinner; each check is one line that starts with its status as a word
("done", "not yet", "error"), and the command to try stays alone on its own line, to
copy as it is. ``grade --watch`` in this form says only what changed
(:class:`ChangeAnnouncer`). Needs no rich.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import TextIO

from grader.i18n import N_, _, message
from grader.targets.engine_choice import PROP_ENGINE_CONTEXT, PROP_ENGINE_ENDPOINT
from submissions.dialect import CheckResult, Report

STATUS_WORD = {"passed": N_("done"), "failed": N_("not yet"), "error": N_("error")}


def status_word(status: str) -> str:
    return _(STATUS_WORD[status])


def task_heading(task: str, title: str) -> str:
    """``task1`` and its title as a person reads it: ``Task 1: Run some simple containers``."""
    name = _("Task {number}").format(number=task[4:]) if task.startswith("task") else task
    return f"{name}: {_(title)}" if title else name


def engine_line(report: Report) -> str:
    """The run's header: which engine was graded, so a student can tell it is theirs.

    ``Engine: unix:///var/run/docker.sock (context default), 20.10.24 on lab-07``
    """
    endpoint = report.extra_properties.get(PROP_ENGINE_ENDPOINT)
    if not endpoint:
        return ""
    context = report.extra_properties.get(PROP_ENGINE_CONTEXT)
    line = _("Engine: {endpoint} (context {context})").format(endpoint=endpoint, context=context)
    if report.engine_version and report.engine_name:
        line += ", " + _("{version} on {host}").format(
            version=report.engine_version, host=report.engine_name
        )
    elif report.engine_version:
        line += f", {report.engine_version}"
    return line


def plain_lines(report: Report, task_titles: Mapping[str, str]) -> list[str]:
    """The whole report, a line each: the engine, each task's checks in order, the score
    and the one next step. A check that only waits on an earlier one says so instead of
    repeating that one's message."""
    lines: list[str] = []
    if engine := engine_line(report):
        lines += [engine, ""]
    for task, grouped in groupby(report.results, key=lambda r: r.task):
        lines.append(task_heading(task, task_titles.get(task, "")))
        for result in grouped:
            lines += check_lines(result)
        lines.append("")
    lines.append(score_line(report))
    lines += next_step_lines(report)
    return lines


def check_lines(result: CheckResult) -> list[str]:
    """``not yet: mydb.running (mydb is running), 0 of 2 points: found no container ...``
    and, when there is one, the command to try on the next line."""
    line = f"{status_word(result.status)}: " + _(
        "{check} ({title}), {points} of {max_points} points"
    ).format(
        check=result.id, title=_(result.title), points=result.points, max_points=result.max_points
    )
    if result.passed:
        return [line]
    if result.waits_on:
        return [f"{line}: " + _("waits on {check}").format(check=result.waits_on)]
    lines = [f"{line}: {message(result.message)}" if result.message else line]
    if result.hint:
        lines.append("  " + _("try:") + f" {result.hint}")  # the command itself stays as it is
    return lines


def score_line(report: Report) -> str:
    done = sum(r.passed for r in report.results)
    return _("Score: {score} of {max_score} points, {done} of {checks} checks done").format(
        score=report.score, max_score=report.max_score, done=done, checks=len(report.results)
    )


def next_step_lines(report: Report) -> list[str]:
    """The first unfinished step in lab order, and its command on a line of its own."""
    todo = next((r for r in report.results if not r.passed and not r.waits_on), None)
    if todo is None:
        return []
    heading = _("Next step: {check} ({title})").format(check=todo.id, title=_(todo.title))
    return [heading, f"  {todo.hint}"] if todo.hint else [heading]


def print_plain(out: TextIO, report: Report, task_titles: Mapping[str, str]) -> None:
    out.write("".join(f"{line}\n" for line in plain_lines(report, task_titles)))
    out.flush()


@dataclass
class ChangeAnnouncer:
    """``grade --watch --plain``: the whole report once, then only what changed.

    Each later grading run adds a line per check whose status changed
    (``mydb.running: done``) and, when the next step changed with them, the new one; a
    run that changed nothing says nothing, so a screen reader is never made to read the
    checklist again.
    """

    out: TextIO
    clock: Callable[[], str] = field(default=lambda: time.strftime("%H:%M:%S"))
    _last: dict[str, str] | None = None
    _next: list[str] = field(default_factory=list)

    def __call__(self, report: Report, task_titles: Mapping[str, str]) -> None:
        statuses: dict[str, str] = {r.id: r.status for r in report.results}
        upcoming = next_step_lines(report)
        if self._last is None:
            lines = plain_lines(report, task_titles)
            lines.append(watching_line(self.clock()))
        else:
            lines = [
                f"{check}: {status_word(status)}"
                for check, status in statuses.items()
                if self._last.get(check) != status
            ]
            if lines and upcoming != self._next:
                lines += upcoming or [_("All checks done.")]
        self._last, self._next = statuses, upcoming
        self.out.write("".join(f"{line}\n" for line in lines))
        self.out.flush()


def watching_line(since: str) -> str:
    return _(
        "Watching for your next step since {time}; Ctrl-C stops and writes the report."
    ).format(time=since)
