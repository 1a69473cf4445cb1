"""The server's configuration, decided in one place.

Precedence, lowest first: built-in defaults, the instance folder's ``config.py``,
the ``GRADER_*`` environment variables, then ``test_config``. A bad value stops
start-up with an error that names where the value came from.

The server's rubric (the JSON document it scores from, see :mod:`submissions.rubric`)
is read here once per app, from ``GRADER_RUBRIC`` or the shipped file; everything
that scores, exports or shows checks asks :func:`current_rubric` for it.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from submissions.rubric import Rubric, RubricError, load_rubric, shipped_rubric
from webhook.one_machine import OtherMachine, claim

DEFAULT_MAX_REPORT_BYTES = 128 * 1024  # a real report is about 3 KB (10 KB with evidence)
DEFAULT_RATE_LIMIT = "30/minute"
DEFAULT_SIGNATURE_TOLERANCE = 300
RUBRIC_EXTENSION = "grader_rubric"

#: environment variable → (config key, parser)
ENVIRONMENT: dict[str, str] = {
    "GRADER_DATABASE_URL": "DATABASE_URL",
    "GRADER_SECRET_KEY": "SECRET_KEY",
    "GRADER_MAX_REPORT_BYTES": "MAX_REPORT_BYTES",
    "GRADER_SIGNING_SECRET": "SIGNING_SECRET",
    "GRADER_RATE_LIMIT": "RATE_LIMIT",
    "GRADER_SIGNATURE_TOLERANCE": "SIGNATURE_TOLERANCE",
    "GRADER_RUBRIC": "RUBRIC_PATH",
    # logins (webhook.auth): failed logins per username and per address; Secure cookies
    "GRADER_LOGIN_LIMIT": "LOGIN_LIMIT",
    "GRADER_SECURE_COOKIES": "SESSION_COOKIE_SECURE",
    "GRADER_HASHING_SLOTS": "LOGIN_HASHING_SLOTS",
    "GRADER_TRUSTED_PROXIES": "TRUSTED_PROXIES",
    # the live class board (webhook.board): progress posts per student
    "GRADER_PROGRESS_RATE_LIMIT": "PROGRESS_RATE_LIMIT",
}

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+\s*s|second|minute|hour|day)\s*$")


class ConfigError(ValueError):
    """A configuration value that cannot be used."""


def for_gunicorn(exc: ConfigError) -> ConfigError:
    """``exc`` as gunicorn's worker reports it in one line, when this process runs gunicorn.

    A worker whose app factory raises prints a traceback ("Exception in worker process"),
    exits "failed to boot", and the master stops. An ``AppImportError`` it prints as one
    line instead (its traceback goes to the debug log only), exits 4 and the master stops
    ("App failed to load."). So under gunicorn the error is both: still a
    :class:`ConfigError` for callers that catch it, saying ``grade-server: configuration:``
    as ``deploy/gunicorn.conf.py`` and ``grade-server`` do. Elsewhere it is left as it is.
    """
    if "gunicorn.workers.base" not in sys.modules:
        return exc
    return _gunicorn_error()(exc.args[0] if exc.args else str(exc))


@functools.cache
def _gunicorn_error() -> type[ConfigError]:
    from gunicorn.errors import AppImportError

    class GunicornConfigError(ConfigError, AppImportError):
        def __str__(self) -> str:
            return f"grade-server: configuration: {self.args[0]}"

    return GunicornConfigError


def parse_rate_limit(value: str, *, source: str = "RATE_LIMIT") -> tuple[int, int]:
    """``"30/minute"`` or ``"5/10s"`` → (requests, seconds); ``"0/minute"`` disables."""
    match = _RATE.match(str(value))
    if not match:
        raise ConfigError(f"{source}={value!r}: expected N/second|minute|hour|day or N/<seconds>s")
    count, period = int(match[1]), match[2].replace(" ", "")
    seconds = int(period[:-1]) if period.endswith("s") and period[:-1].isdigit() else 0
    seconds = seconds or _PERIODS.get(period, 0)
    if seconds <= 0:
        raise ConfigError(f"{source}={value!r}: the period must be at least one second")
    return count, seconds


def _positive_int(value: Any, source: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        raise ConfigError(f"{source}={value!r}: expected a positive whole number")
    return number


def load_config(
    app: Flask,
    *,
    test_config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    environ = os.environ if environ is None else environ
    instance = Path(app.instance_path)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{instance / 'grader.sqlite'}",
        SECRET_KEY=None,
        MAX_REPORT_BYTES=DEFAULT_MAX_REPORT_BYTES,
        SIGNING_SECRET=None,
        RATE_LIMIT=DEFAULT_RATE_LIMIT,
        SIGNATURE_TOLERANCE=DEFAULT_SIGNATURE_TOLERANCE,
        RUBRIC_PATH=None,
    )
    sources = dict.fromkeys(app.config, "default")
    if test_config is None:
        if _readable(instance / "config.py") and app.config.from_pyfile("config.py", silent=True):
            sources.update(dict.fromkeys(ENVIRONMENT.values(), f"{instance / 'config.py'}"))
        for variable, key in ENVIRONMENT.items():
            if environ.get(variable):
                app.config[key] = environ[variable]
                sources[key] = variable
    else:
        app.config.from_mapping(test_config)
        sources.update(dict.fromkeys(test_config, "test_config"))

    app.config["MAX_REPORT_BYTES"] = _positive_int(
        app.config["MAX_REPORT_BYTES"], sources["MAX_REPORT_BYTES"]
    )
    app.config["SIGNATURE_TOLERANCE"] = _positive_int(
        app.config["SIGNATURE_TOLERANCE"], sources["SIGNATURE_TOLERANCE"]
    )
    app.config["RATE_LIMIT_PARSED"] = parse_rate_limit(
        app.config["RATE_LIMIT"], source=sources["RATE_LIMIT"]
    )
    try:
        make_url(str(app.config["DATABASE_URL"])).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        source = sources["DATABASE_URL"]
        raise ConfigError(f"{source}: not a database URL SQLAlchemy can use ({exc})") from None
    try:  # a SQLite file is one machine's: another's node is refused here
        claim(str(app.config["DATABASE_URL"]))
    except OtherMachine as exc:
        raise ConfigError(f"{sources['DATABASE_URL']}: {exc}") from None
    try:
        path = app.config["RUBRIC_PATH"]
        app.extensions[RUBRIC_EXTENSION] = load_rubric(Path(path)) if path else shipped_rubric()
    except RubricError as exc:
        raise ConfigError(f"{sources['RUBRIC_PATH']}: {exc}") from None
    if app.config["SIGNING_SECRET"]:
        from webhook.signing import make_webhook

        try:
            make_webhook(app.config["SIGNING_SECRET"])
        except ValueError as exc:
            raise ConfigError(f"{sources['SIGNING_SECRET']}: {exc}") from None
    # Werkzeug's own cap stays above ours so that ours decides (and reads limit + 1).
    app.config["MAX_CONTENT_LENGTH"] = None
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret_key(instance)


def _readable(path: Path) -> bool:
    """Whether an instance file exists; one that exists but cannot be read is a ConfigError
    naming the file and the user (not a traceback in every worker)."""
    try:
        with path.open("rb"):
            return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(_unreadable(path, exc)) from None


def _unreadable(path: Path, exc: OSError, what: str = "read") -> str:
    import pwd

    uid = os.geteuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    return f"cannot {what} {path} as user {user} (uid {uid}): {exc.strerror or exc}"


def _instance_secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, so that every worker signs sessions alike.

    Made by whoever runs first; as root (a CLI command), it is given to the instance
    folder's owner, so that the server's own user can read it. A folder it cannot be
    written in (read-only, another user's) is a ConfigError naming the folder and the user.
    """
    path = instance / "secret_key"
    if _readable(path):
        return path.read_text("utf-8").strip()
    try:
        instance.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: a worker never reads a half-written key.
        fd, temporary = tempfile.mkstemp(dir=instance, prefix=".secret_key.")
    except OSError as exc:
        raise ConfigError(_unreadable(instance, exc, "write the session key in")) from None
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        folder = instance.stat()
        if os.geteuid() == 0 and folder.st_uid != 0:
            os.chown(temporary, folder.st_uid, folder.st_gid)
        os.link(temporary, path)
    except FileExistsError:  # another worker won the race
        pass
    except OSError as exc:  # a full disk, a folder gone read-only meanwhile
        raise ConfigError(_unreadable(instance, exc, "write the session key in")) from None
    finally:
        os.unlink(temporary)
    _readable(path)
    return path.read_text("utf-8").strip()


def current_rubric() -> Rubric:
    """The rubric this app scores with: ``GRADER_RUBRIC``'s file, else the shipped one.

    Read once, when the app was made: every worker scores and exports alike.
    """
    rubric: Rubric = current_app.extensions[RUBRIC_EXTENSION]
    return rubric


def check_hint(check_id: str, status: str, stored: str = "") -> str:
    """A check's next step as the gradebook and the API show it: none for a passed check;
    the hint stored with the report (reports stored before hints stopped being kept), else
    the server's rubric's."""
    if stored or status == "passed":
        return stored
    entry = current_rubric().get(check_id)
    return entry.hint if entry is not None else ""
