"""One grading run: connect, start the lab's probes, hand the checks to ``pytest.main``.

``grade`` is a thin shell over :func:`grade_lab`; nothing here prints. pytest and
the plugin are imported only once the probes run: their start-up overlaps the
slow part (throwaway containers) instead of preceding it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import signal
import sys
import threading
import tomllib
import uuid
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader import __version__
from grader.errors import SettingsError
from grader.run import activity
from grader.run.lab import Lab
from grader.run.labs import LabSpec
from grader.settings import RunSettings, reported_values
from grader.targets.engine_choice import PROP_ENGINE_CONTEXT, PROP_ENGINE_ENDPOINT
from submissions import dialect
from submissions.dialect import CheckResult, Report

if TYPE_CHECKING:
    from grader.run.collector import ProgressCallback
    from grader.run.marks import CheckSpec
    from grader.targets.engine_choice import EngineChoice
    from grader.targets.target import Target


def checks_digest(folder: Path) -> str:
    """A digest of a lab's check files, so the server can spot edited checks."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ini", ".toml"):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def load_point_overrides(points_file: Path | None) -> dict[str, int]:
    """The instructor's point overrides: the ``[points]`` table of a TOML file (``--rubric``)."""
    if points_file is None:
        return {}
    try:
        with points_file.open("rb") as handle:
            points = tomllib.load(handle).get("points", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else exc
        why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else why
        raise SettingsError(f"{points_file}: cannot read the rubric ({why})") from None
    if not isinstance(points, dict) or any(
        not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in points.values()
    ):
        raise SettingsError(f"{points_file}: [points] must map check ids to whole numbers >= 0")
    return points


#: pytest's own plugins for kinds of test suites that grading is not. Blocked on the command
#: line, not in a lab's ``addopts``: pytest imports its default plugins before it reads
#: ``addopts``, so only a block given here spares their imports (``unittest``, ``doctest``
#: and ``junitxml`` pull in the standard library's ``unittest``, ``doctest`` and ``xml``;
#: ``unraisableexception`` alone ran ``gc.collect()`` five times, 50 ms). ``randomly``:
#: never reorder the checks.
UNUSED_PYTEST_PLUGINS = (
    "cacheprovider",
    "randomly",
    "unraisableexception",
    "threadexception",
    "legacypath",
    "doctest",
    "junitxml",
    "pastebin",
    "stepwise",
    "logging",
    "debugging",
    "unittest",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    "setuponly",
    "setupplan",
    "subtests",
    "faulthandler",
)


def _pytest_args(folder: Path, *, collect_only: bool, check_timeout: float) -> list[str]:
    """pytest's command line for a lab's checks, the same for every lab.

    No plugin installed beside ``grade`` loads (one that imported hypothesis took grade
    from 0.8 s to 2.3 s): the grader's own come as objects (:func:`grading_plugins`).
    Checks fail with ``grader.fail()``, so assertion rewriting and long tracebacks are
    work nobody reads.
    """
    args = [
        str(folder),
        "-c",
        str(folder / "pytest.ini"),
        f"--rootdir={folder}",
        "--disable-plugin-autoload",
        *(arg for plugin in UNUSED_PYTEST_PLUGINS for arg in ("-p", f"no:{plugin}")),
        "--assert=plain",
        "--tb=native",
        "-q",
    ]
    if collect_only:
        args.append("--collect-only")
    elif hasattr(signal, "SIGALRM"):
        args += [f"--timeout={check_timeout:g}", "--timeout-method=signal"]
    return args


def grading_plugins() -> list[object]:
    """The grader's plugin and, where SIGALRM exists, pytest-timeout, as module objects.

    A name (``-p grader.plugin``) would make pytest read the entry points of every
    installed distribution to look for it, twice: 40 ms of each run. A lab's
    ``pytest.ini`` may still name them, for plain ``pytest``; registered already, they
    are not looked for.
    """
    import grader.plugin

    if not hasattr(signal, "SIGALRM"):
        return [grader.plugin]
    import pytest_timeout

    return [grader.plugin, pytest_timeout]


def time_limit_plugins(check_timeout: float) -> list[object]:
    """What enforces each check's time limit besides ``--timeout``: nothing where SIGALRM
    exists (pytest-timeout's signal method), else a watchdog (Windows)."""
    return [] if hasattr(signal, "SIGALRM") else [watchdog(check_timeout)]


def watchdog(seconds: float) -> object:
    """A pytest plugin that stops a check at ``seconds`` without signals.

    pytest-timeout's portable method (``thread``) ends the whole process at the first
    timeout, report and all; this one fails just that check, with the same
    ``Timeout`` the collector reads. The check's body runs in a worker thread and the
    main thread waits at most ``seconds``: a check blocked in a system call (a hung
    ``docker exec``) is left behind in its daemon thread, since Python cannot stop a
    thread from outside, and grading goes on. Fixtures are not limited this way;
    the run's own limit (``run_timeout``) still applies before each check.
    """
    import pytest

    class Watchdog:
        @pytest.hookimpl(tryfirst=True)
        def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool:
            names = pyfuncitem._fixtureinfo.argnames
            arguments = {name: pyfuncitem.funcargs[name] for name in names}
            raised: list[BaseException] = []
            doing: list[dict[str, Any]] = []

            def body() -> None:
                # the worker's own activity (thread-local), for "timed out ... while ..."
                doing.append(activity._current.__dict__)
                try:
                    pyfuncitem.obj(**arguments)
                except BaseException as exc:
                    raised.append(exc)

            worker = threading.Thread(target=body, name=pyfuncitem.nodeid, daemon=True)
            worker.start()
            worker.join(seconds)
            state = doing[0] if doing else {}
            if worker.is_alive():
                with _step(state.get("what", "")):
                    pytest.fail(f"Timeout >{seconds:g}s (grade's watchdog)", pytrace=False)
            if raised:
                with _step(state.get("interrupted", "")):
                    raise raised[0]
            return True

    return Watchdog()


def _step(what: str) -> contextlib.AbstractContextManager[None]:
    """The worker's step, named again in this thread for the collector's message."""
    return activity.doing(what) if what else contextlib.nullcontext()


def _run_pytest(args: list[str], plugins: list[object]) -> int:
    """Run pytest quietly: its own terminal output is not for students."""
    import pytest

    sys.dont_write_bytecode = True
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        return int(pytest.main(args, plugins=[*grading_plugins(), *plugins]))


def collect_checks(lab: LabSpec) -> list[CheckSpec]:
    """Every check of a lab with its points, title and hint, without running any."""
    from grader.run.collector import ResultCollector

    collector = ResultCollector()
    _run_pytest(_pytest_args(lab.checks, collect_only=True, check_timeout=0), [collector])
    return list(collector.specs.values())


def grade_lab(
    *,
    lab: LabSpec,
    settings: RunSettings,
    lab_settings: object,
    target: Target | None,
    grading_error: str = "",
    tasks: frozenset[str] | None = None,
    on_result: ProgressCallback | None = None,
    also_seen: Sequence[dict[str, Any]] = (),
    memo: dict[Hashable, Any] | None = None,
    engine_choice: EngineChoice | None = None,
) -> Report:
    """Grade ``lab`` on ``target`` (this machine or one over SSH).

    ``also_seen``: engine events recorded as they happened (``grade --watch``), which
    the engine may have forgotten since; ``memo``: what earlier runs worked out that
    cannot have changed (:meth:`Lab.remember`); ``engine_choice``: the engine meant, named in
    the report even when it could not be reached (default: the target's).

    Raises :class:`SettingsError` for bad settings. When the target could not be
    reached (``target`` None, ``grading_error`` says why), returns a report whose
    checks are all ``error``, so a report is written even then.
    """
    points = load_point_overrides(settings.rubric)
    engine: dict[str, Any] = {}
    the_lab = None
    if target is not None:
        the_lab = Lab(
            target,
            lab_settings,
            check_timeout=settings.check_timeout,
            selected_tasks=tasks,
            also_seen=also_seen,
            memo=memo,
        )
        engine = the_lab.state.info
        if lab.start_probes is not None:
            lab.start_probes(the_lab)

    from grader.run.collector import ResultCollector

    collector = ResultCollector(
        tasks=tasks,
        points=points,
        run_timeout=settings.run_timeout,
        check_timeout=settings.check_timeout,
        on_result=on_result,
    )
    if the_lab is None:
        _run_pytest(_pytest_args(lab.checks, collect_only=True, check_timeout=0), [collector])
    else:
        _run_pytest(
            _pytest_args(lab.checks, collect_only=False, check_timeout=settings.check_timeout),
            [_hand_over(the_lab), collector, *time_limit_plugins(settings.check_timeout)],
        )
    if collector.problem:
        raise SettingsError(collector.problem)
    results = [
        collector.results.get(nodeid) or _not_run(spec, grading_error)
        for nodeid, spec in collector.specs.items()
    ]
    reported = reported_values(lab_settings)
    chosen = engine_choice or (target.engine if target is not None else None)
    if chosen is not None:
        reported[PROP_ENGINE_CONTEXT] = chosen.context
        reported[PROP_ENGINE_ENDPOINT] = chosen.endpoint
    return Report(
        lab=lab.name,
        grader_version=__version__,
        checks_digest=checks_digest(lab.checks),
        report_id=str(uuid.uuid4()),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        engine_id=str(engine.get("ID") or "unknown"),
        engine_name=str(engine.get("Name") or ""),
        engine_version=str(engine.get("ServerVersion") or ""),
        results=tuple(results),
        dockerid=reported.pop(dialect.PROP_DOCKERID, ""),
        grading_error=grading_error,
        extra_properties=reported,
    )


def _not_run(spec: CheckSpec, why: str) -> CheckResult:
    return CheckResult(
        id=spec.id,
        task=spec.task,
        title=spec.title,
        status="error",
        points=0,
        max_points=spec.points,
        message=f"not checked: {why}" if why else "not checked",
        hint=spec.hint,
    )


def _hand_over(the_lab: Lab[Any]) -> object:
    """A plugin handing ``grade``'s lab (settings read, probes running) to the ``lab`` fixture."""
    import pytest

    from grader.plugin import LAB_KEY

    class HandOver:
        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(self, config: pytest.Config) -> None:
            config.stash[LAB_KEY] = the_lab

    return HandOver()
