"""``grade lab selftest [NAME] -H ENGINE``: run a lab's proof on an engine the author names,
print the matrix (checks x scenarios), write JUnit; exit 0 only when all is as declared.

It removes the lab's objects from that engine, so the default engine is refused unless
the author says ``--on-this-engine``. The solution is typed in a home of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from grader.errors import GradingError
from grader.labtools.declared import Objects
from grader.labtools.disks import LocalDisk
from grader.labtools.exits import EXIT_NOT_CONFIRMED
from grader.labtools.objects import find, remove
from grader.labtools.selftest import CLEAN, Scenario, SelfTest, findings
from grader.labtools.shell import Shell
from grader.run.labs import LabSpec, load_lab
from grader.run.runner import collect_checks
from grader.settings import fields_of
from grader.targets.target import TargetOptions

EXIT_PROVED, EXIT_NOT_AS_DECLARED = 0, 1
#: The value the self-test gives each setting the lab needs (``$DOCKERID``).
SELFTEST_VALUE = "selftest"
#: Tag-untag pairs that push a Docker engine's 256 remembered events out.
FLOOD_EVENTS = 150


@click.group("lab", context_settings={"help_option_names": ["-h", "--help"]})
def lab_group() -> None:
    """Tools for lab authors."""


@lab_group.command("selftest")
@click.argument("name", required=False)
@click.option("-H", "--host", metavar="URL", help="The engine to prove the lab on.")
@click.option("--context", metavar="NAME", help="The engine of that Docker context.")
@click.option("--on-this-engine", is_flag=True, help="Use the default engine (its lab objects go).")
@click.option("--junit", metavar="PATH", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--spoiler", "spoilers", multiple=True, metavar="NAME", help="Only these spoilers.")
def selftest_command(
    name: str | None,
    host: str | None,
    context: str | None,
    on_this_engine: bool,
    junit: Path | None,
    spoilers: tuple[str, ...],
) -> int:
    """Prove lab NAME: a fresh host fails every check, the solution passes every one, each
    spoiler fails exactly its declared checks, and the lab is left clean.

    Exit status: 0 proved, 1 not as declared (each difference named), 2 could not run,
    5 refused: no engine named (-H, --context) and no --on-this-engine."""
    if not (host or context or on_this_engine):
        click.echo(
            "grade lab selftest: it removes the lab's objects from its engine: name one "
            "(-H URL or --context NAME), or say --on-this-engine",
            err=True,
        )
        return EXIT_NOT_CONFIRMED
    lab = load_lab(name)
    unknown = set(spoilers) - {s.name for s in lab.spoilers}
    if unknown:
        raise click.UsageError(f"no spoiler {sorted(unknown)[0]!r} in lab {lab.name}")
    where = TargetOptions(host=host, context=context)
    if where.over_ssh:
        raise GradingError("grade lab selftest over ssh:// is not there yet: use tcp://, a unix "
                           "socket or a context of an engine on this machine")  # fmt: skip
    target, unreachable = where.open(os.environ, where.engine(os.environ))
    if target is None:
        raise GradingError(unreachable)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grade-selftest-") as scratch:
        try:
            scenarios, left, checks = _run(lab, target.docker(), Path(scratch), host, context,
                                           spoilers or None)  # fmt: skip
        finally:
            target.close()
    elapsed = time.monotonic() - started
    problems = findings(list(checks), scenarios, left, every=not spoilers)
    _print_matrix(lab, list(checks), scenarios, left)
    if junit is not None:
        _write_junit(junit, lab, scenarios, problems)
    for line in problems:
        click.echo(f"not as declared: {line}")
    verdict = "proved" if not problems else f"{len(problems)} not as declared"
    click.echo(f"{lab.name}: {verdict} ({len(scenarios)} scenarios, {elapsed:.0f} s)")
    return EXIT_PROVED if not problems else EXIT_NOT_AS_DECLARED


Outcome = tuple[list[Scenario], list[str], dict[str, str]]


def _run(lab: LabSpec, client: Any, scratch: Path, host: str | None, context: str | None,
         only: tuple[str, ...] | None) -> Outcome:  # fmt: skip
    home = scratch / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV"))}
    env.update(HOME=str(home), NO_COLOR="1", TERM="xterm")
    env.setdefault("DOCKER_CONFIG", str(Path.home() / ".docker"))
    if host:
        env["DOCKER_HOST"] = host
        env.pop("DOCKER_CONTEXT", None)
    if context:
        env["DOCKER_CONTEXT"] = context
        env.pop("DOCKER_HOST", None)
    for field in fields_of(lab.settings):
        if field.name in lab.preflight.settings and field.info.env:
            env[field.info.env] = SELFTEST_VALUE
    shell = Shell(home, env)
    disk = LocalDisk(home)
    checks = {spec.id: spec.task for spec in collect_checks(lab)}
    runs = iter(range(1_000_000))

    def grade() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
        data = scratch / f"data-{next(runs)}"  # each run remembers no events of another
        where = ["-H", host] if host else ["--context", context] if context else []
        done = subprocess.run(
            [sys.executable, "-m", "grader.cli", "--lab", lab.name, "--json", *where],
            env={**env, "XDG_DATA_HOME": str(data)}, cwd=home, capture_output=True, text=True,
            timeout=900, check=False,
        )  # fmt: skip
        if done.returncode not in (0, 1):
            raise GradingError(
                done.stderr.strip().splitlines()[-1] if done.stderr else "grade failed"
            )
        doc = json.loads(done.stdout)
        failing = [c for c in doc["checks"] if c["status"] != "passed"]
        messages = {c["id"]: c.get("message") or "" for c in failing}
        hints = {c["id"]: c.get("hint") or "" for c in failing}
        return frozenset(messages), messages, hints

    def remove_objects(objects: Objects) -> None:
        found = find(client, objects, variables=env, disk=disk)
        problems = remove(client, found, disk)
        if problems:
            raise GradingError(f"cannot remove the lab's objects: {problems[0]}")

    def events_since(since: float) -> int:
        return len(list(client.api.events(since=f"{since:.9f}", until=f"{time.time():.9f}")))

    def forget_events() -> None:
        """Push the engine's short event history out (Docker keeps its last 256): tag and
        untag one image, as the engine tests' fresh host does."""
        image = next((i["Id"] for i in client.api.images()), None)
        for _ in range(FLOOD_EVENTS if image else 0):
            client.api.tag(image, "grade-selftest-flood", "x")
            client.api.remove_image("grade-selftest-flood:x")

    def reset(task_id: str) -> None:
        task = lab.task(task_id)
        if task is not None:
            remove_objects(task.objects)

    test = SelfTest(
        lab, checks, do=shell.do, grade=grade, remove_all=lambda: remove_objects(lab.cleanup),
        reset=reset, events_since=events_since, forget_events=forget_events,
        on_scenario=lambda s: click.echo(
            f"  {s.name}: {'as declared' if s.as_declared else 'NOT as declared'} "
            f"({s.seconds:.1f} s)", err=True),
    )  # fmt: skip
    scenarios = test.run(only)
    left = find(client, lab.cleanup, variables=env, disk=disk).lines()
    return scenarios, left, checks


def _print_matrix(
    lab: LabSpec, checks: list[str], scenarios: list[Scenario], left: list[str]
) -> None:
    """Checks down, scenarios across (numbered, named below): ✗ fails, · passes, each as
    declared; red ! where it is not."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"grade lab selftest {lab.name}", show_lines=False)
    table.add_column("check", no_wrap=True, min_width=max(map(len, checks), default=5))
    for index, _ in enumerate(scenarios, 1):
        table.add_column(str(index), justify="center", no_wrap=True, min_width=2)
    for check in checks:
        cells = []
        for s in scenarios:
            if s.failing is None:
                cells.append("[red]?[/]")
                continue
            fails, expected = check in s.failing, check in s.expected
            mark = "✗" if fails else "·"
            cells.append(mark if fails == expected else f"[bold red]!{mark}[/]")
        table.add_row(check, *cells)
    width = max(100, max(map(len, checks), default=5) + 8 + 6 * len(scenarios))
    console = Console(width=width, no_color="NO_COLOR" in os.environ, soft_wrap=False)
    console.print(table)
    for index, s in enumerate(scenarios, 1):
        console.print(f"  {index:>2} {s.name}", highlight=False, markup=False)
    console.print(f"  {CLEAN}: {'yes' if not left else 'no'}", highlight=False, markup=False)


def _write_junit(path: Path, lab: LabSpec, scenarios: list[Scenario], problems: list[str]) -> None:
    from junit_xml import TestCase, TestSuite, to_xml_report_string

    cases = []
    for s in scenarios:
        case = TestCase(s.name, classname=f"selftest.{lab.name}", elapsed_sec=s.seconds)
        if s.error:
            case.add_error_info(s.error)
        elif not s.as_declared:
            case.add_failure_info(s.mismatch())
        cases.append(case)
    overall = TestCase("findings", classname=f"selftest.{lab.name}")
    others = [p for p in problems if not any(p == s.mismatch() for s in scenarios if s.mismatch())]
    if others:
        overall.add_failure_info("\n".join(others))
    cases.append(overall)
    try:
        path.write_text(to_xml_report_string([TestSuite(f"selftest {lab.name}", cases)]))
    except OSError as exc:
        raise GradingError(f"cannot write the JUnit report to {path}: {exc.strerror}") from None


__all__ = ["lab_group"]
