"""Every language's catalog is complete for what the source marks, and compiled at install."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from grader.i18n import DOMAIN, LOCALE_DIR
from tests.i18n.catalogs import catalog, languages, marked, problems


def test_spanish_is_there() -> None:
    assert "es" in languages()


@pytest.mark.parametrize("language", languages())
def test_every_marked_message_is_translated_with_the_same_placeholders(language: str) -> None:
    assert problems(marked(), catalog(language)) == []


def test_an_untranslated_fuzzy_or_misplaced_entry_is_named_by_its_msgid() -> None:
    made = Catalog(locale="es")
    made.add("done", "hecho")
    made.add("not yet", "")
    made.add("error", "error", flags=["fuzzy"])
    made.add("waits on {check}", "espera a {prueba}")
    found = problems({"done", "not yet", "error", "waits on {check}", "Task {number}"}, made)
    assert found == [
        "untranslated: 'Task {number}'",
        "fuzzy: 'error'",
        "untranslated: 'not yet'",
        "placeholders differ: 'waits on {check}' has ['check'], 'espera a {prueba}' has ['prueba']",
    ]


def test_the_extraction_finds_grades_own_messages() -> None:
    found = marked()
    assert {"not yet", "Task {number}", "Next step: {check} ({title})"} <= found


@pytest.mark.parametrize("language", languages())
def test_the_install_compiled_each_catalog_as_it_is_now(language: str) -> None:
    """``pip install -e .`` compiles the catalogs (setup.py); an edit since needs it again."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} missing: pip install -e . compiles the catalogs"
    assert mo.stat().st_mtime >= po.stat().st_mtime, f"{po} changed: pip install -e . again"
