"""The server's words for students in their language (Flask-Babel), English when there is none.

What a student reads is translated: the LTI launch page and its refusals, and the one-line
``reason`` of the student API's answers (what ``grade --submit`` and ``--watch --submit``
show). The language is the best match of the request's ``Accept-Language`` among the
catalogs there are, English otherwise. Error codes and JSON keys stay English (programs
read them), and so does the instructor's gradebook.

Catalogs are the ``server`` domain's, ``webhook/locale/<lang>/LC_MESSAGES/server.po``
(``babel-server.cfg`` says where its messages are), compiled at install as ``grade``'s are
(``setup.py``). A reason is written in English where it is raised, its template marked
with ``N_`` (``N_("course {course} has no assignment").format(course=...)``); :func:`reason`
recognises the template by its shape and fills the translation with the same values.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale, get_translations

DOMAIN = "server"
LOCALE_DIR = Path(__file__).with_name("locale")
ENGLISH = "en"


def init_app(app: Flask) -> None:
    Babel(
        app,
        default_locale=ENGLISH,
        default_domain=DOMAIN,
        default_translation_directories=str(LOCALE_DIR),
        locale_selector=chosen,
    )
    app.jinja_env.globals["page_lang"] = page_lang


@cache
def available() -> tuple[str, ...]:
    """English and each language with a compiled catalog."""
    found = {path.parts[-3] for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return (ENGLISH, *sorted(found))


def chosen() -> str:
    """The request's best ``Accept-Language`` among :func:`available`, else English."""
    if not has_request_context():
        return ENGLISH
    return request.accept_languages.best_match(available(), default=ENGLISH) or ENGLISH


def page_lang() -> str:
    """The ``lang`` of a translated page: the language its words are in."""
    locale = get_locale()
    return str(locale) if locale is not None else ENGLISH


def N_(text: str) -> str:  # gettext's own name, which extraction looks for
    """Mark ``text`` for translation where it is shown; it stays English here."""
    return text


def reason(text: str) -> str:
    """A reason as the server wrote it, in the request's language.

    The whole text if the catalog has it, else the marked template it was made from (its
    shape) translated and filled with the same values; anything else stays English.
    """
    if not text or chosen() == ENGLISH:
        return text
    catalog = get_translations()
    if (whole := catalog.gettext(text)) != text:
        return whole
    for template in _templates(available()):
        found = _pattern(template).fullmatch(text)
        if found:
            return catalog.gettext(template).format(**found.groupdict())
    return text


@cache
def _templates(_languages: tuple[str, ...]) -> list[str]:
    """Every template with a placeholder in the catalogs, longest first (the most literal
    text, so that a short template never takes a message a longer one made)."""
    from babel.messages.mofile import read_mo

    found: set[str] = set()
    for path in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"):
        with path.open("rb") as compiled:
            found.update(str(message.id) for message in read_mo(compiled) if "{" in str(message.id))
    return sorted(found, key=len, reverse=True)


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The messages ``template`` makes, each placeholder a named group."""
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:  # a placeholder said twice is the same value twice
            said_before = f"(?P<{field}>" in "".join(parts)
            parts.append(f"(?P={field})" if said_before else f"(?P<{field}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


def placeholders(text: str) -> set[str]:
    """A message's placeholders, which a translation keeps: ``{name}`` and Jinja's
    ``%(name)s``."""
    found = set(re.findall(r"%\((\w+)\)s", text))
    try:
        found |= {f for _l, f, _s, _c in string.Formatter().parse(text) if f is not None}
    except ValueError:
        found.add("<unbalanced braces>")
    return found
