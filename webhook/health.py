"""Liveness (``/healthz``, no database) and readiness (``/readyz``, database)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from webhook.database import get_db
from webhook.storage.db import is_migrated

bp = Blueprint("health", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    try:
        engine = get_db().engine
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if not is_migrated(engine):
            return jsonify(status="unready", reason="run grade-server db upgrade"), 503
    except Exception as exc:
        return jsonify(status="unready", reason=f"database: {type(exc).__name__}"), 503
    return jsonify(status="ready")
