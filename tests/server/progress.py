"""Helpers of the board's tests: a progress document, turning progress on, posting it."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient, FlaskCliRunner

LAB = "docker_beginners"


def document(*checks: tuple[str, str, str], lab: str = LAB, **extra: Any) -> dict[str, Any]:
    """A progress document of ``(id, status, message)`` checks."""
    return {
        "lab": lab,
        "checks": [{"id": i, "status": s, "message": m} for i, s, m in checks],
        **extra,
    }


def turn_on(cli: FlaskCliRunner, *more: str) -> None:
    made = cli.invoke(args=["assignment", "set", "docker-101", LAB, "--progress", "on", *more])
    assert made.exit_code == 0, made.output


def post(http: FlaskClient, token: str, body: Any) -> Any:
    return http.post("/api/v1/progress", json=body, headers={"Authorization": f"Bearer {token}"})
