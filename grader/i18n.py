"""``grade``'s messages in the student's language (gettext), English when there is none.

The language is the first of ``--lang``, ``LANGUAGE`` (a colon list), ``LC_ALL``,
``LC_MESSAGES`` and ``LANG`` that is set, as gettext's own tools take it; ``C``,
``POSIX`` and any English one mean English, as does a language without a catalog.
Catalogs are the ``grade`` domain's ``.po`` files under ``grader/locale/``, compiled to
``.mo`` when the package is built or installed (``setup.py``), and loaded on the first
message shown, not before: ``grade --json`` never opens one.

Only what a person reads is translated, and only where it is shown: the report itself
(check ids, ``--json``, JUnit) stays English. ``_`` translates now; ``N_`` marks a
message defined before the language is known (a check's title, a failure message's
template) so that extraction (``pybabel extract``, ``babel.cfg``) finds it, and
:func:`message` translates such a message, placeholders and all, when it is shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gettext import NullTranslations

DOMAIN = "grade"
LOCALE_DIR = Path(__file__).with_name("locale")
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_chosen: list[str] | None = None
#: The catalog in use once loaded; ``None`` for English (and before the first message).
_translations: NullTranslations | None = None
_loaded = False


def requested(lang: str | None, environ: Mapping[str, str]) -> list[str]:
    """The languages asked for, best first; empty for English."""
    if lang:
        wanted = [lang]
    else:
        value = next((environ[name] for name in ENVIRONMENT if environ.get(name)), "")
        wanted = [part for part in value.split(":") if part]
    if not wanted or wanted[0] in ("C", "POSIX") or wanted[0].startswith(("C.", "en")):
        return []
    return wanted


def available() -> list[str]:
    """The languages with a compiled catalog, and English."""
    found = {path.parts[-3] for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return ["en", *sorted(found)]


def use(lang: str | None, environ: Mapping[str, str] | None = None) -> None:
    """Show messages in ``lang`` (``--lang``), else the environment's language.

    Raises ``LookupError`` for a ``--lang`` with no catalog (a language from the
    environment without one is English, as for any other program).
    """
    global _chosen, _translations, _loaded
    languages = requested(lang, os.environ if environ is None else environ)
    if lang and languages:
        import gettext

        if gettext.find(DOMAIN, LOCALE_DIR, languages) is None:
            there = ", ".join(available())
            raise LookupError(f"--lang {lang}: no such translation (there are: {there})")
    _chosen, _translations, _loaded = languages, None, False


def translations() -> NullTranslations | None:
    """The catalog in use, loaded on first need; ``None`` for English (nothing to load)."""
    global _translations, _loaded
    if not _loaded:
        chosen = _chosen if _chosen is not None else requested(None, os.environ)
        if chosen:
            import gettext  # only for a language other than English

            found = gettext.translation(DOMAIN, LOCALE_DIR, languages=chosen, fallback=True)
            _translations = found if isinstance(found, gettext.GNUTranslations) else None
        _loaded = True
    return _translations


def _(text: str) -> str:
    """``text`` in the student's language."""
    catalog = translations()
    return catalog.gettext(text) if catalog is not None and text else text


def N_(text: str) -> str:  # gettext's own name, which extraction looks for
    """Mark ``text`` for translation where it is shown; it stays English here."""
    return text


def message(text: str) -> str:
    """A message as a check wrote it, in the student's language.

    Checks write English (the report is English); a message made from a marked template
    (``N_("found no container named {name}")``) is recognised by its shape and the
    translated template filled with the same values. Anything else stays as it is.
    """
    catalog = translations()
    if catalog is None or not text:
        return text
    if (one := _one(catalog, text)) is not text:
        return one
    # A list of problems, "<what>: <problem>; <problem>" (a Dockerfile's, a build's): the
    # heading and each problem translated on their own (a path as the heading stays).
    head, colon, rest = text.rpartition(": ")  # a path may say ": ", no problem does
    if not colon:
        return text
    problems = [_one(catalog, problem) for problem in rest.split("; ")]
    if all(a is b for a, b in zip(problems, rest.split("; "), strict=True)):
        return text
    return f"{_one(catalog, head)}: " + "; ".join(problems)


def _one(catalog: NullTranslations, text: str) -> str:
    """``text`` translated as a whole or by its template; ``text`` itself if neither."""
    if (whole := catalog.gettext(text)) is not text:
        return whole
    for template, head, tail in _templates(id(catalog)):
        if text.startswith(head) and text.endswith(tail) and len(text) > len(head) + len(tail):
            found = _pattern(template).fullmatch(text)
            if found:
                return catalog.gettext(template).format(**found.groupdict())
    return text


@cache
def _templates(_catalog: int) -> list[tuple[str, str, str]]:
    """Each template with placeholders in the catalog, with the text before its first and
    after its last placeholder: a message must start and end with those to be one of it
    (a quick test; only then is the template's pattern made)."""
    found = []
    for template in getattr(translations(), "_catalog", {}):
        if isinstance(template, str) and "{" in template:
            parts = _fields(template)
            tail = parts[-1][0] if parts[-1][1] is None else ""
            found.append((template, parts[0][0], tail))
    return found


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The messages ``template`` makes, each placeholder a named group."""
    parts = []
    for literal, field, _spec, _conv in _fields(template):
        parts.append(re.escape(literal))
        if field is not None:
            # a placeholder used twice matches its first value only (there is none such)
            parts.append(f"(?P<{field}>.+?)" if f"(?P<{field}>" not in "".join(parts) else ".+?")
    return re.compile("".join(parts), re.DOTALL)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message, which a translation must keep."""
    try:
        return {field for _l, field, _s, _c in _fields(text) if field is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def _fields(text: str) -> list[tuple[str, str | None, str | None, str | None]]:
    import string

    return list(string.Formatter().parse(text))


def accept_language() -> dict[str, str]:
    """The ``Accept-Language`` header for the server (its reasons in the student's language,
    English as the fallback), or none when ``grade`` speaks English."""
    catalog = translations()
    language = catalog.info().get("language", "") if catalog is not None else ""
    if not language:
        return {}
    return {"Accept-Language": f"{language.replace('_', '-')}, en;q=0.5"}
