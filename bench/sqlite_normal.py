"""The real server with SQLite's ``synchronous=NORMAL``: ``bench/ingest``'s measure of what
``FULL`` (the default, durable through a power loss) costs, in the same run."""

from __future__ import annotations

from flask import Flask

from webhook import create_app as create_server
from webhook.storage import db


def create_app() -> Flask:
    db.SQLITE_SYNCHRONOUS = "NORMAL"
    return create_server()
