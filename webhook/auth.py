"""Who is asking: instructors (password, by session or HTTP basic) and students (token).

For the gradebook pages: :func:`login_instructor` checks a password,
:func:`login_session` / :func:`logout_session` keep an instructor logged in, and
:func:`current_instructor` says who is (the API answers 401 itself when no one
is; the gradebook's pages redirect to their login form).
"""

from __future__ import annotations

import functools
from typing import Any, cast

from flask import Flask, g, jsonify, request, session
from sqlalchemy import select
from werkzeug.datastructures import Headers
from werkzeug.security import check_password_hash, generate_password_hash

from webhook.database import get_session
from webhook.storage.models import Instructor, Student
from webhook.storage.tokens import hash_token

SESSION_KEY = "instructor_id"


@functools.cache
def _dummy_hash() -> str:
    """Checked when the username is unknown, so that the answer takes as long either way."""
    return generate_password_hash("not a password")


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def login_instructor(username: str, password: str) -> Instructor | None:
    """The instructor with that username and password, else ``None``."""
    instructor = get_session().scalar(select(Instructor).where(Instructor.username == username))
    if instructor is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return instructor if check_password_hash(instructor.password_hash, password) else None


def login_session(instructor: Instructor) -> None:
    """Keep ``instructor`` logged in for this browser session."""
    session.clear()
    session[SESSION_KEY] = instructor.id
    g.instructor = instructor


def logout_session() -> None:
    session.clear()
    g.pop("instructor", None)


def current_instructor() -> Instructor | None:
    """The instructor of this request: by the session cookie, else by HTTP basic auth."""
    if "instructor" in g:
        return cast(Instructor | None, g.instructor)
    instructor: Instructor | None = None
    instructor_id = session.get(SESSION_KEY)
    if isinstance(instructor_id, int):
        instructor = get_session().get(Instructor, instructor_id)
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
    response = jsonify(error="unauthorized", reason=reason)
    response.status_code = 401
    if challenge:
        response.headers["WWW-Authenticate"] = challenge
    return response
