"""The server's catalogs (the ``server`` domain: the student's pages and API reasons) are
complete for what the server marks, as ``grade``'s are (test_catalogs)."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from tests.i18n.catalogs import marked, problems
from webhook.i18n import DOMAIN, LOCALE_DIR, placeholders

CONFIG = "babel-server.cfg"
SOURCES = frozenset({"webhook"})


def languages() -> list[str]:
    return sorted(path.parts[-3] for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def catalog(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return read_po(source, locale=language)


def test_spanish_is_there() -> None:
    assert "es" in languages()


@pytest.mark.parametrize("language", languages())
def test_every_marked_message_is_translated_with_the_same_placeholders(language: str) -> None:
    assert problems(marked(CONFIG, SOURCES), catalog(language), placeholders) == []


def test_the_extraction_finds_the_pages_and_the_reasons() -> None:
    found = marked(CONFIG, SOURCES)
    assert {
        "Send your work",  # the launch page (Jinja)
        "The launch has expired: open the lab from the LMS again.",  # a refusal page
        "the token is not valid",  # an API reason
        "assignment {slug} does not take progress (its instructor has not turned"
        " the class board on); your work and reports are not affected",  # the board's
    } <= found


def test_a_jinja_placeholder_must_be_kept_as_a_format_one_is() -> None:
    made = Catalog(locale="es")
    made.add("you are %(student_id)s", "eres %(id)s")
    made.add("lab {lab}", "laboratorio {lab}")
    found = problems({"you are %(student_id)s", "lab {lab}", "none yet"}, made, placeholders)
    assert found == [
        "untranslated: 'none yet'",
        "placeholders differ: 'you are %(student_id)s' has ['student_id'], 'eres %(id)s' has "
        "['id']",
    ]


@pytest.mark.parametrize("language", languages())
def test_the_install_compiled_each_catalog_as_it_is_now(language: str) -> None:
    """``pip install -e .`` compiles the server's catalogs too (setup.py)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{mo} missing: pip install -e . compiles the catalogs"
    assert mo.stat().st_mtime >= po.stat().st_mtime, f"{po} changed: pip install -e . again"
