"""Turns pytest's test reports into :class:`~submissions.dialect.CheckResult` values.

Registered by ``grade`` for one run: it selects the checks of the chosen tasks,
applies the instructor's point overrides, enforces the run's overall time
limit, and sorts each outcome into passed (with what proved it, see
:mod:`grader.engine.proof`), failed (the student's step is missing or wrong) or error
(grading itself could not decide). A passed check's message is what it noted
(:meth:`grader.run.lab.Lab.note`), usually nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace

import docker.errors
import pytest
from _pytest.outcomes import Failed, Skipped

from grader.engine import proof
from grader.run import activity
from grader.run.lab import ProbeTimeout, begin_notes, notes_taken
from grader.run.marks import CheckSpec, check_of
from grader.run.verdict import CheckFailed
from submissions.dialect import CheckResult, Status

ProgressCallback = Callable[[CheckSpec, CheckResult], None]


class RunOutOfTime(Exception):
    """The run's overall time limit passed before this check started."""


class ResultCollector:
    """A pytest plugin object that collects one grading run's results."""

    def __init__(
        self,
        *,
        tasks: frozenset[str] | None = None,
        points: Mapping[str, int] | None = None,
        run_timeout: float = 3600.0,
        check_timeout: float = 30.0,
        on_result: ProgressCallback | None = None,
    ) -> None:
        self.tasks = tasks
        self.points = dict(points or {})
        self.run_timeout = run_timeout
        self.check_timeout = check_timeout
        self.on_result = on_result
        self.specs: dict[str, CheckSpec] = {}
        self.results: dict[str, CheckResult] = {}
        self.problem: str | None = None
        self._started = time.monotonic()

    # -- collection --------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        selected, deselected = [], []
        declared = [(item, check_of(item)) for item in items]
        for item, spec in declared:
            if spec is None or (self.tasks is not None and spec.task not in self.tasks):
                deselected.append(item)
                continue
            if spec.id in self.points:
                spec = replace(spec, points=self.points[spec.id])
            self.specs[item.nodeid] = spec
            selected.append(item)
        self.problem = self._selection_problem([spec for _, spec in declared if spec])
        if self.problem:
            deselected, selected = items[:], []
            self.specs.clear()
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = selected

    def _selection_problem(self, declared: list[CheckSpec]) -> str | None:
        known_tasks = sorted({spec.task for spec in declared})
        known_checks = {spec.id for spec in declared}
        if self.tasks is not None:
            unknown = sorted(self.tasks - set(known_tasks))
            if unknown:
                return f"unknown task {unknown[0]!r} (tasks: {', '.join(known_tasks)})"
        unknown_checks = sorted(set(self.points) - known_checks)
        if unknown_checks:
            return f"the rubric names an unknown check {unknown_checks[0]!r}"
        return None

    # -- running -----------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        activity.reset()
        proof.begin()
        begin_notes()
        if time.monotonic() - self._started > self.run_timeout:
            raise RunOutOfTime(
                f"not run: grading passed its overall limit of {self.run_timeout:g} s"
            )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        spec = self.specs.get(item.nodeid)
        if spec is None or item.nodeid in self.results:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            result = self._result(spec, call, report)
            if report.when == "setup" and result.status == "failed":
                result = replace(result, waits_on=self._waited_on(result))
            self._record(item.nodeid, spec, result)

    def _waited_on(self, result: CheckResult) -> str:
        """The earlier failed check of the task that this one's failed precondition repeats.

        A check whose shared fixture fails (no container named mydb) is not a problem
        of its own: it waits on the first check of its task that failed with the same
        command to try. Only setup failures fold, so a second real problem never hides.
        """
        for earlier in self.results.values():
            failed = earlier.status == "failed" and not earlier.waits_on
            if failed and earlier.task == result.task and earlier.hint == result.hint:
                return earlier.id
        return ""

    def _record(self, nodeid: str, spec: CheckSpec, result: CheckResult) -> None:
        self.results[nodeid] = result
        if self.on_result:
            self.on_result(spec, result)

    def _result(
        self, spec: CheckSpec, call: pytest.CallInfo[None], report: pytest.TestReport
    ) -> CheckResult:
        def made(status: Status, message: str = "", hint: str | None = None) -> CheckResult:
            return CheckResult(
                id=spec.id,
                task=spec.task,
                title=spec.title,
                status=status,
                points=spec.points if status == "passed" else 0,
                max_points=spec.points,
                message=message,
                hint="" if status == "passed" else (hint if hint is not None else spec.hint),
                seconds=report.duration,
            )

        if report.passed:
            return replace(made("passed", notes_taken()), evidence=proof.taken())
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, CheckFailed):
            return made("failed", exc.message, exc.hint)
        if isinstance(exc, AssertionError):
            return made("failed", (str(exc).strip().splitlines() or ["assertion failed"])[0])
        return made("error", self._error_message(spec, exc))

    def _error_message(self, spec: CheckSpec, exc: BaseException | None) -> str:
        doing = activity.interrupted() or activity.current()
        where = f" while {doing}" if doing else ""
        if isinstance(exc, Failed) and "Timeout" in str(exc):
            return f"timed out after {self.check_timeout:g} s{where}"
        if isinstance(exc, ProbeTimeout | RunOutOfTime):
            return str(exc)
        if isinstance(exc, Skipped):
            return f"not run: {exc.msg}"
        if isinstance(exc, docker.errors.APIError):
            return f"the Docker engine refused{where}: {exc.explanation or exc}"
        name = type(exc).__name__ if exc else "error"
        text = str(exc).strip().splitlines()[0] if exc and str(exc).strip() else ""
        return f"could not check{where}: {name}" + (f": {text}" if text else "")
