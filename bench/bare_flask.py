"""The ceiling of the stack for ``bench/ingest``: a Flask endpoint that only reads the body."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/v1/submissions")
    def ingest() -> Any:
        body = request.stream.read()
        return jsonify(id=0, score=0, max_score=len(body)), 201

    @app.get("/readyz")
    def ready() -> Any:
        return jsonify(status="ready")

    return app
