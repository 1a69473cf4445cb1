"""Steps 2 to 4 of :mod:`webhook.ingest`: the body, the report in it, its score and own flags.

The body is read within the size limit (counted on the bytes read), the report checked
against the dialect and the columns it goes into, scored from its assignment's rubric and
flagged by its own evidence. No lock is held and nothing is written here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask import Request

from submissions import integrity
from submissions.dialect import Report
from submissions.integrity import Flag as FoundFlag
from submissions.reader import Limits, ReportRejected, read_report
from submissions.rubric import Rubric
from submissions.scoring import Score, score_report
from webhook.i18n import N_
from webhook.ingest.outcomes import BadReport, Checked, TooLarge
from webhook.storage.models import Submission, SubmissionCheck

# --- Step 2: the body -----------------------------------------------------------------------


def read_body(request: Request, limit: int) -> bytes:
    """The request body, reading at most ``limit + 1`` bytes: more means too large.

    Werkzeug would cut a chunked body at ``MAX_CONTENT_LENGTH`` and carry on
    with a truncated report; counting what was really read cannot be fooled.
    """
    too_large = TooLarge(f"the report is over the size limit of {limit} bytes")
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        try:
            chunk = stream.read(min(65536, limit + 1 - size))
        except Exception as exc:
            # Only the client's bytes can fail here: gunicorn's NoMoreData (cut mid-chunk),
            # InvalidChunkSize...: a 400 and one access line, not a 500 with a traceback.
            raise BadReport(f"the body could not be read ({type(exc).__name__})") from None
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise too_large
    return b"".join(chunks)


#: The most evidence identifiers a report stores for the cross-check (a real one names about
#: ten). A report naming more keeps these many (its engine first) and is flagged.
MAX_SHARING_KEYS = 32


# --- Steps 3 and 4: check, score and flag (no lock, no write) -------------------------------


def check_report(body: bytes, limit: int) -> Checked:
    """The report in ``body``, checked against the dialect by :mod:`submissions.reader`,
    and against the columns it is stored in (:func:`check_lengths`)."""
    try:
        report = read_report(body, limits=Limits(max_bytes=limit))
        raw_xml = body.decode("utf-8")
    except ReportRejected as exc:
        raise BadReport(exc.reason) from None
    except UnicodeDecodeError:
        raise BadReport(N_("the report is not UTF-8")) from None
    check_lengths(report)
    digest = hashlib.sha256(body).hexdigest()
    return Checked(report, raw_xml, digest, kept_keys(integrity.sharing_keys(report)))


def kept_keys(keys: frozenset[str]) -> frozenset[str]:
    """At most :data:`MAX_SHARING_KEYS` of a report's identifiers, its engine's first: each is
    an index row kept for good, so a report padded with evidence must not store hundreds."""
    if len(keys) <= MAX_SHARING_KEYS:
        return keys
    ordered = sorted(keys, key=lambda key: (not key.startswith("engine:"), key))
    return frozenset(ordered[:MAX_SHARING_KEYS])


def _column_length(column: Any) -> int:
    length: int = column.type.length
    return length


#: The report's values and the ``VARCHAR`` columns that hold them (their lengths read from
#: the models, so that they follow the schema). PostgreSQL refuses a longer value with an
#: error (a 500 if it got that far); SQLite would store it. Both answer 400 instead.
_REPORT_COLUMNS = {
    name: _column_length(Submission.__table__.c[name])
    for name in (
        "report_id", "lab", "grader_version", "checks_digest", "engine_id", "dialect_version",
    )
}  # fmt: skip
_CHECK_COLUMNS = {
    "id": _column_length(SubmissionCheck.__table__.c.check_id),
    "task": _column_length(SubmissionCheck.__table__.c.task),
}


def check_lengths(report: Report) -> None:
    """Refuse (400) a value longer than its column, naming it; what is stored is never cut.

    (``engine_name`` and ``engine_version`` are shown only, and cut to fit instead.)
    """
    for name, most in _REPORT_COLUMNS.items():
        value: str = getattr(report, name)
        if len(value) > most:
            raise BadReport(
                N_("the report's {what} is longer than {most} characters").format(
                    what=name, most=most
                )
            )
    for result in report.results:
        for name, most in _CHECK_COLUMNS.items():
            value = getattr(result, name)
            if len(value) > most:
                what = "check id" if name == "id" else f"task of check {result.id[:100]!r}"
                raise BadReport(
                    N_("the report's {what} is longer than {most} characters").format(
                        what=what, most=most
                    )
                )


def score_from_rubric(report: Report, rubric: Rubric) -> Score:
    """The report's score from its assignment's rubric; what the report claims does not count."""
    return score_report(report, rubric)


def check_integrity(
    report: Report, rubric: Rubric, opens_at: datetime | None, received_at: datetime
) -> tuple[FoundFlag, ...]:
    """What the report's own evidence says about it, received now for an assignment that
    opened at ``opens_at`` and is scored from ``rubric`` (its known files)."""
    found = integrity.check_report(
        report, received_at=received_at, opens_at=opens_at, known_files=rubric.known_files
    )
    named = len(integrity.sharing_keys(report))
    if named > MAX_SHARING_KEYS:  # one flag per kind and report: said in the one there is
        said = (
            f"the report names {named} evidence identifiers, over {MAX_SHARING_KEYS}:"
            f" only {MAX_SHARING_KEYS} are kept and cross-checked"
        )
        found = with_bad_evidence(found, said)
    return found


def with_bad_evidence(found: tuple[FoundFlag, ...], said: str) -> tuple[FoundFlag, ...]:
    """``found`` with ``said`` added to its ``bad_evidence`` flag (one flag per kind and
    report: a second reason joins the first)."""
    other = [flag for flag in found if flag.kind != "bad_evidence"]
    reasons = [flag.reason for flag in found if flag.kind == "bad_evidence"] + [said]
    return (*other, FoundFlag("bad_evidence", "; ".join(reasons)))
