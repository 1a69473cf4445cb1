"""Where ``grade finish`` and ``reset`` find a lab's files (grader.labtools.disks): ``~`` is
the home of the machine the lab was done on, and the home itself, ``/`` and what holds the
reports are never removed."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from grader.labtools.disks import LocalDisk, RemoteDisk


def test_a_local_disk_removes_a_declared_folder_and_keeps_the_home(tmp_path: Path) -> None:
    data = tmp_path / ".local" / "share"
    data.mkdir(parents=True)
    disk = LocalDisk(tmp_path, keep=(data,))
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "Dockerfile").write_text("FROM alpine\n")
    path = disk.path("~/hello")
    assert path == PurePosixPath(tmp_path / "hello")
    assert disk.present(path) and not disk.kept(path)
    assert disk.remove(path) is None
    assert not disk.present(path)
    assert disk.kept(disk.path("~")) and disk.kept(disk.path("/"))
    assert disk.kept(disk.path("~/.local"))  # holds the reports and the outbox


def test_a_remote_disks_paths_are_under_the_remote_home() -> None:
    disk = RemoteDisk(host=None, home=PurePosixPath("/home/ada"))
    assert disk.path("~/hello") == PurePosixPath("/home/ada/hello")
    assert disk.path("/srv/lab") == PurePosixPath("/srv/lab")
