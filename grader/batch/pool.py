"""The class run's side of the warm worker (:mod:`grader.batch.worker`): start it, ask it for
graders, stop them.

:class:`GraderPool` starts ``python -m grader.batch.worker LAB`` once, writes a JSON line
per grader to its stdin and reads each grader's pid and exit status from its stdout (the
protocol is described in the worker's module). A grader that outlives its host's time
limit is stopped with everything it started, and the ssh masters it left behind are
closed (:func:`close_ssh_masters`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path


class Grader:
    """One host's grader in the pool: its pid once forked, its exit status once it ends.

    ``exit`` is None when the worker stopped before telling (the grader is then stopped
    too). A grader asked to stop before it was even forked is stopped as it starts.
    """

    def __init__(self, grader_id: str) -> None:
        self.id = grader_id
        self.pid: int | None = None
        self.exit: int | None = None
        self.stopping = False
        self.ended = threading.Event()

    def wait(self, timeout: float | None) -> bool:
        """True once the grader has ended, False if ``timeout`` came first."""
        return self.ended.wait(timeout)

    def stop(self) -> None:
        """Stop the grader and all it started (SIGTERM, SIGKILL 5 s later); wait for it."""
        self.stopping = True
        if self.pid is None or self.ended.is_set():
            return
        _signal_group(self.pid, signal.SIGTERM)
        if not self.ended.wait(5):
            _signal_group(self.pid, signal.SIGKILL)
            self.ended.wait(5)


class GraderPool:
    """The worker process, started warm, and the graders it forks for the batch."""

    def __init__(
        self, lab: str | None, *, log: Path | None = None, command: Sequence[str] = ()
    ) -> None:
        """Start the worker for ``lab``; ``command`` replaces its command line (tests)."""
        command = command or [sys.executable, "-m", "grader.batch.worker", *([lab] if lab else [])]
        with open(log or os.devnull, "ab") as stderr:
            self._process = subprocess.Popen(
                list(command),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,  # Ctrl-C reaches the batch, which stops us itself
            )
        self._graders: dict[str, Grader] = {}
        self._lock = threading.Lock()  # the graders and whether the worker is gone
        self._writing = threading.Lock()  # one request at a time into its stdin
        self._gone = False
        self._reader = threading.Thread(target=self._read_answers, name="grader-pool", daemon=True)
        self._reader.start()

    def start(
        self, grader_id: str, argv: Sequence[str], env: Mapping[str, str], out: Path, err: Path
    ) -> Grader:
        """Ask for ``grade ARGV`` with ``env``, its stdout in ``out`` and stderr in ``err``.

        The environment travels through the worker's stdin, never on a command line.
        """
        grader = Grader(grader_id)
        request = {"id": grader_id, "argv": list(argv), "env": dict(env)}
        request |= {"stdout": str(out), "stderr": str(err)}
        line = json.dumps(request).encode() + b"\n"
        with self._lock:
            gone = self._gone
            self._graders[grader_id] = grader
        try:
            if gone or self._process.stdin is None:
                raise BrokenPipeError
            with self._writing:  # not under _lock: a full pipe must not stop the answers
                self._process.stdin.write(line)
                self._process.stdin.flush()
        except (BrokenPipeError, ValueError):
            with self._lock:
                self._graders.pop(grader_id, None)
            grader.ended.set()
        return grader

    def close(self) -> None:
        """Let the worker go (its stdin closes) and stop whatever grader is still running."""
        with self._lock:
            running = [g for g in self._graders.values() if not g.ended.is_set()]
        with self._writing, contextlib.suppress(OSError, ValueError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        for grader in running:
            grader.stop()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(5)
        if self._process.stdout is not None and not self._reader.is_alive():
            self._process.stdout.close()

    def _read_answers(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                grader = self._graders.get(str(answer.get("id")))
            if grader is None:
                continue
            if "pid" in answer:
                grader.pid = int(answer["pid"])
                if grader.stopping:  # stopped while it was being forked
                    _signal_group(grader.pid, signal.SIGKILL)
            elif "exit" in answer:
                grader.exit = int(answer["exit"])
                with self._lock:
                    self._graders.pop(grader.id, None)
                grader.ended.set()
        with self._lock:  # the worker is gone: whatever it forked cannot be waited for
            self._gone = True
            orphans = list(self._graders.values())
            self._graders.clear()
        for grader in orphans:
            if grader.pid is not None:
                _signal_group(grader.pid, signal.SIGKILL)
            grader.ended.set()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def close_ssh_masters(folder: Path) -> None:
    """End the ssh master connections a stopped grader left under ``folder``.

    ssh puts a master in the background of its own session (``ControlPersist``), out of
    reach of the grader's process group: a grader stopped at its time limit never got to
    close it.
    """
    ssh = shutil.which("ssh")
    if ssh is None:
        return
    for control in folder.glob("grade-ssh-*/*"):
        if not control.is_socket() or control.name == "docker.sock":
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [ssh, "-F", os.devnull, "-o", f"ControlPath={control}", "-O", "exit", "grade"],
                capture_output=True,
                timeout=5,
                stdin=subprocess.DEVNULL,
                check=False,
            )
