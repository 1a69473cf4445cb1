"""Sends a report to the instructor's server; what cannot be sent waits in an outbox.

:func:`submit_report` first writes the report into the outbox (a folder, by
default ``$XDG_DATA_HOME/grade/outbox``, i.e. ``~/.local/share/grade/outbox``),
then sends everything waiting there, oldest first, this report last. A report
leaves the outbox only once the server has it (2xx) or has refused it for
good (400, 409, 413, 415: it then moves to ``outbox/rejected/`` with the
reason beside it). When the server cannot be reached or answers 5xx, reports
stay and go out with the next submit; so they do when it refuses the token
(401/403) or asks to slow down (429), which is answered as ``rejected`` with
the reason. The server stores each report id once, so sending again is safe.
The token is sent only in the ``Authorization`` header and never shown.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import requests

from grader.data_folder import data_folder
from grader.errors import GradingError
from submissions.reader import ReportRejected, read_report

#: submitted: the server has it; queued: the server could not be reached (or failed),
#: the report waits; rejected: the server said no (4xx), ``message`` says why.
State = Literal["submitted", "queued", "rejected"]

#: Refusals of the report itself: sending it again cannot help.
FINAL = frozenset({400, 409, 413, 415, 422})
#: Names the student an instructor's verified report is for: ``<course>/<student id>``.
STUDENT_HEADER = "X-Grader-Student"
_SAFE = re.compile(r"[^A-Za-z0-9_.:-]")


class OutboxUnwritable(GradingError):
    """The report cannot be kept in the outbox (a full disk, a folder not ours): not sent."""


@dataclass(frozen=True)
class Delivery:
    report_id: str
    status: int
    submission_id: int | None = None
    score: int | None = None
    max_score: int | None = None


@dataclass(frozen=True)
class SubmitOutcome:
    """What became of this report (``state``, ``message``) and of those that waited."""

    state: State
    message: str
    report_id: str
    delivered: tuple[Delivery, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()  # (report id, the server's reason)
    waiting: int = 0
    score: int | None = None
    max_score: int | None = None

    @property
    def ok(self) -> bool:
        return self.state == "submitted"


def default_outbox(environ: Mapping[str, str] | None = None) -> Path:
    return data_folder(environ) / "outbox"


def verified_outbox(student: str, environ: Mapping[str, str] | None = None) -> Path:
    """Where an instructor's reports for ``student`` (``course/id``) wait: a folder each, so
    that every report in it goes out for that student and no other."""
    course, _, student_id = student.partition("/")
    base = default_outbox(environ).parent / "verified"
    return base / _folder_name(course) / _folder_name(student_id)


def _folder_name(text: str) -> str:
    """``text`` as one folder name: no separators, never ``..``."""
    return _SAFE.sub("_", text).lstrip(".") or "_"


def submissions_url(url: str) -> str:
    """``https://host`` or ``https://host/api/v1/submissions`` → the submissions endpoint."""
    url = url.rstrip("/")
    return url if url.endswith("/api/v1/submissions") else url + "/api/v1/submissions"


def report_id_of(xml: bytes) -> str:
    try:
        return read_report(xml).report_id
    except ReportRejected:
        return "sha256-" + hashlib.sha256(xml).hexdigest()[:32]


def enqueue(xml: bytes, outbox: Path) -> Path:
    """Keep the report in the outbox (written aside, then renamed: never half a file)."""
    outbox.mkdir(parents=True, exist_ok=True)
    report_id = _SAFE.sub("_", report_id_of(xml))
    for existing in outbox.glob(f"*-{report_id}.xml"):
        return existing
    path = outbox / f"{time.time_ns():020d}-{report_id}.xml"
    fd, temporary = tempfile.mkstemp(dir=outbox, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(xml)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def waiting(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.xml")) if outbox.is_dir() else []


def _reason(response: requests.Response) -> str:
    try:
        data = response.json()
        reason = str(data.get("reason") or data.get("error") or "")
    except (ValueError, AttributeError):
        reason = ""
    return reason or f"HTTP {response.status_code}"


def submit_report(
    xml: bytes,
    *,
    url: str,
    token: str,
    outbox: Path,
    student: str | None = None,
    timeout: float = 10,
    session: requests.Session | None = None,
) -> SubmitOutcome:
    """Send ``xml`` (and what waits in ``outbox`` before it) to the server at ``url``.

    With ``student`` (``course/id``) and an instructor's token, the server stores the
    report as verified by that instructor for that student (``outbox`` is then that
    student's :func:`verified_outbox`).
    """
    try:
        mine = enqueue(xml, outbox)
    except OSError as exc:
        raise OutboxUnwritable(
            f"cannot keep the report in {outbox} to send it ({exc.strerror}): free some space "
            "there (or set XDG_DATA_HOME to a folder you can write), then run grade --submit "
            "again; nothing was sent"
        ) from None
    report_id = report_id_of(xml)
    endpoint = submissions_url(url)
    headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {token}"}
    if student is not None:
        headers[STUDENT_HEADER] = student
    http = session or requests.Session()
    delivered: list[Delivery] = []
    rejected: list[tuple[str, str]] = []
    stop: str | None = None
    refused = False  # a 4xx about the request, not the report: it waits, but we say why
    state: State = "queued"
    message = ""
    try:
        for path in waiting(outbox):
            try:
                body = path.read_bytes()
            except OSError:  # another submit running at once sent it, or it is not ours to read
                continue
            rid = report_id_of(body)
            try:
                response = http.post(endpoint, data=body, headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                stop = f"the server at {endpoint} cannot be reached ({type(exc).__name__})"
                break
            status = response.status_code
            if 200 <= status < 300:
                data = _json(response)
                delivered.append(
                    Delivery(
                        rid,
                        status,
                        _int(data.get("id")),
                        _int(data.get("score")),
                        _int(data.get("max_score")),
                    )
                )
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                if path == mine:
                    state = "submitted"
                    message = f"submitted: score {data.get('score')}/{data.get('max_score')}"
                continue
            if status in FINAL:
                reason = _reason(response)
                _reject(path, reason)
                rejected.append((rid, reason))
                if path == mine:
                    state = "rejected"
                    message = f"the server refused this report ({status}): {reason}"
                continue
            if status in (401, 403):
                refused = True
                stop = f"the server refused the token ({status}: {_reason(response)})"
                stop += "; check --token or GRADER_TOKEN"
            elif status == 429:
                refused = True
                retry = response.headers.get("Retry-After", "?")
                stop = f"the server asks to wait (429: {_reason(response)}; retry after {retry} s)"
            else:
                stop = f"the server answered {status} ({_reason(response)})"
            break
    finally:
        if session is None:
            http.close()
    left = len(waiting(outbox))
    if state == "queued" and stop is None and not mine.exists():
        state, message = "submitted", "submitted (by another grade run at the same moment)"
    if state == "queued":
        if refused:
            state = "rejected"
        message = f"not submitted: {stop or 'unknown reason'}; the report waits in {outbox}"
        message += " and goes out with the next submit"
    elif left:
        message += f" ({left} earlier report(s) still wait in {outbox})"
    delivery = next((d for d in delivered if d.report_id == report_id), None)
    return SubmitOutcome(
        state=state,
        message=message.replace(token, "***") if token else message,
        report_id=report_id,
        delivered=tuple(delivered),
        rejected=tuple(rejected),
        waiting=left,
        score=delivery.score if delivery else None,
        max_score=delivery.max_score if delivery else None,
    )


def _json(response: requests.Response) -> dict[str, object]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _reject(path: Path, reason: str) -> None:
    """Move a refused report aside, with the server's reason beside it (kept, not lost)."""
    folder = path.parent / "rejected"
    with contextlib.suppress(OSError):  # a full disk: the report still moves aside
        folder.mkdir(exist_ok=True)
        (folder / (path.stem + ".reason.txt")).write_text(reason + "\n", encoding="utf-8")
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, folder / path.name)
