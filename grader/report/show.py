"""Which form a person gets: rich's tables and spinner, or plain lines (``--plain``); and
in which language (``--lang``, :mod:`grader.i18n`).

Decided here, once, for the report, the progress spinner and ``--watch``: plain when
asked (``--plain``), when the terminal says it can draw nothing (``TERM=dumb``), or when
the output is no terminal at all (a pipe, a file, a screen reader's capture); tables
only when asked (``--no-plain``) or on a terminal. ``--json`` is not a person's form
and stays as it is; only its spinner on stderr follows the same rule.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import click

from grader import i18n
from submissions.dialect import Report

if TYPE_CHECKING:
    from rich.console import Console


#: ``grade``'s options for the form: plain or tables, and the language.
OPTIONS = [
    click.Option(
        ["--plain/--no-plain"],
        default=None,
        help="Plain lines for a screen reader: no tables, colour or spinner; each check's "
        "status as a word first [default: plain when TERM=dumb or the output is no terminal].",
    ),
    click.Option(
        ["--lang"],
        metavar="LANG",
        help="The language of the messages, es say [default: $LANGUAGE, $LC_ALL, "
        "$LC_MESSAGES, $LANG, else English]; check ids, --json and JUnit stay English.",
    ),
]


@dataclass(frozen=True)
class Form:
    """``--plain`` / ``--no-plain`` (``None``: neither) and ``$TERM``, for each stream."""

    plain_flag: bool | None
    term: str = ""

    @classmethod
    def chosen(cls, options: Mapping[str, object], environ: Mapping[str, str]) -> Form:
        """The form :data:`OPTIONS` and the environment ask for; the language is set too."""
        try:
            i18n.use(str(options["lang"]) if options["lang"] else None, environ)
        except LookupError as exc:
            raise click.UsageError(str(exc)) from None
        plain = options["plain"]
        return cls(plain if isinstance(plain, bool) else None, environ.get("TERM", ""))

    def plain(self, stream: TextIO) -> bool:
        """Whether what goes to ``stream`` is plain lines."""
        if self.plain_flag is not None:
            return self.plain_flag
        return self.term == "dumb" or not _is_terminal(stream)

    def progress(self, as_json: bool) -> Console | None:
        """Where the spinner goes: the terminal; with ``--json``, stderr, and only when
        that is a terminal (importing rich takes 20 ms); none at all in plain form."""
        stream = sys.stderr if as_json else sys.stdout
        if self.plain(stream) or (as_json and not _is_terminal(stream)):
            return None
        return console(stderr=as_json)

    def announcer(self, as_json: bool) -> Callable[[Report, dict[str, str]], None] | None:
        """``--watch`` in plain form: what each run changed, on stdout (with ``--json``,
        whose lines are there already, nothing more); on a terminal, ``None``: the
        checklist is redrawn in place."""
        from grader.report.plain import ChangeAnnouncer

        if not self.plain(sys.stderr if as_json else sys.stdout):
            return None
        return ChangeAnnouncer(sys.stdout)

    def show_report(self, report: Report, task_titles: Mapping[str, str]) -> None:
        """The report for a person on stdout, in this form."""
        if self.plain(sys.stdout):
            from grader.report.plain import print_plain

            print_plain(sys.stdout, report, task_titles)
        else:
            from grader.report.render import print_report

            print_report(console(), report, dict(task_titles))


def console(*, stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or no file at all
        return False
