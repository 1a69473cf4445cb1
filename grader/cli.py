"""``grade``: grade a Docker lab on this machine's Docker engine.

A thin shell over :func:`grader.run.runner.grade_lab`: it parses options, shows
progress and results, writes the JUnit report, and maps every failure to one
line and a fixed exit code. The lab's own settings become options of their
own (``--dockerid``): the command is built once the lab is known. What only some
runs need (rich's tables, the submit path, JUnit XML) is imported where it is used:
``grade --json`` starts sooner without it.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Hashable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from grader import __version__
from grader.errors import GradingError, SettingsError
from grader.i18n import _, message
from grader.labtools import split
from grader.report import report_json, show
from grader.report.show import Form
from grader.run.labs import LabSpec, load_lab
from grader.run.runner import grade_lab
from grader.settings import (
    ConfigFile,
    RunSettings,
    SettingField,
    fields_of,
    resolve,
    usable_home,
    working_directory,
)
from grader.targets.target import Target, TargetOptions
from submissions.dialect import CheckResult, Report

if TYPE_CHECKING:
    from rich.console import Console

    from grader.run.marks import CheckSpec
    from grader.targets.engine_choice import EngineChoice

EXIT_ALL_PASSED = 0
EXIT_SOME_FAILED = 1
EXIT_CANNOT_GRADE = 2
EXIT_NOT_SUBMITTED = 3
EXIT_INTERRUPTED = 130


def _setting_option(field: SettingField) -> click.Option:
    """A setting as an option: ``tweet_app`` → ``--tweet-app DIR``, its default in the help."""
    if field.info.env:
        default = f"${field.info.env}"
    elif isinstance(field.default, float):
        default = f"{field.default:g}"
    else:
        default = str(field.default) if field.default is not None else ""
    suffix = f" [default: {default}]" if default and "[default:" not in field.info.help else ""
    return click.Option(
        [field.option, field.name], metavar=field.info.metavar, help=field.info.help + suffix
    )


#: Options that say where to grade: this machine, one host over SSH, or a class of hosts.
TARGET_OPTIONS = [
    click.Option(
        ["-H", "--host"],
        metavar="URL",
        help="The engine, as docker -H takes it: ssh://USER@HOST[:PORT] grades that machine "
        "over SSH; unix:///PATH or tcp://HOST:PORT another engine here [default: the one "
        "docker uses: $DOCKER_HOST, $DOCKER_CONTEXT, docker context use, the default socket].",
    ),
    click.Option(
        ["--context"],
        metavar="NAME",
        help="The engine of that Docker context, as docker --context takes it.",
    ),
    click.Option(
        ["--identity-file"],
        metavar="FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The SSH key for an ssh:// engine (--host, DOCKER_HOST, a context) "
        "[default: ssh's own].",
    ),
    click.Option(
        ["--ssh-config"],
        metavar="FILE",
        type=click.Path(dir_okay=False, path_type=Path),
        help="An ssh config file to use instead of ~/.ssh/config.",
    ),
    click.Option(
        ["--accept-new-host-keys"],
        is_flag=True,
        help="Trust a host seen for the first time, as ssh's accept-new does.",
    ),
    click.Option(
        ["--hosts"],
        metavar="CSV",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Grade a class: rows of student_id,host[,identity_file].",
    ),
    click.Option(
        ["--parallel"],
        type=click.IntRange(1, 64),
        default=8,
        show_default=True,
        help="Hosts graded at once with --hosts.",
    ),
    click.Option(
        ["--out"],
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where --hosts writes a JUnit report per host and summary.csv [default: .].",
    ),
    click.Option(
        ["--host-timeout"],
        type=click.FloatRange(1, 3600),
        default=300,
        show_default=True,
        metavar="SECONDS",
        help="How long one host of --hosts may take.",
    ),
]


def build_command(lab: LabSpec) -> click.Command:
    """``grade`` for ``lab``: the runner's options and, among them, the lab's settings."""
    lab_fields = fields_of(lab.settings)
    run_fields = {field.name: field for field in fields_of(RunSettings)}

    def callback(**options: Any) -> int:
        run_cli = {name: options[name] for name in run_fields}
        lab_cli = {field.name: options[field.name] for field in lab_fields}
        if options["hosts"] is not None:
            return _grade_class(lab, options, passed_on={**lab_cli, **run_cli})
        return _grade(
            lab,
            tasks=options["tasks"],
            as_json=options["as_json"],
            junit=options["junit"],
            submit=options["submit"],
            token=options["token"],
            student=_student(options["student"], options["submit"]),
            assignment=_assignment(options["assignment"], options["submit"]),
            watch=options["watch"],
            form=Form.chosen(options, os.environ),
            where=TargetOptions(
                host=options["host"],
                identity_file=options["identity_file"],
                ssh_config=options["ssh_config"],
                accept_new_host_keys=options["accept_new_host_keys"],
                context=options["context"],
            ),
            run_cli=run_cli,
            lab_cli=lab_cli,
        )

    command = click.Command(
        "grade",
        callback=callback,
        context_settings={"help_option_names": ["-h", "--help"]},
        help=f'Check the lab "{lab.title}" on this machine, task by task (TASK: task1, task2 '
        "... as the lab names them; default all); or another machine over SSH (--host), or "
        "a whole class (--hosts).\n\nExit status: 0 all checks passed, 1 some did not, 2 "
        "grading could not run (with --hosts: on some host), 3 graded but not submitted (the "
        "report waits and goes out with the next --submit).",
        params=[
            click.Argument(["tasks"], nargs=-1, metavar="[TASK]..."),
            click.Option(
                ["--json", "as_json"],
                is_flag=True,
                help="Print one JSON document instead of tables.",
            ),
            *show.OPTIONS,
            click.Option(["--junit"], metavar="PATH", help="Write the JUnit XML report to PATH."),
            click.Option(
                ["--watch"],
                is_flag=True,
                help="Keep the checklist on screen and tick steps off as you do them; Ctrl-C "
                "stops and writes the report (with --json: a line per change).",
            ),
            *(_setting_option(field) for field in lab_fields),
            *(_setting_option(field) for field in run_fields.values()),
            *TARGET_OPTIONS,
            click.Option(
                ["--submit"], metavar="URL", help="Send the report to your instructor's server."
            ),
            click.Option(
                ["--token"],
                metavar="TOKEN",
                help="Your token for --submit [default: $GRADER_TOKEN].",
            ),
            click.Option(
                ["--student"],
                metavar="COURSE/ID",
                help="With --submit and an instructor's token: the report is this student's, "
                "verified by you.",
            ),
            click.Option(
                ["--assignment"],
                metavar="SLUG",
                help="With --submit: your assignment, when the course has two of this lab.",
            ),
            click.Option(
                ["--course"],
                metavar="COURSE",
                help="With --hosts --submit: the course of the class file's students.",
            ),
        ],
    )
    return click.version_option(__version__, prog_name="grade")(command)


def _grade(
    lab: LabSpec,
    *,
    tasks: tuple[str, ...],
    as_json: bool,
    junit: str | None,
    submit: str | None,
    token: str | None,
    student: str | None,
    watch: bool,
    form: Form,
    where: TargetOptions,
    assignment: str | None = None,
    run_cli: dict[str, object | None],
    lab_cli: dict[str, object | None],
) -> int:
    token = token or os.environ.get("GRADER_TOKEN")
    if submit and not token:
        raise click.UsageError("--submit needs your token: --token TOKEN or $GRADER_TOKEN")
    config = ConfigFile.read(working_directory())
    config.refuse_unknown(RunSettings, lab.settings)
    home = usable_home()
    settings = resolve(RunSettings, cli=run_cli, environ=os.environ, config=config, home=home)
    engine = where.engine(os.environ)
    if engine.warning:
        click.echo(f"grade: warning: {engine.warning}", err=True)
    target, unreachable = where.open(os.environ, engine)
    remote = where.over_ssh
    try:
        remote_home = Path(target.home()) if target and remote else None
        lab_settings: object = resolve(
            lab.settings,
            cli=lab_cli,
            environ={} if remote else os.environ,  # the instructor's $DOCKERID is no student's
            config=config,
            home=remote_home or home,
            base=remote_home,
        )
        shared = (submit, token, assignment) if submit and token and not student else None
        grading = Grading(lab, settings, lab_settings, target, unreachable, tasks, engine, shared)
        if watch:
            report, task_titles = _watch(grading, as_json, form, remote=remote)
        else:
            report, task_titles = grading.run(form.progress(as_json))
    finally:
        if target is not None:
            target.close()
    xml = _junit_xml(report) if junit or submit else ""  # rendered once for both
    if junit:
        _write_report(Path(junit), xml)
    if report.grading_error:
        raise GradingError(report.grading_error)
    if not as_json:
        form.show_report(report, task_titles)
    elif not watch:  # --watch --json printed a line per run already
        click.echo(report_json.as_json(report))
    if submit and token:  # noqa: SIM102 (one line would be too long)
        if not _submitted(report, xml, submit, token, student, as_json, assignment):
            return EXIT_NOT_SUBMITTED
    return EXIT_ALL_PASSED if all(r.passed for r in report.results) else EXIT_SOME_FAILED


@dataclass(frozen=True)
class Grading:
    """One lab, its settings and its target: what a grading run needs, run once or watched."""

    lab: LabSpec
    settings: RunSettings
    lab_settings: object
    target: Target | None
    unreachable: str
    tasks: tuple[str, ...]
    engine: EngineChoice | None = None
    progress: tuple[str, str, str | None] | None = None  # own --watch --submit: URL, token, slug

    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False)

    def run(
        self, console: Console | None = None, also_seen: Sequence[dict[str, Any]] = ()
    ) -> tuple[Report, dict[str, str]]:
        """The report and each task's title; with a console, a spinner counts the checks."""
        task_titles: dict[str, str] = {}
        done: list[str] = []

        def on_result(spec: CheckSpec, result: CheckResult) -> None:
            task_titles[spec.task] = spec.task_title
            done.append(spec.id)
            if status is not None:
                status.update(
                    _("Grading... {done} checks done ({check})").format(
                        done=len(done), check=spec.id
                    )
                )

        spinner = console.status(_("Grading..."), spinner="dots") if console else nullcontext()
        with spinner as status:
            report = grade_lab(
                lab=self.lab,
                settings=self.settings,
                lab_settings=self.lab_settings,
                target=self.target,
                grading_error=self.unreachable,
                tasks=frozenset(self.tasks) if self.tasks else None,
                on_result=on_result,
                also_seen=also_seen,
                memo=self.memo,
                engine_choice=self.engine,
            )
        return report, task_titles


def _watch(
    grading: Grading, as_json: bool, form: Form, *, remote: bool
) -> tuple[Report, dict[str, str]]:
    """``--watch``: grade again at each change until Ctrl-C (see :mod:`grader.run.watch`);
    in plain form, each run says only what changed."""
    from grader.run.watch import Watch, watched_folders

    if grading.target is None:
        raise GradingError(grading.unreachable)
    client = grading.target.docker()
    since = f"{time.time():.9f}"
    return Watch(
        grade=lambda seen: grading.run(also_seen=seen),
        events=lambda: client.api.events(since=since, decode=True),
        folders=[] if remote else watched_folders(grading.lab_settings),
        console=show.console(stderr=as_json),
        as_json=as_json,
        progress=grading.progress,
        announce=form.announcer(as_json),
    ).run()


def _assignment(assignment: str | None, submit: str | None) -> str | None:
    """``--assignment SLUG``: only with ``--submit``, and a slug."""
    if assignment is not None and (not submit or not assignment.strip() or "/" in assignment):
        raise click.UsageError(f"--assignment {assignment!r} goes with --submit, a slug without /")
    return assignment.strip() if assignment else None


def _student(student: str | None, submit: str | None) -> str | None:
    """``--student COURSE/ID``, checked: it only means something for a submitted report."""
    if student is None:
        return None
    course, slash, student_id = student.partition("/")
    if not slash or not course.strip() or not student_id.strip() or "/" in student_id:
        raise click.UsageError(f"--student {student!r}: expected COURSE/ID")
    if not submit:
        raise click.UsageError("--student goes with --submit (and an instructor's token)")
    return f"{course.strip()}/{student_id.strip()}"


#: What ``--hosts`` (a class run) cannot take: each names one student's machine or report.
NOT_WITH_HOSTS = ("host", "context", "junit", "as_json", "student", "assignment", "watch")


def _grade_class(lab: LabSpec, options: dict[str, Any], passed_on: dict[str, object | None]) -> int:
    """``--hosts``: every host of the class, a few at a time (see :mod:`grader.batch`)."""
    from grader.batch.class_run import ClassRun, Submission, read_class

    if any(options[name] for name in NOT_WITH_HOSTS):
        raise click.UsageError(
            "--hosts grades a class: leave out --host, --context, --junit, --json, --student, "
            "--assignment, --watch"
        )
    submit: Submission | None = None
    if options["submit"]:
        token = options["token"] or os.environ.get("GRADER_TOKEN")
        if not token or not options["course"]:
            raise click.UsageError("--hosts --submit needs --course and your instructor token")
        submit = Submission(options["submit"], token, options["course"])
    run = ClassRun(
        lab=lab.name,
        hosts=read_class(options["hosts"]),
        out=options["out"] or Path.cwd(),
        parallel=options["parallel"],
        host_timeout=options["host_timeout"],
        tasks=options["tasks"],
        settings={
            name: value for name, value in passed_on.items() if value is not None and name != "lab"
        },
        identity_file=options["identity_file"],
        ssh_config=options["ssh_config"],
        accept_new_host_keys=options["accept_new_host_keys"],
        submit=submit,
    )
    return run.run(show.console())


def _submitted(
    report: Report,
    xml: str,
    url: str,
    token: str,
    student: str | None,
    as_json: bool,
    assignment: str | None = None,
) -> bool:
    """Send the report as written (its bytes and the id it was written with: nothing is
    read back), say what became of it; whether the server has it."""
    from grader.report.submit import default_outbox, submit_report, verified_outbox

    outcome = submit_report(
        xml.encode("utf-8"),
        report.report_id,
        url=url,
        token=token,
        student=student,
        assignment=assignment,
        outbox=verified_outbox(student) if student else default_outbox(),
    )
    click.echo(f"grade: {outcome.message}", err=as_json or not outcome.ok)
    return outcome.ok


def _junit_xml(report: Report) -> str:
    from submissions.writer import to_junit_xml

    return to_junit_xml(report)


def _write_report(path: Path, xml: str) -> None:
    try:
        path.write_text(xml, encoding="utf-8")
    except OSError as exc:
        raise GradingError(f"cannot write the report to {path}: {exc.strerror}") from None


def _lab_named_in(args: Sequence[str]) -> str | None:
    """``--lab NAME`` (or ``--lab=NAME``) on the command line, else ``lab`` in grade.toml."""
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lab" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--lab="):
            return arg.removeprefix("--lab=")
    try:
        named = ConfigFile.read(Path.cwd()).values.get("lab")
    except (SettingsError, OSError):  # reported when the command runs, with the fix
        return None
    return named if isinstance(named, str) else None


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: one line on stderr and a fixed exit code for every failure."""
    args = sys.argv[1:] if argv is None else argv
    if (chosen := split(args)) is not None:  # grade start, finish, reset, lab selftest
        from grader.labtools.cli import main as run_command

        return run_command(*chosen)
    try:
        command = build_command(load_lab(_lab_named_in(args)))
        return int(command.main(args=args, prog_name="grade", standalone_mode=False) or 0)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.UsageError as exc:
        click.echo(f"grade: {exc.format_message()} (see grade --help)", err=True)
        return EXIT_CANNOT_GRADE
    except GradingError as exc:
        click.echo(f"grade: {message(str(exc))}", err=True)  # as a check's, by its shape
        return exc.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo("grade: " + _("interrupted"), err=True)
        return EXIT_INTERRUPTED


def run() -> NoReturn:
    """``grade``: :func:`main`, then a quick exit: the run's 40 000 objects frozen and left to
    the OS, not collected (50-80 ms of 0.5 s). Not in :func:`main`: tests call it."""
    code = main()
    gc.disable()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
