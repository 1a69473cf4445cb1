"""``grade``: grade the Docker lab on this machine's Docker engine.

A thin shell over :func:`grader.runner.grade_lab`: it parses options, shows
progress and results, writes the JUnit report, and maps every failure to one
line and a fixed exit code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from grader import __version__, render
from grader.errors import GradingError
from grader.runner import grade_lab
from grader.settings import resolve_settings
from grader.submit import default_outbox, submit_report
from submissions.dialect import CheckResult, Report
from submissions.writer import to_junit_xml

if TYPE_CHECKING:
    from grader.marks import CheckSpec

EXIT_ALL_PASSED = 0
EXIT_SOME_FAILED = 1
EXIT_CANNOT_GRADE = 2
EXIT_NOT_SUBMITTED = 3
EXIT_INTERRUPTED = 130


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("tasks", nargs=-1, metavar="[TASK]...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
@click.option("--junit", metavar="PATH", help="Write the JUnit XML report to PATH.")
@click.option("--dockerid", metavar="NAME", help="Your Docker ID [default: $DOCKERID].")
@click.option(
    "--tweet-app", metavar="DIR", help="The linux_tweet_app folder [default: ~/linux_tweet_app]."
)
@click.option("--hello-dir", metavar="DIR", help="The folder hello:v0.1 was built from.")
@click.option(
    "--rubric", metavar="FILE", help="A TOML file whose [points] override the checks' points."
)
@click.option("--submit", metavar="URL", help="Send the report to your instructor's server.")
@click.option("--token", metavar="TOKEN", help="Your token for --submit [default: $GRADER_TOKEN].")
@click.version_option(__version__, prog_name="grade")
def grade(
    tasks: tuple[str, ...],
    as_json: bool,
    junit: str | None,
    dockerid: str | None,
    tweet_app: str | None,
    hello_dir: str | None,
    rubric: str | None,
    submit: str | None,
    token: str | None,
) -> int:
    """Check the Docker lab on this machine, task by task (TASK: task1 ... task4; default all).

    Exit status: 0 all checks passed, 1 some did not, 2 grading could not run,
    3 graded but not submitted (the report waits and goes out with the next --submit).
    """
    token = token or os.environ.get("GRADER_TOKEN")
    if submit and not token:
        raise click.UsageError("--submit needs your token: --token TOKEN or $GRADER_TOKEN")
    settings = resolve_settings(
        cli={
            "dockerid": dockerid,
            "tweet_app": tweet_app,
            "hello_dir": hello_dir,
            "rubric": rubric,
        },
        environ=os.environ,
        cwd=Path.cwd(),
        home=Path.home(),
    )
    console = Console(stderr=as_json)
    task_titles: dict[str, str] = {}
    done: list[str] = []

    def on_result(spec: CheckSpec, result: CheckResult) -> None:
        task_titles[spec.task] = spec.task_title
        done.append(spec.id)
        status.update(f"Grading... {len(done)} checks done ({spec.id})")

    with console.status("Grading...", spinner="dots") as status:
        report = grade_lab(
            settings=settings,
            environ=os.environ,
            tasks=frozenset(tasks) if tasks else None,
            on_result=on_result,
        )
    if junit:
        _write_report(Path(junit), report)
    if report.grading_error:
        raise GradingError(report.grading_error)
    if as_json:
        click.echo(render.as_json(report))
    else:
        render.print_report(console, report, task_titles)
    if submit and token:
        outcome = submit_report(
            to_junit_xml(report).encode("utf-8"), url=submit, token=token, outbox=default_outbox()
        )
        click.echo(f"grade: {outcome.message}", err=as_json or not outcome.ok)
        if not outcome.ok:
            return EXIT_NOT_SUBMITTED
    return EXIT_ALL_PASSED if all(r.passed for r in report.results) else EXIT_SOME_FAILED


def _write_report(path: Path, report: Report) -> None:
    try:
        path.write_text(to_junit_xml(report), encoding="utf-8")
    except OSError as exc:
        raise GradingError(f"cannot write the report to {path}: {exc.strerror}") from None


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: one line on stderr and a fixed exit code for every failure."""
    try:
        return int(grade.main(args=argv, prog_name="grade", standalone_mode=False) or 0)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.UsageError as exc:
        click.echo(f"grade: {exc.format_message()} (see grade --help)", err=True)
        return EXIT_CANNOT_GRADE
    except GradingError as exc:
        click.echo(f"grade: {exc}", err=True)
        return exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo("grade: interrupted", err=True)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
