"""Who is asking: instructors (password, by session or HTTP basic) and students (token).

For the gradebook pages: :func:`login_instructor` checks a password,
:func:`login_session` / :func:`logout_session` keep an instructor logged in, and
:func:`current_instructor` says who is (the API answers 401 itself when no one
is; the gradebook's pages redirect to their login form).

Sessions are Flask-Login's, in Flask's signed cookie. The id a cookie carries is the
instructor's id and their *session generation* (``"7:3"``); logging out counts the
generation up in the database, so every cookie issued before, copied or not, stops
working at once (a signed cookie cannot be taken back any other way).

Password guesses are throttled (:mod:`webhook.throttle`) before any hash is computed,
on the login form and on HTTP basic alike (a browser with a device cookie,
:mod:`webhook.devices`, is counted on its own), and at most a few hashes run at once on the
whole server (:func:`webhook.throttle.hashing_slot`): guessing cannot starve ingest.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from flask import Flask, Response, current_app, g, jsonify, render_template, request, session
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_login import current_user as _current_user
from sqlalchemy import select, update
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from webhook import throttle
from webhook.config import ConfigError, parse_rate_limit
from webhook.database import get_db, get_session
from webhook.storage.db import write_transaction
from webhook.storage.models import Instructor, Student
from webhook.storage.tokens import hash_token

#: Flask-Login's session key: ``"<instructor id>:<session generation>"``.
SESSION_KEY = "_user_id"
#: Failed logins allowed per username and per client address in a window.
DEFAULT_LOGIN_LIMIT = "10/300s"
#: Response types that may hold grades or tokens: never kept by a browser or proxy cache.
NO_STORE_TYPES = ("application/json", "text/csv")


class InstructorLogin(UserMixin):
    """What Flask-Login keeps for a logged-in instructor: who, and which generation."""

    def __init__(self, instructor: Instructor) -> None:
        self.instructor = instructor

    def get_id(self) -> str:
        return f"{self.instructor.id}:{self.instructor.session_generation or 0}"


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so that the answer takes as long either way."""
    return generate_password_hash("not a password")


def init_app(app: Flask) -> None:
    """Flask-Login, the cookie flags, the login throttle and ``no-store`` on data responses."""
    # Flask's defaults hold these keys already (None / False): setdefault would not set them.
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = _yes(app.config.get("SESSION_COOKIE_SECURE"))
    app.config.setdefault("LOGIN_LIMIT", DEFAULT_LOGIN_LIMIT)
    app.config["LOGIN_LIMIT_PARSED"] = parse_rate_limit(
        app.config["LOGIN_LIMIT"], source="GRADER_LOGIN_LIMIT"
    )
    slots = app.config.setdefault("LOGIN_HASHING_SLOTS", throttle.HASHING_SLOTS)
    if not str(slots).strip().isdigit():
        raise ConfigError(f"GRADER_HASHING_SLOTS={slots!r}: expected a whole number (0: no bound)")
    app.config["LOGIN_HASHING_SLOTS"] = int(slots)
    proxies = str(app.config.setdefault("TRUSTED_PROXIES", 0)).strip()
    if not proxies.isdigit():
        raise ConfigError(f"GRADER_TRUSTED_PROXIES={proxies!r}: expected a whole number")
    if int(proxies) > 0:  # behind nginx: the client is X-Forwarded-For's, not the proxy
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=int(proxies), x_proto=int(proxies)
        )
    manager = LoginManager()
    manager.user_loader(_load_instructor)
    manager.init_app(app)
    app.after_request(_no_store)
    app.register_error_handler(throttle.Throttled, _throttled)


def _yes(value: Any) -> bool:
    """A yes/no setting: ``True``, ``1``, ``yes``, ``true``, ``on`` (any case) is yes."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "no", "false", "off", "none"):
        return False
    if text in ("1", "yes", "true", "on"):
        return True
    raise ConfigError(f"GRADER_SECURE_COOKIES={value!r}: expected yes or no")


def _load_instructor(user_id: str) -> InstructorLogin | None:
    """The instructor of a session cookie, if its generation is still theirs."""
    raw_id, _, raw_generation = str(user_id).partition(":")
    try:
        instructor_id, generation = int(raw_id), int(raw_generation or 0)
    except ValueError:
        return None
    instructor = get_session().get(Instructor, instructor_id)
    if instructor is None or (instructor.session_generation or 0) != generation:
        return None
    return InstructorLogin(instructor)


def _no_store(response: Response) -> Response:
    if response.mimetype in NO_STORE_TYPES:
        response.headers["Cache-Control"] = "no-store"
    return response


def _throttled(exc: throttle.Throttled) -> Any:
    """429 with ``Retry-After``: a page for the gradebook, JSON for the API."""
    headers = {"Retry-After": str(exc.retry_after)}
    if request.blueprint == "api":
        response = jsonify(error="too_many_attempts", reason=exc.reason)
        response.status_code = 429
        response.headers.update(headers)
        return response
    g.instructor = None
    page = render_template("gradebook/error.html", error=exc.as_http())
    return page, 429, headers


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def client_address() -> str:
    """The client's address: the peer's, or behind ``GRADER_TRUSTED_PROXIES`` proxies the
    one they forwarded (else every login behind nginx would share one address's count)."""
    return request.remote_addr or "unknown"


def login_instructor(
    username: str, password: str, *, device: str | None = None
) -> Instructor | None:
    """The instructor with that username and password, else ``None``.

    Raises :class:`webhook.throttle.Throttled` when this username or this client has
    failed too often lately: checked before the (deliberately slow) hash is computed.
    ``device``: the id of the browser's valid device cookie for ``username``
    (:func:`webhook.devices.trusted_device`); then only that cookie's failures count.
    """
    keys = throttle.login_keys(username, client_address(), device)
    limit, period = current_app.config["LOGIN_LIMIT_PARSED"]
    engine = get_db().engine
    throttle.check(engine, keys, limit=limit, period=period)
    instructor = get_session().scalar(select(Instructor).where(Instructor.username == username))
    slots = current_app.config["LOGIN_HASHING_SLOTS"]
    with throttle.hashing_slot(current_app.instance_path, slots=slots):
        stored = _dummy_hash() if instructor is None else instructor.password_hash
        correct = check_password_hash(stored, password)
    if instructor is None or not correct:
        throttle.record_failure(engine, keys, limit=limit, period=period)
        return None
    return instructor


def login_session(instructor: Instructor) -> None:
    """Keep ``instructor`` logged in for this browser session (a fresh one: no fixation)."""
    session.clear()
    login_user(InstructorLogin(instructor))
    g.instructor = instructor


def logout_session() -> None:
    """End this session, and every other cookie of the same instructor, on the server."""
    instructor = current_instructor()
    if instructor is not None and _current_user.is_authenticated:
        with write_transaction(get_db().engine) as connection:
            connection.execute(
                update(Instructor)
                .where(Instructor.id == instructor.id)
                .values(session_generation=Instructor.session_generation + 1)
            )
    logout_user()
    session.clear()
    g.instructor = None


def current_instructor() -> Instructor | None:
    """The instructor of this request: by the session cookie, else by HTTP basic auth."""
    if "instructor" in g:
        return cast(Instructor | None, g.instructor)
    g.instructor = None  # a failure below (database, throttle) leaves no one logged in
    instructor: Instructor | None = None
    if _current_user.is_authenticated:
        instructor = cast(InstructorLogin, _current_user).instructor
    elif request.authorization is not None and request.authorization.type == "basic":
        username = request.authorization.username or ""
        password = request.authorization.password or ""
        instructor = login_instructor(username, password)
    g.instructor = instructor
    return instructor


def bearer_token(headers: Headers | None = None) -> str | None:
    """The token of an ``Authorization: Bearer`` header (of this request's), if there is one."""
    header = (request.headers if headers is None else headers).get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_student() -> Student | None:
    """The student whose token this request bears, else ``None``."""
    if "student" in g:
        return cast(Student | None, g.student)
    token = bearer_token()
    student = None
    if token is not None:
        student = get_session().scalar(
            select(Student).where(Student.token_hash == hash_token(token))
        )
    g.student = student
    return student


def is_instructor_token(token: str | None) -> bool:
    """Whether ``token`` is an instructor's API token (for verified reports only)."""
    if token is None:
        return False
    found = get_session().scalar(
        select(Instructor.id).where(Instructor.token_hash == hash_token(token))
    )
    return found is not None


def unauthorized(reason: str, *, challenge: str = 'Basic realm="grader"') -> Any:
    from webhook.i18n import reason as translated

    response = jsonify(error="unauthorized", reason=translated(reason))
    response.status_code = 401
    if challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response
