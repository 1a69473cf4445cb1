"""Which language ``grade`` speaks, and that only what a person reads changes with it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from grader import i18n
from grader.cli import main
from grader.report.plain import plain_lines
from grader.report.render import print_report
from grader.report.report_json import as_json
from submissions.writer import to_junit_xml
from tests.i18n.catalogs import compile_into
from tests.unit.test_render import HINT, folded_report, report


@pytest.fixture
def english() -> Iterator[None]:
    i18n.use(None, {})
    yield
    i18n.use(None, {})


@pytest.fixture
def spanish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Spanish, compiled from the catalog as it is now (not as last installed)."""
    monkeypatch.setattr(i18n, "LOCALE_DIR", compile_into(tmp_path, "es"))
    i18n.use("es")
    yield
    i18n.use(None, {})


@pytest.mark.parametrize(
    ("lang", "environ", "wanted"),
    [
        (None, {}, []),
        (None, {"LANG": "es_ES.UTF-8"}, ["es_ES.UTF-8"]),
        (None, {"LANG": "en_US.UTF-8", "LC_MESSAGES": "es_MX.UTF-8"}, ["es_MX.UTF-8"]),
        (None, {"LC_ALL": "C.UTF-8", "LANG": "es_ES.UTF-8"}, []),  # LC_ALL wins: English
        (None, {"LANGUAGE": "fr:es", "LC_ALL": "de_DE.UTF-8"}, ["fr", "es"]),
        (None, {"LANG": "C"}, []),
        ("es", {"LANG": "en_GB.UTF-8"}, ["es"]),  # --lang forces
        ("en", {"LANG": "es_ES.UTF-8"}, []),
    ],
)
def test_the_language_comes_from_lang_then_the_usual_variables(
    lang: str | None, environ: dict[str, str], wanted: list[str]
) -> None:
    assert i18n.requested(lang, environ) == wanted


def test_a_language_without_a_catalog_is_english(english: None) -> None:
    i18n.use(None, {"LANG": "fr_FR.UTF-8"})
    assert i18n._("not yet") == "not yet"


def test_an_unknown_lang_option_is_refused_in_one_line(
    english: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", "xx", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lang xx: no such translation (there are: en" in err


def test_spanish_plain_report_keeps_ids_and_commands_byte_for_byte(spanish: None) -> None:
    lines = plain_lines(folded_report(), {"task1": "Run some simple containers"})
    assert lines[0] == "Tarea 1: Ejecutar algunos contenedores sencillos"
    assert "todavía no: mydb.image (mydb.image), 0 de 1 puntos: espera a mydb.running" in lines
    assert f"  prueba: {HINT}" in lines
    assert lines[-3:] == [
        "Puntuación: 2 de 7 puntos, 1 de 5 comprobaciones hechas",
        "Siguiente paso: mydb.running (mydb está en ejecución)",  # the check's title too
        f"  {HINT}",
    ]


def test_spanish_tables(spanish: None) -> None:
    out = io.StringIO()
    print_report(Console(file=out, width=100, color_system=None), report(), {})
    text = out.getvalue()
    for word in ("Comprobación", "Resultado", "Puntos", "✔ hecho", "✘ todavía no", "! error"):
        assert word in text
    assert f"prueba: {HINT}" in text and "Puntuación: 2/6" in text


def test_json_and_junit_stay_english(spanish: None) -> None:
    spanish_json, spanish_xml = as_json(report()), to_junit_xml(report())
    i18n.use(None, {})
    assert spanish_json == as_json(report()) and spanish_xml == to_junit_xml(report())
    assert [c["status"] for c in json.loads(spanish_json)["checks"]] == [
        "passed", "failed", "error",
    ]  # fmt: skip


def test_a_checks_message_is_translated_with_its_values_kept(spanish: None) -> None:
    assert i18n.message("found no container named mydb") == (
        "no se encontró ningún contenedor llamado mydb"
    )
    path = "/home/ana (1)/linux_tweet_app/Dockerfile"  # regex specials in a value
    assert i18n.message(f"found no Dockerfile at {path}") == (
        f"no se encontró ningún Dockerfile en {path}"
    )
    assert i18n.message("mydb sets MYSQL_PASSWORD instead of MYSQL_ROOT_PASSWORD") == (
        "mydb define MYSQL_PASSWORD en lugar de MYSQL_ROOT_PASSWORD"
    )
    unmarked = "a message no template makes"
    assert i18n.message(unmarked) is unmarked


def test_in_english_a_message_is_left_as_it_is(english: None) -> None:
    text = "found no container named mydb"
    assert i18n.message(text) is text


def test_a_dockerfiles_list_of_problems_is_translated_problem_by_problem(spanish: None) -> None:
    """tweet.dockerfile's message as the check makes it: the path stays, each problem is
    translated with its values (a Dockerfile's own words, like the CMD, kept)."""
    from checks.docker_beginners.test_task2_tweet_app import _dockerfile_problems
    from grader.dockerfile import parse_dockerfile

    problems = _dockerfile_problems(parse_dockerfile('FROM alpine\nCMD ["sh"]\n'))
    path = "/home/ana; b: c/linux_tweet_app/Dockerfile"
    english = f"{path}: " + "; ".join(problems)
    assert english == (
        f"{path}: FROM alpine, not nginx; no COPY of index.html into /usr/share/nginx/html; "
        "no COPY of linux.png into /usr/share/nginx/html; no EXPOSE 80; "
        "CMD ['sh'] does not run nginx -g \"daemon off;\""
    )
    assert i18n.message(english) == (
        f"{path}: FROM alpine, no nginx; falta el COPY de index.html a /usr/share/nginx/html; "
        "falta el COPY de linux.png a /usr/share/nginx/html; falta EXPOSE 80; "
        "CMD ['sh'] no ejecuta nginx -g \"daemon off;\""
    )


def test_a_build_list_is_translated_heading_and_problems(spanish: None) -> None:
    english = (
        "hello:v0.1 was not built from the lab's Dockerfile: its history shows no apk add"
        " nodejs; its working directory is /, not /app"
    )
    assert i18n.message(english) == (
        "hello:v0.1 no se construyó con el Dockerfile del laboratorio: su historial no muestra"
        " ningún apk add nodejs; su directorio de trabajo es /, no /app"
    )
    untranslated = "a: b; c"
    assert i18n.message(untranslated) is untranslated
