"""``LANG=es_ES.UTF-8 grade`` on the real engine: Spanish for people, English for programs."""

from __future__ import annotations

from pathlib import Path

import pytest

from devlab.host import flood_events
from tests.engine.conftest import run_grade

pytestmark = pytest.mark.engine

SPANISH = {"LANG": "es_ES.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}


def commands(stdout: str) -> list[str]:
    """The commands to try and the next step's: every line indented by two spaces."""
    return [line.split(": ", 1)[1] if ": " in line[:12] else line for line in stdout.splitlines()
            if line.startswith("  ")]  # fmt: skip


def test_a_fresh_host_in_spanish_keeps_every_command_byte_for_byte(
    fresh_host, tmp_path: Path
) -> None:
    flood_events(fresh_host)
    english = run_grade("--plain", home=tmp_path, env={"LANG": "C.UTF-8"})
    spanish = run_grade("--plain", home=tmp_path, env=SPANISH)
    assert spanish.exit_code == english.exit_code == 1
    lines = spanish.stdout.splitlines()
    assert "Tarea 1: Ejecutar algunos contenedores sencillos" in lines
    assert (
        "todavía no: mydb.running (mydb está en ejecución), 0 de 2 puntos: "
        "no se encontró ningún contenedor llamado mydb"
    ) in lines
    assert (  # a message with a value: the same value in the Spanish sentence
        "todavía no: tweet.dockerfile (el Dockerfile empaqueta la aplicación), 0 de 3 puntos: "
        f"no se encontró ningún Dockerfile en {tmp_path}/linux_tweet_app/Dockerfile"
    ) in lines
    assert lines[-2] == "Siguiente paso: alpine.hostname (alpine ejecutó hostname y terminó)"
    assert commands(spanish.stdout) == commands(english.stdout)
    assert lines[-1] == "  docker container run alpine hostname" == english.stdout.splitlines()[-1]
    assert len(commands(english.stdout)) == 10  # nine to try, and the next step's
    # what programs read stays English
    as_json = run_grade("--json", "task1", home=tmp_path, env=SPANISH)
    checks = {check["id"]: check for check in as_json.doc["checks"]}
    assert checks["mydb.running"]["title"] == "mydb is running"
    assert checks["mydb.running"]["message"] == "found no container named mydb"
    assert checks["mydb.running"]["status"] == "failed"
