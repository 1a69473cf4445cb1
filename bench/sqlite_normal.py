"""The real server with other SQLite durability settings, for ``bench/ingest``'s comparison:
``NORMAL`` (never fsynced: what durability costs) and ``FULL`` (each commit fsynced inside
the write lock), beside the default group commit (:mod:`webhook.storage.db`)."""

from __future__ import annotations

from flask import Flask

from webhook import create_app as create_server
from webhook.storage import db


def create_normal_app() -> Flask:
    db.SQLITE_DURABILITY = "normal"
    return create_server()


def create_full_app() -> Flask:
    db.SQLITE_DURABILITY = "full"
    return create_server()
