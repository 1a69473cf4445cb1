"""What the catalog tests read: the messages marked in the source, and each language's catalog.

Extraction is Babel's own (``babel.cfg``, as ``pybabel extract`` runs it), so a message
marked in English and missing from a catalog is found without anyone running a tool.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from grader.i18n import DOMAIN, LOCALE_DIR, placeholders

ROOT = Path(__file__).resolve().parents[2]


def marked(
    config: str = "babel.cfg", tops: frozenset[str] = frozenset({"grader", "checks"})
) -> set[str]:
    """Every message marked with ``_`` or ``N_`` in the files ``config`` names (in ``tops``:
    only those folders are walked, not .venv, not the tests)."""
    with (ROOT / config).open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)

    def sources(folder: str) -> bool:
        return Path(folder).resolve().relative_to(ROOT).parts[0] in tops

    return {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, directory_filter=sources
        )
        if isinstance(message, str)
    }


def languages() -> list[str]:
    return sorted(path.parts[-3] for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def catalog(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return read_po(source, locale=language)


def problems(
    messages: set[str], translated: Catalog, placeholders: Callable[[str], set[str]] = placeholders
) -> list[str]:
    """Why the catalog is not complete for ``messages``: each entry named by its msgid."""
    found = []
    for text in sorted(messages):
        entry = translated.get(text)
        if entry is None or not entry.string:
            found.append(f"untranslated: {text!r}")
        elif entry.fuzzy:
            found.append(f"fuzzy: {text!r}")
        elif placeholders(text) != placeholders(str(entry.string)):
            found.append(
                f"placeholders differ: {text!r} has {sorted(placeholders(text))}, "
                f"{entry.string!r} has {sorted(placeholders(str(entry.string)))}"
            )
    return found


def compile_into(folder: Path, language: str) -> Path:
    """The language's catalog compiled under ``folder`` as gettext looks for it."""
    target = folder / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as compiled:
        write_mo(compiled, catalog(language))
    return folder
