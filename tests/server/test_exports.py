"""Both CSV exports attacked with roster values that spreadsheets run as formulas, and
course slugs that broke the download's header (issue 11, finding 6).

The web export is fetched over real HTTP from gunicorn (a header that cannot be encoded
is a 500 there, not in Flask's test client); the CLI's is ``grades export``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import requests
from flask import Flask

from devlab.server.enrolment import app_config, migrated_sqlite
from devlab.server.services import Gunicorn
from webhook import create_app
from webhook.auth import hash_password
from webhook.export import FORMULA_STARTS, cell
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Course, Instructor, Student

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
USER, PASSWORD = "exporter", "an exporter's password"
SLUGS = ('quote"slug', "курс-2026", "späť;x")
#: roster id, name, email: each a formula some spreadsheet would run
ATTACKS = (
    ("=1+1", '=HYPERLINK("https://evil.example","click")', "a@example.edu"),
    ("+41", "@SUM(A1:A9) Name", "-2+3@example.edu"),
    ("-cmd", "\tTabbed Name", "=cmd|' /C calc'!A0@example.edu"),
    ("\r1", "+Plus Name", "@at@example.edu"),
)


def seed(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            admin = Instructor(username=USER, password_hash=hash_password(PASSWORD), is_admin=True)
            session.add(admin)  # sees every course (webhook.access)
            for slug in SLUGS:
                course = Course(slug=slug, name="=Course name")
                session.add(course)
                session.flush()
                for n, (student_id, name, email) in enumerate(ATTACKS):
                    session.add(
                        Student(course_id=course.id, student_id=student_id, name=name,
                                email=email, token_hash=f"{slug}-{n}".encode().hex()[:64])
                    )  # fmt: skip
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gunicorn, str]]:
    root = tmp_path_factory.mktemp("exports")
    url = migrated_sqlite(root / "grader.sqlite")
    seed(url)
    env = {
        "GRADER_DATABASE_URL": url,
        "GRADER_INSTANCE_PATH": str(root / "instance"),
        "GRADER_SECRET_KEY": "exports test key",
    }
    with Gunicorn(env, workers=2, log=root / "gunicorn.log") as gunicorn:
        yield gunicorn, url


def assert_no_formula(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for value in row:
            assert not value.startswith(FORMULA_STARTS), (value, row)
    return rows


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("fmt", ["canvas", "moodle"])
def test_the_web_export_downloads_under_any_slug_with_no_formula(
    server: tuple[Gunicorn, str], slug: str, fmt: str
) -> None:
    gunicorn, _ = server
    with requests.Session() as http:
        token = CSRF.search(http.get(f"{gunicorn.url}/login", timeout=10).text)
        assert token is not None
        logged = http.post(
            f"{gunicorn.url}/login",
            data={"username": USER, "password": PASSWORD, "csrf_token": token[1]},
            allow_redirects=False,
            timeout=10,
        )
        assert logged.status_code == 302
        response = http.get(
            f"{gunicorn.url}/gradebook/{quote(slug, safe='')}/export.csv",
            params={"format": fmt},
            timeout=10,
        )
    assert response.status_code == 200, response.text[:300]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    exact = re.search(r"filename\*=UTF-8''([^;]+)", disposition)
    assert exact is not None and unquote(exact[1]) == f"{slug}-{fmt}.csv"
    plain = re.search(r'filename="([^"]*)"', disposition)
    assert plain is not None and plain[1].isascii() and plain[1].endswith(f"-{fmt}.csv")
    rows = assert_no_formula(response.content.decode("utf-8"))
    ids = {row[2] if fmt == "canvas" else row[0] for row in rows}
    assert {"'=1+1", "'+41", "'-cmd", "'\r1"} <= ids


@pytest.mark.parametrize("fmt", ["canvas", "moodle"])
def test_the_cli_export_has_no_formula(
    server: tuple[Gunicorn, str], fmt: str, tmp_path: Path
) -> None:
    _, url = server
    app: Flask = create_app(app_config(url))
    try:
        result = app.test_cli_runner().invoke(
            args=["grades", "export", SLUGS[0], "--format", fmt, "-o", str(tmp_path / "g.csv")]
        )
        assert result.exit_code == 0, result.output
        text = (tmp_path / "g.csv").read_text("utf-8")
        rows = assert_no_formula(text)
        assert any(value.startswith("'=HYPERLINK") for row in rows for value in row)
        header = rows[0]
        assert header[-1] == "'=Course name lab"
    finally:
        app.extensions["grader_db"].dispose()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann", "Ann"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_the_owasp_rule(value: str, written: str) -> None:
    assert cell(value) == written
