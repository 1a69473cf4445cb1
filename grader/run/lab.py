"""The one object a check receives: the engine's facts, the target's files, the settings, and
shared probes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cached_property
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from grader.engine import background
from grader.engine.state import EngineState
from grader.run.activity import doing

if TYPE_CHECKING:
    from grader.targets.target import Target

T = TypeVar("T")
#: The lab's own settings dataclass (``lab.settings.dockerid``).
S = TypeVar("S")


class ProbeTimeout(Exception):
    """A probe did not finish within the check's time limit."""


#: What the current check, passing, has to tell the student (see :meth:`Lab.note`).
_notes: list[str] = []


def begin_notes() -> None:
    """A new check starts: forget what the previous one noted."""
    _notes.clear()


def notes_taken() -> str:
    """What the current check noted, as its message."""
    return "; ".join(_notes)


def _memory_folder_of(target: Target) -> Path | None:
    """Where this run remembers engine events: the user's data folder, when grading this
    machine (a TA grading a student's over SSH keeps no memory of it)."""
    from grader.engine.remembered import memory_folder
    from grader.targets.target import LocalTarget

    return memory_folder() if isinstance(target, LocalTarget) else None


class Lab(Generic[S]):
    """The student's Docker host as the checks see it, with the lab's own settings.

    Probes (throwaway containers, ``docker exec``, HTTP) are started once, in the
    background, and shared: a check that needs one waits only for that one.
    """

    def __init__(
        self,
        target: Target,
        settings: S,
        *,
        check_timeout: float,
        selected_tasks: frozenset[str] | None = None,
        also_seen: Sequence[dict[str, Any]] = (),
        memo: dict[Hashable, Any] | None = None,
    ) -> None:
        self.target = target
        self.client = target.docker()
        self.settings = settings
        self.check_timeout = check_timeout
        self.state = EngineState(
            self.client, also_seen=also_seen, memory_folder=_memory_folder_of(target)
        )
        self.selected_tasks = selected_tasks
        self._probes: dict[str, Future[Any]] = {}
        self._memo: dict[Hashable, Any] = {} if memo is None else memo
        self._lock = threading.Lock()

    def grades(self, task: str) -> bool:
        """True when this run grades ``task`` (every task when none were named)."""
        return self.selected_tasks is None or task in self.selected_tasks

    @cached_property
    def host(self) -> Any:
        """The target's testinfra host: its files (``lab.host.file(path)``) and commands."""
        return self.target.host()

    def read_file(self, path: PurePath) -> bytes | None:
        """A file on the lab's machine (here or over SSH), or None when it is not a file."""
        return self.target.read_file(path)

    def web(self, port: int) -> tuple[str, int]:
        """Where to connect to reach ``port`` as a browser on the lab's machine would."""
        return self.target.web(port)

    def web_url(self, port: int) -> str:
        """That place as the student would type it (``http://127.0.0.1/``), for messages."""
        return self.target.web_url(port)

    @property
    def where(self) -> str:
        """The lab's machine, for messages: "this machine" or ``user@host``."""
        return self.target.name

    def note(self, text: str) -> None:
        """Tell the student something about the check that is passing (``seen on ...``):
        a passed check's message."""
        if text not in _notes:
            _notes.append(text)

    def remember(self, key: Hashable, fn: Callable[[], T]) -> T:
        """``fn()``, computed once per ``key``: for what depends on ``key`` alone (what an
        image prints, by image id). ``grade --watch`` keeps these between its runs."""
        with self._lock:
            if key in self._memo:
                return cast(T, self._memo[key])
        value = fn()
        with self._lock:
            self._memo[key] = value
        return value

    def start_probe(self, name: str, fn: Callable[[], T]) -> Future[T]:
        """Start ``fn`` in the background under ``name``, once per run."""
        with self._lock:
            if name not in self._probes:
                self._probes[name] = background.start(fn, name)
            return self._probes[name]

    def probe(self, name: str, fn: Callable[[], T]) -> T:
        """The result of probe ``name``, starting it if nobody did yet."""
        future = self.start_probe(name, fn)
        try:
            with doing(name):
                return future.result(timeout=self.check_timeout)
        except FutureTimeout:
            raise ProbeTimeout(f"timed out after {self.check_timeout:g} s while {name}") from None
