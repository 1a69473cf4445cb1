"""``grade start``, ``grade finish``, ``grade reset TASK`` and ``grade lab selftest``.

``grade`` alone grades; these words, first on its command line (after ``--lab NAME`` at
most), are commands of their own: :func:`main` says which, the grade command never sees
them. Each failure is one line and an exit code of its own (below).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import click

from grader.data_folder import data_folder
from grader.errors import GradingError
from grader.labtools.declared import Objects
from grader.labtools.disks import Disk, LocalDisk, RemoteDisk
from grader.labtools.exits import (
    EXIT_CANNOT,
    EXIT_DONE,
    EXIT_NOT_CONFIRMED,
    EXIT_NOT_READY,
    EXIT_UNKNOWN_TASK,
)
from grader.run.labs import LabSpec, load_lab
from grader.settings import ConfigFile, fields_of, resolve, usable_home, working_directory
from grader.targets.target import Target, TargetOptions

F = TypeVar("F", bound=Callable[..., Any])


def _where_options(command: F) -> F:
    options = [
        click.option("--lab", "lab_name", metavar="NAME", help="The lab [default: as grade]."),
        click.option("-H", "--host", metavar="URL", help="The engine, as docker -H takes it."),
        click.option("--context", metavar="NAME", help="The engine of that Docker context."),
        click.option("--identity-file", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--ssh-config", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--accept-new-host-keys", is_flag=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@dataclass
class Session:
    """The lab, its engine and the student's names: what each command starts from."""

    lab: LabSpec
    where: TargetOptions
    target: Target | None
    unreachable: str
    endpoint: str
    variables: dict[str, str]
    settings: object
    home: Path | None  # None over SSH: the files are the remote machine's
    disk: Disk | None  # where the lab's files are: this disk, or the remote machine's

    @classmethod
    def open(cls, options: dict[str, Any]) -> Session:
        lab = load_lab(options["lab_name"])
        where = TargetOptions(
            host=options["host"],
            identity_file=options["identity_file"],
            ssh_config=options["ssh_config"],
            accept_new_host_keys=options["accept_new_host_keys"],
            context=options["context"],
        )
        engine = where.engine(os.environ)
        target, unreachable = where.open(os.environ, engine)
        home = usable_home()
        remote = where.over_ssh
        remote_home = Path(target.home()) if target and remote else None
        config = ConfigFile.read(working_directory())
        settings: object = resolve(
            lab.settings,
            cli={},
            environ={} if remote else os.environ,
            config=config,
            home=remote_home or home,
            base=remote_home,
        )
        variables = dict(os.environ)
        for field in fields_of(lab.settings):
            value = getattr(settings, field.name, None)
            if field.info.env and value is not None:
                variables[field.info.env] = str(value)
        disk: Disk | None = LocalDisk(home, keep=(data_folder(),)) if home else None
        if remote and target is not None and remote_home is not None:
            disk = RemoteDisk(target.host(), PurePosixPath(remote_home))
        return cls(lab, where, target, unreachable, engine.describe(), variables, settings,
                   None if remote else home, disk)  # fmt: skip

    def close(self) -> None:
        if self.target is not None:
            self.target.close()

    def client(self) -> Any:
        if self.target is None:
            raise GradingError(self.unreachable)
        return self.target.docker()


@click.command("start")
@_where_options
def start_command(**options: Any) -> int:
    """Check this machine before the lab: each problem with the command that fixes it.

    Exit status: 0 ready, 4 something to fix first, 2 the check could not run."""
    from grader.labtools.preflight import Problem, engine_line, machine_problems, setting_problems

    session = Session.open(options)
    try:
        lab = session.lab
        click.echo(f"grade start: {lab.title}")
        problems = setting_problems(lab.settings, session.settings, lab.preflight.settings)
        notes: list[str] = []
        if session.target is None:
            problems.insert(0, Problem(session.unreachable, ""))
        else:
            client = session.target.docker()
            click.echo(f"  engine: {engine_line(client, session.endpoint)}")
            more_notes, more = machine_problems(
                client,
                preflight=lab.preflight,
                objects=lab.cleanup,
                variables=session.variables,
                local=session.home is not None and session.endpoint.startswith("unix://"),
            )
            notes += more_notes
            problems += more
    finally:
        session.close()
    for note in notes:
        click.echo(f"  note: {note}")
    for problem in problems:
        click.echo(f"  problem: {problem.line()}")
    if problems:
        click.echo(f"Not ready: {len(problems)} to fix, then run grade start again.")
        return EXIT_NOT_READY
    click.echo("Ready: start the lab.")
    return EXIT_DONE


def _remove(session: Session, objects: Objects, what: str, yes: bool) -> int:
    """List the lab's objects in ``objects``, ask (or take ``--yes``), remove them."""
    from grader.labtools.objects import find, remove

    client = session.client()
    keep = (data_folder(),)
    found = find(client, objects, variables=session.variables, disk=session.disk)
    for name in found.unknown:
        click.echo(f"  not looked for: {name}")
    if found.empty:
        click.echo(f"Nothing of {what} is left: nothing to remove.")
        return EXIT_DONE
    click.echo(f"{what[0].upper()}{what[1:]} left here:")
    for line in found.lines():
        click.echo(f"  {line}")
    if not yes:
        if not sys.stdin.isatty():
            click.echo(
                "grade: not removing anything without a yes: run it in a terminal, or add --yes",
                err=True,
            )
            return EXIT_NOT_CONFIRMED
        if not click.confirm("Remove them?", default=False):
            click.echo("Nothing removed.")
            return EXIT_NOT_CONFIRMED
    problems = remove(client, found, session.disk)
    for problem in problems:
        click.echo(f"grade: not removed: {problem}", err=True)
    click.echo(f"Removed {len(found.lines()) - len(problems)}; kept your reports and outbox "
               f"({keep[0]}).")  # fmt: skip
    return EXIT_CANNOT if problems else EXIT_DONE


@click.command("finish")
@click.option("--yes", is_flag=True, help="Remove without asking (for scripts).")
@_where_options
def finish_command(yes: bool, **options: Any) -> int:
    """Remove the lab's own objects (containers, images, files it names), nothing else.

    Exit status: 0 removed (or nothing left), 5 nothing removed (no yes), 2 could not run."""
    session = Session.open(options)
    try:
        return _remove(session, session.lab.cleanup, f"the lab {session.lab.title!r}", yes)
    finally:
        session.close()


@click.command("reset")
@click.argument("task")
@click.option("--yes", is_flag=True, help="Remove without asking (for scripts).")
@_where_options
def reset_command(task: str, yes: bool, **options: Any) -> int:
    """Remove what TASK left, so that it can be done again.

    Exit status: 0 removed (or nothing left), 5 nothing removed (no yes), 6 no such task."""
    session = Session.open(options)
    try:
        declared = session.lab.task(task)
        if declared is None:
            names = ", ".join(t.id for t in session.lab.tasks) or "none declared"
            click.echo(f"grade: no task {task!r} in lab {session.lab.name} (tasks: {names})",
                       err=True)  # fmt: skip
            return EXIT_UNKNOWN_TASK
        return _remove(session, declared.objects, f"{task} of {session.lab.name}", yes)
    finally:
        session.close()


def _command(name: str) -> click.Command:
    if name == "lab":
        from grader.labtools.selftest_cli import lab_group

        return lab_group
    return {"start": start_command, "finish": finish_command, "reset": reset_command}[name]


def main(name: str, args: list[str]) -> int:
    """Run one of the commands: one line on stderr and a fixed exit code for every failure."""
    try:
        command = _command(name)
        return int(command.main(args=args, prog_name=f"grade {name}", standalone_mode=False) or 0)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        click.echo(f"grade {name}: {exc.format_message()} (see grade {name} --help)", err=True)
        return EXIT_CANNOT
    except GradingError as exc:
        click.echo(f"grade {name}: {exc}", err=True)
        return exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo(f"grade {name}: interrupted", err=True)
        return 130
