"""SQLite is for one machine: a second machine's server on the same database file is refused.

Several gunicorn workers, ``grade-server`` commands and containers of one machine share a
SQLite file safely (its locks and WAL index are the kernel's). Two machines sharing it over a
network file system do not: NFS's locks are unreliable and SQLite's WAL needs shared memory,
so concurrent writers corrupt the file. Several app nodes need PostgreSQL (docs/server.md).

**The rule.** The machine that opens the file first writes an owner file beside it
(``grader.sqlite-host``, next to SQLite's own ``-wal`` and ``-shm``): its host name and the
running kernel's boot id. A process is on the owner's machine when either matches: the same
host name (the machine rebooted: a new boot id, written down) or the same boot id (a
container on the machine: its own host name, the host's kernel). Neither: another machine,
refused with one line (``grade-server`` exits 7, as for every configuration error). A
database moved to a new machine for good is taken over by deleting the owner file, as the
line says.

Where the owner file cannot be written (a read-only folder), nothing is refused here: SQLite
then cannot write either, and says so itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

SUFFIX = "-host"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class OtherMachine(Exception):
    """The SQLite database belongs to another machine (the message is the one line)."""


@dataclass(frozen=True)
class Machine:
    host: str
    boot: str

    def same_as(self, other: Machine) -> bool:
        return self.host == other.host or (bool(self.boot) and self.boot == other.boot)

    def text(self) -> str:
        return f"{self.host}\n{self.boot}\n"

    @classmethod
    def parse(cls, text: str) -> Machine:
        host, boot = [*text.splitlines(), "", ""][:2]
        return cls(host.strip(), boot.strip())


def this_machine() -> Machine:
    """This process's host name and the running kernel's boot id (empty where unknown)."""
    boot = ""
    with contextlib.suppress(OSError):
        boot = BOOT_ID.read_text().strip()
    return Machine(socket.gethostname(), boot)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; ``None`` for another database or one in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).resolve()


def claim(url: str, machine: Machine | None = None) -> None:
    """Make this machine the owner of ``url``'s SQLite file, or raise :class:`OtherMachine`
    when another machine is."""
    database = sqlite_file(url)
    if database is None:
        return
    machine = machine or this_machine()
    owner_file = database.with_name(database.name + SUFFIX)
    try:
        owner = Machine.parse(owner_file.read_text("utf-8"))
    except FileNotFoundError:
        _write(owner_file, machine, replace=False)
        return
    except (OSError, UnicodeDecodeError):
        return  # unreadable here: SQLite's own error comes first
    if not owner.same_as(machine):
        raise OtherMachine(
            f"{database} is the SQLite database of host {owner.host!r}, and this is host "
            f"{machine.host!r}: SQLite is for one machine (several app nodes need PostgreSQL, "
            f"see docs/server.md); if this machine replaces {owner.host!r}, delete {owner_file}"
        )
    if owner.host == machine.host and owner.boot != machine.boot:
        _write(owner_file, machine, replace=True)  # rebooted: its new boot id


def _write(path: Path, machine: Machine, *, replace: bool) -> None:
    """Write the owner file whole (aside, then linked or renamed into place), owned like its
    folder; silently nothing where the folder cannot be written."""
    if not path.parent.is_dir():
        return  # SQLite makes the file (and the engine its folder) when it first connects
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(machine.text())
        os.chmod(temporary, 0o644)
        folder = path.parent.stat()
        if os.geteuid() == 0 and folder.st_uid != 0:
            os.chown(temporary, folder.st_uid, folder.st_gid)
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # FileExistsError: another process claimed it first
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
