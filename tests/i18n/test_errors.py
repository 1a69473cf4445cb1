"""``grade``'s own errors in the student's language: the line, not the exit code, changes.

The real ``grade`` console script, its engine at a socket where nothing listens (no engine
is asked), as tests/engine/test_student_errors.py runs it in English.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GRADE = str(Path(sys.executable).with_name("grade"))
NO_ENGINE = "unix:///nonexistent/docker.sock"
WHERE = f"{NO_ENGINE} (context default)"  # as grade names the engine, in any language


def grade(home: Path, **language: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOCKER_", "L"))}
    env.update(HOME=str(home), NO_COLOR="1", DOCKER_HOST=NO_ENGINE, **language)
    return subprocess.run(
        [GRADE, "--plain"], env=env, cwd=home, capture_output=True, text=True, timeout=60
    )


def test_an_unreachable_engine_is_said_in_spanish_with_the_same_exit_and_commands(
    tmp_path: Path,
) -> None:
    english = grade(tmp_path, LANG="C.UTF-8")
    spanish = grade(tmp_path, LANG="es_ES.UTF-8")
    assert english.returncode == spanish.returncode == 2, english.stderr
    assert english.stdout == spanish.stdout == ""
    said = english.stderr.splitlines()
    assert said == [
        f"grade: cannot reach the Docker engine at {WHERE}: start Docker (Docker Desktop, "
        "or sudo systemctl start docker), check that `docker info` works, then run grade again"
    ]
    assert spanish.stderr.splitlines() == [
        f"grade: no se puede contactar con el motor de Docker en {WHERE}: inicia Docker "
        "(Docker Desktop, o sudo systemctl start docker), comprueba que `docker info` funciona"
        " y vuelve a ejecutar grade"
    ]
