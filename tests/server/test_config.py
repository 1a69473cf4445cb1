"""Configuration: one place decides, a bad value names where it came from."""

from __future__ import annotations

import sys
import types

import pytest

from webhook import create_app
from webhook.config import ConfigError, parse_rate_limit


def test_environment_overrides_defaults(tmp_path) -> None:
    app = create_app(
        environ={
            "GRADER_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite",
            "GRADER_SECRET_KEY": "k",
            "GRADER_MAX_REPORT_BYTES": "2048",
            "GRADER_RATE_LIMIT": "5/10s",
        }
    )
    assert app.config["MAX_REPORT_BYTES"] == 2048
    assert app.config["RATE_LIMIT_PARSED"] == (5, 10)
    assert app.config["DATABASE_URL"].endswith("x.sqlite")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GRADER_MAX_REPORT_BYTES": "-1"}, "GRADER_MAX_REPORT_BYTES='-1'"),
        ({"GRADER_RATE_LIMIT": "fast"}, "GRADER_RATE_LIMIT='fast'"),
        (
            {"GRADER_SIGNING_SECRET": "whsec_"},
            "GRADER_SIGNING_SECRET: not a Standard Webhooks secret",
        ),
        ({"GRADER_SIGNING_SECRET": "whsec_!!!"}, "GRADER_SIGNING_SECRET"),
        ({"GRADER_DATABASE_URL": "nonsense"}, "GRADER_DATABASE_URL: not a database URL"),
        (
            {"GRADER_RUBRIC": "/nonexistent/rubric.json"},
            "GRADER_RUBRIC: /nonexistent/rubric.json: cannot read",
        ),
        ({"GRADER_DATABASE_URL": "oracle2://x/y"}, "GRADER_DATABASE_URL: not a database URL"),
    ],
)
def test_bad_values_name_their_source(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        create_app(environ={"GRADER_SECRET_KEY": "k", **environ})


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("30/minute", (30, 60)),
        ("5/second", (5, 1)),
        ("100/hour", (100, 3600)),
        ("0/minute", (0, 60)),
    ],
)
def test_rate_limits(text: str, parsed: tuple[int, int]) -> None:
    assert parse_rate_limit(text) == parsed


def test_an_instructor_rubric_scores(tmp_path) -> None:
    import json

    from webhook.config import current_rubric

    path = tmp_path / "rubric.json"
    checks = [{"id": "alpine.hostname", "task": "task1", "points": 10}]
    path.write_text(json.dumps({"lab": "docker_beginners", "checks": checks}))
    app = create_app(environ={"GRADER_SECRET_KEY": "k", "GRADER_RUBRIC": str(path)})
    with app.app_context():
        assert current_rubric().max_score == 10


def test_the_instance_folder_can_be_moved(tmp_path) -> None:
    app = create_app(environ={"GRADER_INSTANCE_PATH": str(tmp_path / "inst")})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'grader.sqlite'}"
    assert (tmp_path / "inst" / "secret_key").read_text() == app.config["SECRET_KEY"]
    again = create_app(environ={"GRADER_INSTANCE_PATH": str(tmp_path / "inst")})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]  # every worker alike


def test_importing_the_package_needs_none_of_the_servers_packages() -> None:
    """So that grade-server's entry point can tell a student's install what to add."""
    import subprocess
    import sys

    code = (
        "import sys, webhook; "
        "print(sorted({'flask', 'sqlalchemy', 'alembic', 'standardwebhooks'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_under_gunicorn_a_bad_value_is_still_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a gunicorn process the error is also gunicorn's AppImportError (one line from the
    worker): callers that catch ConfigError still do, and its first argument is unchanged."""
    from gunicorn.errors import AppImportError

    monkeypatch.setitem(sys.modules, "gunicorn.workers.base", types.ModuleType("stand-in"))
    with pytest.raises(ConfigError) as raised:
        create_app(environ={"GRADER_SECRET_KEY": "k", "GRADER_RATE_LIMIT": "fast"})
    assert isinstance(raised.value, AppImportError)
    assert raised.value.args[0].startswith("GRADER_RATE_LIMIT='fast'")
    assert str(raised.value) == f"grade-server: configuration: {raised.value.args[0]}"
    monkeypatch.delitem(sys.modules, "gunicorn.workers.base")
    with pytest.raises(ConfigError) as plain:  # elsewhere: the plain error, as before
        create_app(environ={"GRADER_SECRET_KEY": "k", "GRADER_RATE_LIMIT": "fast"})
    assert not isinstance(plain.value, AppImportError)
