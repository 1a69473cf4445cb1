"""The pieces that turn a student's broken surroundings into one line (fast, no engine).

tests/engine/test_student_errors.py runs each case through the real ``grade``; these
pin the decisions: which error, and that nothing is sent or written when it happens.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.errors import GradingError, SettingsError
from grader.report.render import engine_line
from grader.report.report_json import as_json
from grader.report.submit import OutboxUnwritable, submit_report
from grader.settings import ConfigFile, usable_home, user_home, working_directory
from grader.targets.engine_choice import PROP_ENGINE_CONTEXT, PROP_ENGINE_ENDPOINT
from submissions.dialect import Report


def test_a_deleted_working_directory_is_a_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "lab"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(SettingsError, match="no longer exists") as raised:
        working_directory()
    assert raised.value.exit_code == 2 and "\n" not in str(raised.value)
    monkeypatch.chdir(tmp_path)
    assert working_directory() == tmp_path


def test_a_grade_toml_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "grade.toml").write_bytes(b'dockerid = "caf\xe9"\n')
    with pytest.raises(SettingsError, match=r"grade\.toml: not valid TOML \(not UTF-8 text\)"):
        ConfigFile.read(tmp_path)


def test_the_home_comes_from_home_else_the_account(tmp_path: Path) -> None:
    assert user_home({"HOME": str(tmp_path)}) == tmp_path
    assert user_home({}) == Path.home()  # the account's entry, as Python finds it
    assert usable_home({"HOME": str(tmp_path)}) == tmp_path


def test_a_home_that_is_missing_or_not_a_folder_is_refused(tmp_path: Path) -> None:
    for home in (tmp_path / "missing", tmp_path / "file"):
        if home.name == "file":
            home.write_text("")
        with pytest.raises(SettingsError, match=f"cannot read your home folder {home}"):
            usable_home({"HOME": str(home)})


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read any folder")
def test_an_unreadable_home_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o000)
    try:
        with pytest.raises(SettingsError, match="chmod u"):
            usable_home({"HOME": str(home)})
    finally:
        home.chmod(0o755)


class NoSession:
    """A session that must not be used: nothing may be sent when nothing could be kept."""

    def post(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("sent a report that was not kept")

    def close(self) -> None:
        pass


def test_an_outbox_that_cannot_be_written_is_one_line_and_nothing_sent(tmp_path: Path) -> None:
    blocked = tmp_path / "data"
    blocked.write_text("a file where the outbox's folder should be")
    with pytest.raises(OutboxUnwritable) as raised:
        submit_report(
            b"<testsuites/>",
            "r-1",
            url="http://127.0.0.1:9",
            token="tok-secret",
            outbox=blocked / "grade" / "outbox",
            session=NoSession(),  # type: ignore[arg-type]
        )
    message = str(raised.value)
    assert isinstance(raised.value, GradingError) and raised.value.exit_code == 2
    assert "cannot keep the report" in message and "Not a directory" in message
    assert "tok-secret" not in message and "\n" not in message
    assert blocked.read_text() == "a file where the outbox's folder should be"


def report(**properties: str) -> Report:
    return Report(
        lab="docker_beginners",
        grader_version="1",
        checks_digest="sha256:0",
        report_id="r",
        created="2026-12-02T00:00:00+00:00",
        engine_id="E",
        engine_name="vm",
        engine_version="20.10.24",
        results=(),
        extra_properties=dict(properties),
    )


def test_the_header_names_the_engine_graded() -> None:
    named = report(
        **{PROP_ENGINE_CONTEXT: "colima", PROP_ENGINE_ENDPOINT: "unix:///u/.colima/docker.sock"}
    )
    assert engine_line(named) == (
        "Engine: unix:///u/.colima/docker.sock (context colima), 20.10.24 on vm"
    )
    assert engine_line(report()) == ""  # an older report names no endpoint: no header
    doc = as_json(named)
    assert '"context": "colima"' in doc and '"endpoint": "unix:///u/.colima/docker.sock"' in doc
