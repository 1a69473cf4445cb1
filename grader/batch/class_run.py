"""``grade --hosts class.csv``: a class of lab machines graded over SSH, a few at a time.

Each host is graded by a ``grade --host`` process of its own: pytest, which runs the
checks, runs once per process; a host that hangs is killed at its time limit without
holding up the others; and Ctrl-C stops the running ones and keeps what finished.
Those processes are forks of one warm worker (:mod:`grader.batch.worker`), which has
loaded the grader, pytest and the checks once for the whole class: a fresh ``grade``
would spend two seconds of CPU per host on that alone.
A live table shows every host (waiting, grading, its score or its error); each host's
JUnit report lands in ``--out`` beside ``summary.csv``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.live import Live
from rich.table import Table

from grader.batch.pool import Grader, GraderPool, close_ssh_masters
from grader.errors import SettingsError
from grader.targets.ssh import SshAddress

EXIT_ALL_PASSED, EXIT_SOME_FAILED, EXIT_SOME_NOT_GRADED, EXIT_INTERRUPTED = 0, 1, 2, 130
#: ``grade --submit``'s own status when the report was graded but waits to be sent.
EXIT_NOT_SUBMITTED = 3
SUMMARY = "summary.csv"
#: The longest scratch folder a host's ssh sockets fit under: ssh's ``ControlPath``
#: (``grade-ssh-XXXXXXXX/`` and a 40-digit hash, then 17 bytes while ssh creates it)
#: must stay within the 107 bytes of a Unix socket's path.
SHORT_SCRATCH = 24
SUMMARY_COLUMNS = (
    "student_id", "host", "status", "score", "max_score", "failed_checks", "report", "reason",
    "submitted",
)  # fmt: skip

State = Literal["waiting", "grading", "passed", "failed", "error", "timeout", "interrupted"]
STYLE = {
    "waiting": "dim",
    "grading": "cyan",
    "passed": "green",
    "failed": "red",
    "error": "yellow",
    "timeout": "yellow",
    "interrupted": "dim",
}


@dataclass(frozen=True)
class ClassHost:
    """One row of the class file: whose machine, where, with which key."""

    student_id: str
    host: str  # ssh://user@host[:port]
    identity_file: Path | None = None


@dataclass
class HostResult:
    """What became of one host; updated by its worker, shown by the live table."""

    host: ClassHost
    state: State = "waiting"
    score: int | None = None
    max_score: int | None = None
    failed: list[str] = field(default_factory=list)
    reason: str = ""
    report: Path | None = None
    submitted: str = ""  # what --submit said ("submitted: score 28/28"), with --submit


def read_class(path: Path) -> list[ClassHost]:
    """The rows of ``student_id,host[,identity_file]`` (a header row is optional).

    A bad row stops the run before any host is graded, naming its line.
    """
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"--hosts {path}: cannot read it ({exc})") from None
    hosts: list[ClassHost] = []
    seen: set[str] = set()
    for line, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or (line == 1 and cells[:2] == ["student_id", "host"]):
            continue
        where = f"--hosts {path}:{line}"
        if len(cells) not in (2, 3) or not cells[0] or not cells[1]:
            raise SettingsError(f"{where}: expected student_id,host[,identity_file]")
        student, host = cells[0], cells[1]
        if student in seen:
            raise SettingsError(f"{where}: student {student!r} appears twice")
        if "/" in student or len(student) > 100:
            raise SettingsError(f"{where}: student id {student[:40]!r} is too long or has '/'")
        url = host if host.startswith("ssh://") else f"ssh://{host}"
        SshAddress.parse(url)  # a malformed host is a one-line error here, not later
        identity = Path(cells[2]).expanduser() if len(cells) == 3 and cells[2] else None
        if identity is not None and not identity.is_absolute():
            identity = path.parent / identity
        hosts.append(ClassHost(student, url, identity))
        seen.add(student)
    if not hosts:
        raise SettingsError(f"--hosts {path}: no student_id,host rows")
    return hosts


@dataclass(frozen=True)
class Submission:
    """Where a class's reports go, verified: the server, the instructor's token, the course."""

    url: str
    token: str
    course: str


@dataclass
class ClassRun:
    """One ``grade --hosts`` run; :meth:`run` returns its exit status."""

    lab: str
    hosts: Sequence[ClassHost]
    out: Path
    parallel: int
    host_timeout: float
    tasks: Sequence[str] = ()
    settings: dict[str, object] = field(default_factory=dict)
    identity_file: Path | None = None
    ssh_config: Path | None = None
    accept_new_host_keys: bool = False
    submit: Submission | None = None
    _running: dict[str, Grader] = field(default_factory=dict, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    def run(self, console: Console) -> int:
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(f"--out {self.out}: cannot create it ({exc.strerror})") from None
        results = [HostResult(host) for host in self.hosts]
        interrupted = False
        scratch = Path(tempfile.mkdtemp(prefix="gh-"))  # short: ssh's sockets live under it
        workers = GraderPool(self.lab, log=scratch / "worker.log")
        pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="host")
        try:
            with Live(_table(results), console=console, refresh_per_second=4) as live:
                try:
                    futures = [
                        pool.submit(self._grade_one, workers, result, scratch / str(index))
                        for index, result in enumerate(results)
                    ]
                    while not all(f.done() for f in futures):
                        wait(futures, timeout=0.25, return_when=FIRST_EXCEPTION)
                        live.update(_table(results))
                except KeyboardInterrupt:
                    interrupted = True
                    self._stop()
                finally:
                    pool.shutdown(wait=True, cancel_futures=True)
                    for result in results:
                        if result.state in ("waiting", "grading"):
                            result.state, result.reason = "interrupted", "stopped by Ctrl-C"
                    live.update(_table(results))
        finally:
            workers.close()
            shutil.rmtree(scratch, ignore_errors=True)
        self._write_summary(results)
        return _exit_status(results, interrupted)

    # -- one host ------------------------------------------------------------------
    def _grade_one(self, workers: GraderPool, result: HostResult, scratch: Path) -> None:
        if self._stopping.is_set():
            return
        host = result.host
        report = self.out / f"{host.student_id}.xml"
        result.state = "grading"
        environ = dict(os.environ)
        scratch.mkdir()
        if len(str(scratch)) <= SHORT_SCRATCH:  # its ssh files there, to tidy up after it
            environ["TMPDIR"] = str(scratch)
        if self.submit is not None:  # the token goes in the environment, never on a command line
            environ["GRADER_TOKEN"] = self.submit.token
        out, err = scratch / "stdout", scratch / "stderr"
        grader = workers.start(host.student_id, self._arguments(host, report), environ, out, err)
        self._running[host.student_id] = grader
        if self._stopping.is_set():  # Ctrl-C came while it was being started
            grader.stop()
        try:
            if not grader.wait(self.host_timeout):
                grader.stop()
                result.state = "timeout"
                result.reason = f"did not finish within {self.host_timeout:g} s"
                return
        finally:
            self._running.pop(host.student_id, None)
            close_ssh_masters(scratch)
        if self._stopping.is_set() and (grader.exit is None or grader.exit < 0):
            return  # stopped by Ctrl-C: marked interrupted by run()
        result.report = report if report.is_file() else None
        if grader.exit is None:
            result.state, result.reason = "error", "the grading worker stopped unexpectedly"
            return
        _read_outcome(result, grader.exit, _read_text(out), _read_text(err))

    def _arguments(self, host: ClassHost, report: Path) -> list[str]:
        """``grade``'s arguments for one host of the class."""
        args = ["--lab", self.lab, "--host", host.host]
        args += ["--json", "--junit", str(report)]
        identity = host.identity_file or self.identity_file
        if identity is not None:
            args += ["--identity-file", str(identity)]
        if self.ssh_config is not None:
            args += ["--ssh-config", str(self.ssh_config)]
        if self.accept_new_host_keys:
            args.append("--accept-new-host-keys")
        for name, value in self.settings.items():
            args += ["--" + name.replace("_", "-"), str(value)]
        if self.submit is not None:
            student = f"{self.submit.course}/{host.student_id}"
            args += ["--submit", self.submit.url, "--student", student]
        return [*args, *self.tasks]

    def _stop(self) -> None:
        self._stopping.set()
        for grader in list(self._running.values()):
            grader.stop()

    def _write_summary(self, results: Sequence[HostResult]) -> None:
        path = self.out / SUMMARY
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(SUMMARY_COLUMNS)
            for r in results:
                writer.writerow(
                    (
                        r.host.student_id,
                        r.host.host,
                        r.state,
                        "" if r.score is None else r.score,
                        "" if r.max_score is None else r.max_score,
                        " ".join(r.failed),
                        r.report.name if r.report else "",
                        r.reason,
                        r.submitted,
                    )
                )


def _read_outcome(result: HostResult, code: int, stdout: str, stderr: str) -> None:
    """Fill ``result`` from what ``grade --host --json`` printed and its exit status."""
    lines = [line.removeprefix("grade: ") for line in stderr.splitlines() if line.strip()]
    if code in (EXIT_ALL_PASSED, EXIT_SOME_FAILED, EXIT_NOT_SUBMITTED):
        try:
            doc = json.loads(stdout)
            result.score, result.max_score = int(doc["score"]), int(doc["max_score"])
            result.failed = [c["id"] for c in doc["checks"] if c["status"] != "passed"]
        except (ValueError, KeyError, TypeError):
            result.state, result.reason = "error", "grade printed no report"
            return
        result.state = "failed" if result.failed else "passed"
        submitted = [line for line in lines if line.startswith(("submitted", "not submitted"))]
        result.submitted = submitted[-1] if submitted else ""
        if code == EXIT_NOT_SUBMITTED:
            result.reason = lines[-1] if lines else "not submitted"
        return
    result.state = "error"
    result.reason = lines[-1] if lines else f"grade exited with {code}"


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace")
    except OSError:
        return ""


def _exit_status(results: Sequence[HostResult], interrupted: bool) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    states = {r.state for r in results}
    if states & {"error", "timeout"}:
        return EXIT_SOME_NOT_GRADED
    return EXIT_SOME_FAILED if "failed" in states else EXIT_ALL_PASSED


def _table(results: Sequence[HostResult]) -> Table:
    table = Table(title=f"{len(results)} hosts", title_justify="left")
    for column in ("Student", "Host", "State", "Score", "Note"):
        table.add_column(column, overflow="fold")
    for r in results:
        score = f"{r.score}/{r.max_score}" if r.score is not None else ""
        note = r.reason or (", ".join(r.failed[:4]) + ("…" if len(r.failed) > 4 else ""))
        table.add_row(
            r.host.student_id,
            r.host.host.removeprefix("ssh://"),
            f"[{STYLE[r.state]}]{r.state}[/]",
            score,
            note,
        )
    return table
