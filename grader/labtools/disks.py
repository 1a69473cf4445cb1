"""The student's files, where the lab was done: this machine's disk, or a lab machine's
over SSH (``grade finish --host ssh://...``).

``finish`` and ``reset`` look for a lab's declared files (``~/hello``) and remove them
through one of these; the engine's objects go through the engine either way. A path that
is the home itself, ``/``, or holds one of ``keep`` (the reports, the outbox) is never
removed: nothing stored is lost to a careless declaration.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, Protocol


class Disk(Protocol):
    """Where a lab's declared files are: found by path, removed whole."""

    def path(self, declared: str) -> PurePosixPath:
        """``declared`` (``~`` the student's home there) as a path there."""
        ...

    def present(self, path: PurePosixPath) -> bool: ...

    def kept(self, path: PurePosixPath) -> bool:
        """Whether ``path`` is the home, ``/``, or holds something grade keeps."""
        ...

    def remove(self, path: PurePosixPath) -> str | None:
        """Remove ``path`` (a folder with what it holds); why not, or None."""
        ...


def _under(home: PurePosixPath, declared: str) -> PurePosixPath:
    if declared.startswith("~"):
        return home / declared.removeprefix("~").lstrip("/")
    return PurePosixPath(declared)


class LocalDisk:
    """This machine's files, read and removed in Python."""

    def __init__(self, home: Path, keep: tuple[Path, ...] = ()) -> None:
        self.home = home
        self.keep = keep

    def path(self, declared: str) -> PurePosixPath:
        return _under(PurePosixPath(self.home), declared)

    def present(self, path: PurePosixPath) -> bool:
        local = Path(path)
        return local.exists() or local.is_symlink()

    def kept(self, path: PurePosixPath) -> bool:
        resolved = Path(path).resolve()
        return resolved in (self.home.resolve(), Path("/")) or any(
            kept.resolve().is_relative_to(resolved) for kept in self.keep
        )

    def remove(self, path: PurePosixPath) -> str | None:
        local = Path(path)
        try:
            if local.is_dir() and not local.is_symlink():
                shutil.rmtree(local)
            else:
                local.unlink()
        except OSError as exc:
            return exc.strerror or str(exc)
        return None


class RemoteDisk:
    """A lab machine's files, through the SSH target's commands (testinfra's backend on the
    connection grading already holds). The reports and the outbox are on this machine, so
    only the remote home and ``/`` are kept there."""

    def __init__(self, host: Any, home: PurePosixPath) -> None:
        self.host = host  # a testinfra host: host.run(command)
        self.home = home

    def path(self, declared: str) -> PurePosixPath:
        return _under(self.home, declared)

    def present(self, path: PurePosixPath) -> bool:
        quoted = shlex.quote(str(path))
        return bool(self.host.run(f"test -e {quoted} || test -L {quoted}").rc == 0)

    def kept(self, path: PurePosixPath) -> bool:
        done = self.host.run(f"readlink -f -- {shlex.quote(str(path))}")
        resolved = done.stdout.strip() if done.rc == 0 else str(path)
        home = self.host.run(f"readlink -f -- {shlex.quote(str(self.home))}").stdout.strip()
        return resolved in ("/", "", str(self.home), home)

    def remove(self, path: PurePosixPath) -> str | None:
        done = self.host.run(f"rm -rf -- {shlex.quote(str(path))}")
        if done.rc != 0:
            return " ".join(str(done.stderr).split()) or f"rm exit {done.rc}"
        return None
