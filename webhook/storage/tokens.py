"""Tokens: high-entropy random strings of which only a SHA-256 is stored.

Students' tokens start ``gls_``; instructors' API tokens (verified reports) ``gli_``, so
that a person can tell them apart. The server never relies on the prefix: each kind is
looked up in its own table.

A token has 256 bits of entropy, so a fast unsalted hash is enough (no
dictionary to try); it lets the server find a student by an indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "gls_"
INSTRUCTOR_TOKEN_PREFIX = "gli_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_instructor_token() -> str:
    return INSTRUCTOR_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
