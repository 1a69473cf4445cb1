"""Every 500 and traceback of issue 11 (findings 7 and 8), now the right answer: a 400 for
a report dated at the calendar's edge (and counted by the rate limiter), a 503 page for
the gradebook and login when the database is not ready, one line and a documented exit
code from the CLI, and a secret key that the server's own user can read.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devlab.server.enrolment import INSTRUCTOR, Classroom, app_config, enrol, migrated_sqlite
from devlab.server.reports import Lab, make_report, report_xml
from devlab.server.services import free_port
from webhook import create_app
from webhook.cli.errors import EXIT_BAD_INPUT, EXIT_CONFIG, EXIT_DATABASE

from .windows import within_one_window

XML = {"Content-Type": "application/xml"}
REPO = Path(__file__).resolve().parents[2]

EDGES = [
    "9999-12-31T23:59:59",
    "9999-12-31T23:30:00+00:00",
    "9999-12-31T22:30:00-01:00",
    "0001-01-01T00:00:00",
    "0001-01-01T01:30:00+01:00",
    "0001-01-01T00:30:00+01:00",
]


# --- a report at the calendar's edge --------------------------------------------------------


@pytest.fixture
def limited(database_url: str) -> Iterator[tuple[FlaskClient, Classroom]]:
    app = create_app(app_config(database_url, RATE_LIMIT="3/minute"))
    classroom = enrol(database_url)
    within_one_window(60, needed=10)
    yield app.test_client(), classroom
    app.extensions["grader_db"].dispose()


def test_a_report_created_at_the_calendars_edge_is_a_400_and_counted(
    limited: tuple[FlaskClient, Classroom],
) -> None:
    client, classroom = limited
    codes = []
    for created in EDGES:
        response = client.post(
            "/api/v1/submissions",
            data=report_xml(created=created),
            headers={**XML, **classroom.bearer("ann")},
        )
        codes.append(response.status_code)
        if response.status_code == 400:
            assert response.json["error"] == "bad_report"
            assert "created" in response.json["reason"]
    assert codes == [400, 400, 400, 429, 429, 429]


def test_evidence_dated_at_the_calendars_edge_is_flagged_not_a_500(
    limited: tuple[FlaskClient, Classroom],
) -> None:
    client, classroom = limited
    report = make_report(host=Lab())
    edge = "0001-01-01T00:00:00+01:00"
    results = tuple(
        r.__class__(**{**r.__dict__, "evidence": tuple(
            e.__class__(**{**e.__dict__, "created": edge}) if e.created else e
            for e in r.evidence
        )})
        for r in report.results
    )  # fmt: skip
    response = client.post(
        "/api/v1/submissions",
        data=report_xml(report.__class__(**{**report.__dict__, "results": results})),
        headers={**XML, **classroom.bearer("bob")},
    )
    assert response.status_code == 201, response.json
    assert "bad_evidence" in response.json["flags"]


# --- the gradebook and login when the database is not ready ---------------------------------


def unmigrated(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.sqlite'}"


def unreachable(tmp_path: Path) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=2"


def read_only(tmp_path: Path) -> str:
    path = tmp_path / "ro.sqlite"
    enrol(migrated_sqlite(path))
    with sqlite3.connect(path) as connection:  # out of WAL: a read-only open needs no -shm
        connection.execute("PRAGMA journal_mode=DELETE")
    return f"sqlite:///file:{path}?mode=ro&uri=true"


@pytest.fixture(params=[unmigrated, unreachable, read_only])
def not_ready(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.chdir(tmp_path)  # a file: URL's folder is made relative to here
    app = create_app(app_config(request.param(tmp_path)))
    yield app
    app.extensions["grader_db"].dispose()


def page_says_not_ready(response: object) -> None:
    assert response.status_code == 503  # type: ignore[attr-defined]
    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "database is not ready" in text
    assert "Traceback" not in text
    assert response.headers["Retry-After"]  # type: ignore[attr-defined]


def test_login_and_gradebook_answer_a_503_page(not_ready: Flask) -> None:
    client = not_ready.test_client()
    form = client.get("/login")
    assert form.status_code == 200  # the form itself needs no database
    token = form.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    user, _ = INSTRUCTOR
    page_says_not_ready(
        client.post("/login", data={"username": user, "password": "wrong!", "csrf_token": token})
    )
    page_says_not_ready(client.get("/gradebook/docker-101/", auth=(user, "whatever password")))


# --- the CLI: one line and its exit code ------------------------------------------------------


def cli(
    *args: str, env: dict[str, str], stdin: str = "", cwd: Path | None = None
) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-c", "from webhook.console import main; main()", *args],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or "/",
    )
    return result.returncode, result.stderr


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_an_unknown_revision_is_one_line_and_exit_5(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    migrated_sqlite(path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dcafe'")
    env = {"GRADER_DATABASE_URL": f"sqlite:///{path}", "GRADER_INSTANCE_PATH": str(tmp_path)}
    code, stderr = cli("db", "upgrade", env=env)
    assert code == EXIT_DATABASE
    assert "f00dcafe" in one_line(stderr) and "newer grade-server" in stderr


def test_a_read_only_database_is_one_line_and_exit_5(tmp_path: Path) -> None:
    url = read_only(tmp_path)
    env = {"GRADER_DATABASE_URL": url, "GRADER_INSTANCE_PATH": str(tmp_path / "i")}
    # (cwd: the folder of a file: URL is made relative to it)
    code, stderr = cli("course", "create", "new-course", "New", env=env, cwd=tmp_path)
    assert code == EXIT_DATABASE
    assert "readonly" in one_line(stderr)


def test_a_roster_field_over_128_kib_is_one_line_and_exit_4(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "g.sqlite")
    enrol(url)
    env = {"GRADER_DATABASE_URL": url, "GRADER_INSTANCE_PATH": str(tmp_path / "i")}
    roster = "student_id,name\nann2,Ann\nzed," + "x" * (130 * 1024) + "\n"
    code, stderr = cli("roster", "enrol", "docker-101", "-", env=env, stdin=roster)
    assert code == EXIT_BAD_INPUT
    assert one_line(stderr) == "Error: -:3: a field is longer than 128 KiB"


# --- the instance files and the server's user -------------------------------------------------


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder that another user (nobody) may traverse."""
    root = Path(tempfile.mkdtemp(prefix="grader-users-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def create_app_as(user: str, env: dict[str, str]) -> str:
    """``create_app`` in a child process that became ``user``: "ok" or the error's text.

    Forked rather than run, so that the child needs to read nothing but the instance."""
    import webhook.auth
    import webhook.gradebook  # noqa: F401

    account = pwd.getpwnam(user)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        said = "ok"
        try:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            create_app(environ=env)
        except BaseException as exc:
            said = f"{type(exc).__name__}: {exc}"
        os.write(writer, said.encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        said = pipe.read().decode()
    os.waitpid(pid, 0)
    return said


def grade_server_as(user: str, env: dict[str, str], *args: str) -> tuple[int, str]:
    """``grade-server *args`` in a child process that became ``user``: (exit code, stderr).

    Forked, as :func:`create_app_as` is: that user may not read the repository's venv (a
    clone in a private temporary folder), so everything ``main`` looks for is imported here,
    by root, first."""
    import alembic  # noqa: F401
    import standardwebhooks  # noqa: F401
    import waitress  # noqa: F401

    import webhook.cli.group
    import webhook.serve  # noqa: F401
    from webhook.console import main

    account = pwd.getpwnam(user)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.dup2(writer, 2)
            sys.stderr = os.fdopen(writer, "w")  # not pytest's capture
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            os.environ.update(env)
            sys.argv = ["grade-server", *args]
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 99
        sys.stderr.flush()
        os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        stderr = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), stderr


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switches users: CI runs as root")


@needs_root
def test_a_secret_key_made_by_root_is_readable_by_the_servers_user(shared_tmp: Path) -> None:
    nobody = pwd.getpwnam("nobody")
    instance = shared_tmp / "instance"
    instance.mkdir()
    os.chown(instance, nobody.pw_uid, nobody.pw_gid)
    url = migrated_sqlite(shared_tmp / "g.sqlite")
    env = {"GRADER_DATABASE_URL": url, "GRADER_INSTANCE_PATH": str(instance)}
    # the instructor sets up as root: the key is made then
    code, stderr = cli("course", "create", "c1", "C1", env=env)
    assert code == 0, stderr
    key = instance / "secret_key"
    assert key.stat().st_uid == nobody.pw_uid
    # the server's user starts the app and reads the same key
    assert create_app_as("nobody", env) == "ok"


@needs_root
def test_an_unreadable_instance_file_says_which_file_and_which_user(shared_tmp: Path) -> None:
    instance = shared_tmp / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text("a key only root may read")
    (instance / "secret_key").chmod(0o600)
    env = {
        "GRADER_DATABASE_URL": f"sqlite:///{shared_tmp / 'g.sqlite'}",
        "GRADER_INSTANCE_PATH": str(instance),
    }
    said = create_app_as("nobody", env)
    assert said.startswith("ConfigError: ")
    assert f"cannot read {instance / 'secret_key'} as user nobody" in said
    assert "\n" not in said


def test_gunicorn_with_the_recipes_config_says_a_bad_setting_in_one_line(
    tmp_path: Path,
) -> None:
    """deploy/gunicorn.conf.py checks the app once in the master (workers would each print
    a traceback and gunicorn would retry them)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GRADER_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}",
        "GRADER_INSTANCE_PATH": str(tmp_path / "instance"),
        "GRADER_RATE_LIMIT": "lots",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{free_port()}"],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "grade-server: configuration: GRADER_RATE_LIMIT='lots': expected "
        "N/second|minute|hour|day or N/<seconds>s"
    )


def test_a_bare_gunicorn_says_an_unreadable_secret_key_in_one_line(tmp_path: Path) -> None:
    """Without the recipe's config (its on_starting hook), the worker building the app says
    it: one line, no worker traceback, and gunicorn stops (exit 4, "App failed to load")."""
    instance = tmp_path / "instance"
    (instance / "secret_key").mkdir(parents=True)  # unreadable as a file, even by root
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GRADER_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}",
        "GRADER_INSTANCE_PATH": str(instance),
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}",
         "webhook:create_app()"],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    said = result.stderr + result.stdout
    assert result.returncode != 0, said
    assert "Traceback" not in said
    lines = [line for line in said.splitlines() if "grade-server: configuration:" in line]
    assert len(lines) == 1, said
    assert lines[0].startswith(
        f"grade-server: configuration: cannot read {instance / 'secret_key'} as user "
    ), said


def test_a_read_only_instance_folder_is_one_line_naming_it(shared_tmp: Path) -> None:
    """No secret key yet and a folder the server's user cannot write in: the app factory
    raises a ConfigError naming the folder, and ``grade-server`` says it in one line, exit 7.
    (Root writes anywhere: as root, both run as nobody.)"""
    instance = shared_tmp / "instance"
    instance.mkdir()
    instance.chmod(0o555)
    env = {
        "GRADER_DATABASE_URL": f"sqlite:///{shared_tmp / 'g.sqlite'}",
        "GRADER_INSTANCE_PATH": str(instance),
    }
    as_root = os.geteuid() == 0
    if as_root:
        said = create_app_as("nobody", env)
    else:
        try:
            create_app(environ=env)
            said = "ok"
        except Exception as exc:
            said = f"{type(exc).__name__}: {exc}"
    assert said.startswith(f"ConfigError: cannot write the session key in {instance} as user ")
    assert "\n" not in said
    code, stderr = (
        grade_server_as("nobody", env, "course", "list")
        if as_root
        else cli("course", "list", env=env)
    )
    assert code == EXIT_CONFIG, stderr
    line = one_line(stderr)
    assert f"cannot write the session key in {instance} as user " in line, line
    assert not (instance / "secret_key").exists()
