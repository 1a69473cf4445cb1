"""A zygote for ``grade --hosts``: one process loads the grader once and forks a grader per host.

A fresh ``grade`` process spends about two seconds of CPU before it says a word to its
host: Python's imports, then pytest finding its plugins and compiling them and the lab's
checks with their assertions rewritten (every time: ``grade`` writes no bytecode). With a
class graded eight at a time on a two-core laptop, that start-up, not the hosts, is what
the run waits for. Here it is paid once: the worker imports the grader, collects the
lab's checks once (which loads pytest, its plugins and the checks), and then forks one
grader per host from that warm state. Each fork runs ``grade ARGV`` exactly as the
command line would (``grader.cli.main``, the same options and exit status), in a session
of its own with its stdout and stderr in files, so the batch can stop it, and the ``ssh``
it started, at the host's time limit. The CLI imports the class run's side
(:mod:`grader.batch.pool`), never this module, which runs as its own process: the worker
importing the CLI closes no circle.

The worker itself stays single-threaded (forking a threaded process is unsafe) and talks
JSON lines over its stdin and stdout with :class:`~grader.batch.pool.GraderPool`, its
side in the batch:

- in: ``{"id", "argv", "env", "stdout", "stderr"}``: start a grader;
- out: ``{"id", "pid"}`` as each grader starts and ``{"id", "exit"}`` as it ends (a
  negative exit is the signal that stopped it).

Requests sent while the worker warms up wait in its stdin: a host's time limit counts
from its request, so that start-up is part of the first hosts' limit (as a fresh
process's own start-up was).

It exits when its stdin closes; graders still running are left to finish on their own.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

#: The keys of a request; all are required.
REQUEST_KEYS = frozenset({"id", "argv", "env", "stdout", "stderr"})
#: What a grader runs: ``grade``'s own entry point, arguments in, exit status out.
GradeMain = Callable[[list[str]], int]


def warm_up(lab_name: str | None) -> None:
    """Load everything a grader would load on its way to its host, once.

    Best effort: whatever fails here fails again in each grader, which reports it as
    ``grade`` would (a lab that cannot load is the grader's one-line error, not ours).
    """
    with contextlib.suppress(Exception):
        import testinfra.backend
        import testinfra.modules

        testinfra.backend.get_backend_class("ssh")
        for name in testinfra.modules.modules:  # host.file, host.run...: loaded on first use
            testinfra.modules.get_module_class(name)

        import grader.cli  # noqa: F401  (docker-py, click, rich, the report writer)
        from grader.run.labs import load_lab
        from grader.run.runner import collect_checks

        collect_checks(load_lab(lab_name))  # pytest, its plugins and the checks, compiled
    gc.collect()
    gc.freeze()  # what is loaded now stays shared with every fork, and out of their GC


def parse_request(line: bytes) -> dict[str, Any]:
    """One request line, checked; ValueError when it is not one."""
    request = json.loads(line)
    if not isinstance(request, dict) or set(request) != REQUEST_KEYS:
        raise ValueError(f"a request has exactly the keys {sorted(REQUEST_KEYS)}")
    if not isinstance(request["argv"], list) or not all(
        isinstance(a, str) for a in request["argv"]
    ):
        raise ValueError("argv is a list of strings")
    env = request["env"]
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ValueError("env maps names to strings")
    return request


def _grade_main(argv: list[str]) -> int:
    from grader.cli import main

    return main(argv)


def run_grader(request: dict[str, Any], close_fds: tuple[int, ...], grade: GradeMain) -> int:
    """In a fresh fork: become ``grade ARGV`` with the request's environment and files."""
    os.setsid()  # Ctrl-C at the terminal reaches the batch, which stops us itself
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd in close_fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    for target, path in ((1, request["stdout"]), (2, request["stderr"])):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # read $TMPDIR again: each host's ssh files go where asked
    sys.argv = ["grade", *request["argv"]]
    try:
        return grade(request["argv"])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # a bug: said as the interpreter would say it, never silent
        traceback.print_exc()
        return 1


def _answer(out: BinaryIO, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the batch is gone: nobody left to tell
        out.write(json.dumps(message).encode() + b"\n")


def serve(requests: BinaryIO, answers: BinaryIO, grade: GradeMain = _grade_main) -> None:
    """Fork a grader per request until ``requests`` closes; report starts and exits."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake select() up
    selector = selectors.DefaultSelector()
    selector.register(requests, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    children: dict[int, object] = {}
    pending = b""
    own_fds = (requests.fileno(), answers.fileno(), wake_read, wake_write, selector.fileno())
    while True:
        for key, _ in selector.select():
            if key.fileobj == wake_read:
                os.read(wake_read, 4096)
                continue
            chunk = os.read(requests.fileno(), 65536)
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in filter(None, lines):
                try:
                    request = parse_request(line)
                except ValueError as exc:
                    _answer(answers, {"error": str(exc)})
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = run_grader(request, own_fds, grade)
                    finally:
                        with contextlib.suppress(Exception):
                            sys.stdout.flush()
                            sys.stderr.flush()
                        os._exit(code if 0 <= code <= 255 else 1)
                children[pid] = request["id"]
                _answer(answers, {"id": request["id"], "pid": pid})
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            _answer(answers, {"id": children.pop(pid), "exit": os.waitstatus_to_exitcode(status)})


def main(argv: list[str] | None = None, *, grade: GradeMain | None = None) -> int:
    """``python -m grader.batch.worker [LAB]``: warm up for LAB, then serve requests.

    ``grade`` stands in for ``grade``'s entry point (and skips the warm-up) in tests.
    """
    args = sys.argv[1:] if argv is None else argv
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    answers = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)  # graders read nothing, as with stdin=DEVNULL
    os.dup2(2, 1)  # a stray print goes to stderr, never into the answers
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch decides when we stop
    if grade is None:
        warm_up(args[0] if args else None)
    serve(requests, answers, grade or _grade_main)
    return 0


if __name__ == "__main__":
    sys.exit(main())
