"""``grade --watch``: a live checklist that ticks while the student works.

The lab is graded again whenever the engine reports a change a student makes (a
container or an image event) or a file in one of the lab's folders (its ``Path``
settings: the tweet app, the hello app) changes. Waiting costs nothing: the engine's
event stream is read by a thread that blocks, and the folders are looked at once a
second. The events are also kept as they happen, so a step whose only trace is an
event (the ``--rm`` run of step 1.2) stays done after the engine forgets it.

Grading's own doings are not changes: throwaway containers carry grading's label, and
its ``docker exec`` runs ``/bin/sh -c``; a student's ``docker exec mydb mysql --version``
is a change (it is how a student sees that mysql is up).
"""

from __future__ import annotations

import json
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from grader.probes import EXEC_SHELL, OWN_EXECS, THROWAWAY_LABEL
from grader.report.progress import sharing
from grader.report.render import report_view
from grader.settings import fields_of
from submissions.dialect import Report

#: A burst of changes (a build, a run) is over when nothing more came for this long...
SETTLE = 0.3
#: ...or when it has gone on this long (a step that keeps changing things is shown anyway).
LONGEST_BURST = 10.0
#: Seconds between two looks at the lab's folders.
POLL = 1.0

Grade = Callable[[list[dict[str, Any]]], tuple[Report, dict[str, str]]]


def is_students_change(event: dict[str, Any]) -> bool:
    """True for an engine event a student's step makes, not one of grading's own."""
    kind = event.get("Type")
    action = str(event.get("Action") or event.get("status") or "")
    attributes = (event.get("Actor") or {}).get("Attributes") or {}
    if kind == "image":
        return True
    if kind != "container" or THROWAWAY_LABEL in attributes:
        return False
    if action.startswith("exec"):
        return _students_exec(action, str(attributes.get("name") or ""))
    return True


def _students_exec(action: str, container: str) -> bool:
    """An exec's event: a student's step, or grading's own probe (:data:`OWN_EXECS`)."""
    verb, _, command = action.partition(": ")
    if verb not in ("exec_create", "exec_start", "exec"):
        return False  # exec_die, Podman's exec_died: the end of one already seen
    if command.startswith(EXEC_SHELL):  # Docker names grading's command
        if verb == "exec_start":
            OWN_EXECS.claim(container)
        return False
    if verb == "exec":  # Podman names none: grading's own are counted off
        return not OWN_EXECS.claim(container)
    return True


def watched_folders(lab_settings: object) -> list[Path]:
    """The lab's folders: every ``Path`` setting that has a value."""
    folders = []
    for setting in fields_of(type(lab_settings)):
        value = getattr(lab_settings, setting.name)
        if setting.kind is Path and value is not None:
            folders.append(Path(value))
    return folders


def folder_state(folders: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """What changes when a student edits, adds or removes a file there (one level deep)."""
    seen: list[tuple[str, int, int]] = []
    for folder in folders:
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                stat = entry.stat()
            except OSError:
                continue
            seen.append((str(entry), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(seen))


@dataclass
class Watch:
    """One ``grade --watch`` session; :meth:`run` returns the last report when stopped."""

    grade: Grade
    events: Callable[[], Iterator[dict[str, Any]]]
    folders: list[Path]
    console: Console
    as_json: bool = False
    #: ``--submit``'s URL, token and assignment: each run's progress goes to the class board
    #: (:mod:`grader.report.progress`).
    progress: tuple[str, str, str | None] | None = None
    on_report: Callable[[Report], None] | None = None
    recorded: list[dict[str, Any]] = field(default_factory=list)
    _changes: queue.Queue[str] = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> tuple[Report, dict[str, str]]:
        previous = signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        try:
            threading.Thread(target=self._follow_events, name="events", daemon=True).start()
            with sharing(self.progress, self.console) as hook:
                self.on_report = hook or self.on_report
                return self._loop()
        finally:
            signal.signal(signal.SIGINT, previous)

    def _loop(self) -> tuple[Report, dict[str, str]]:
        report, titles = self.grade(list(self.recorded))
        self._show(report, titles)
        state = folder_state(self.folders)
        with Live(self._view(report, titles), console=self.console, auto_refresh=False) as live:
            while not self._stop.is_set():
                changed = self._wait_for_change(state)
                if changed is None:
                    continue
                state = folder_state(self.folders)
                report, titles = self.grade(list(self.recorded))
                self._show(report, titles)
                live.update(self._view(report, titles), refresh=True)
        return report, titles

    def _wait_for_change(self, state: tuple[tuple[str, int, int], ...]) -> str | None:
        """A change (after the burst it belongs to settles), or None after a quiet second."""
        try:
            what = self._changes.get(timeout=POLL)
        except queue.Empty:
            # a saved file is seen up to a second late already: no need to wait for more
            return None if folder_state(self.folders) == state else "files"
        started = time.monotonic()
        while time.monotonic() - started < LONGEST_BURST:
            try:
                self._changes.get(timeout=SETTLE)
            except queue.Empty:
                break
        return what

    def _follow_events(self) -> None:
        """Record every event as it happens; queue the students' changes."""
        try:
            for event in self.events():
                self.recorded.append(event)
                if is_students_change(event):
                    self._changes.put("engine")
        except Exception:  # the engine went away: the folders are still watched
            return

    def _show(self, report: Report, titles: dict[str, str]) -> None:
        """With --json, one line per grading run: when, and each check's status."""
        if self.on_report is not None:
            self.on_report(report)
        if self.as_json:
            line = {
                "at": time.time(),
                "score": report.score,
                "checks": {r.id: r.status for r in report.results},
            }
            print(json.dumps(line), flush=True)

    def _view(self, report: Report, titles: dict[str, str]) -> Group:
        footer = Text(
            f"Watching for your next step since {time.strftime('%H:%M:%S')}; "
            "Ctrl-C stops and writes the report.",
            style="dim",
        )
        if self.as_json:
            return Group(footer)
        return Group(report_view(report, titles), footer)
