"""Sends a report to the instructor's server; what cannot be sent waits in an outbox.

:func:`submit_report` first writes the report into the outbox (a folder, by
default ``$XDG_DATA_HOME/grade/outbox``, i.e. ``~/.local/share/grade/outbox``),
then sends everything waiting there, oldest first, this report last. A report
leaves the outbox only once the server has it (2xx) or has refused it for
good (400, 409, 413, 415, 422: it then moves to ``outbox/rejected/`` with the
reason beside it). When the server cannot be reached or answers 5xx, reports
stay and go out with the next submit; so they do when it refuses the token
(401/403) or asks to slow down (429), which is answered as ``rejected`` with
the reason. A report the server has no assignment for (404 ``no_assignment``: the
student's course has none of its lab, or several and ``--assignment`` named none) stays
too, and the next reports are still sent. The server stores each report id once, so
sending again is safe. A report sent with ``--assignment SLUG`` keeps that slug beside it
in the outbox (``<time>-<report id>.assignment``), so a later submit sends it the same way.
The token is sent only in the ``Authorization`` header and never shown.

The report goes one way: the caller passes the id it wrote into the report,
the outbox file is named ``<time>-<report id>.xml`` (as every release has
named it) so a waiting report's id is read from its name, this report is sent
from memory, and each waiting one is read once, to send it; nothing here
parses XML. What a reply means is :func:`decide`'s, a pure function.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import requests

from grader.data_folder import data_folder
from grader.errors import GradingError
from grader.i18n import accept_language

#: submitted: the server has it; queued: the server could not be reached (or failed),
#: the report waits; rejected: the server said no (4xx), ``message`` says why.
State = Literal["submitted", "queued", "rejected"]
#: What becomes of one report after the server's reply: it leaves the outbox (delivered),
#: moves aside (reject), or waits for the next submit, and sending stops (retry) or goes on
#: with the next report (keep: only this one cannot be filed yet).
Action = Literal["delivered", "retry", "reject", "keep"]

#: Refusals of the report itself: sending it again cannot help.
FINAL = frozenset({400, 409, 413, 415, 422})
#: Names the student an instructor's verified report is for: ``<course>/<student id>``.
STUDENT_HEADER = "X-Grader-Student"
#: Names the assignment a report is for, when the course has two of its lab.
ASSIGNMENT_HEADER = "X-Grader-Assignment"
#: The server's error code for a report it has no assignment to file under.
NO_ASSIGNMENT = "no_assignment"
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


@dataclass(frozen=True)
class Reply:
    """The server's answer to one report (``status``, its JSON object, ``Retry-After``), or
    ``error``, the name of what kept it from answering (``ConnectionError``, ``ReadTimeout``)."""

    status: int = 0
    body: Mapping[str, object] = field(default_factory=dict)
    retry_after: str | None = None
    error: str = ""


@dataclass(frozen=True)
class Decision:
    """What to do with one report (``action``), what the student is told became of it
    (``state``: a refused token or pace waits, yet is told as ``rejected``), and why."""

    action: Action
    state: State
    message: str
    reason: str = ""  # reject: the server's reason, kept beside the report


def decide(reply: Reply, endpoint: str) -> Decision:
    """What ``reply`` to a report sent to ``endpoint`` means for that report."""
    if reply.error:
        unreachable = f"the server at {endpoint} cannot be reached ({reply.error})"
        return Decision("retry", "queued", unreachable)
    status = reply.status
    if 200 <= status < 300:
        score = f"{reply.body.get('score')}/{reply.body.get('max_score')}"
        return Decision("delivered", "submitted", f"submitted: score {score}")
    reason = str(reply.body.get("reason") or reply.body.get("error") or "") or f"HTTP {status}"
    if status == 404 and reply.body.get("error") == NO_ASSIGNMENT:
        kept = f"the server cannot file this report yet: {reason}; it waits in the outbox"
        return Decision("keep", "rejected", kept)
    if status in FINAL:
        refused = f"the server refused this report ({status}): {reason}"
        return Decision("reject", "rejected", refused, reason)
    if status in (401, 403):
        token = f"the server refused the token ({status}: {reason}); check --token or GRADER_TOKEN"
        return Decision("retry", "rejected", token)
    if status == 429:
        after = "?" if reply.retry_after is None else reply.retry_after
        pace = f"the server asks to wait (429: {reason}; retry after {after} s)"
        return Decision("retry", "rejected", pace)
    return Decision("retry", "queued", f"the server answered {status} ({reason})")


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


def enqueue(xml: bytes, report_id: str, outbox: Path, assignment: str | None = None) -> Path:
    """Keep the report in the outbox as ``<time>-<report id>.xml`` (written aside, then
    renamed: never half a file), its ``assignment`` beside it; a report already waiting
    there stays as it is."""
    outbox.mkdir(parents=True, exist_ok=True)
    name = _SAFE.sub("_", report_id)
    for existing in outbox.glob(f"*-{name}.xml"):
        return existing
    path = outbox / f"{time.time_ns():020d}-{name}.xml"
    if assignment:  # first: the report is never waiting without it
        _write_whole(path.with_suffix(".assignment"), assignment.encode("utf-8"))
    _write_whole(path, xml)
    return path


def _write_whole(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def waiting_assignment(path: Path) -> str | None:
    """The assignment a waiting report was submitted for (``--assignment``), if any."""
    try:
        return path.with_suffix(".assignment").read_text("utf-8").strip() or None
    except OSError:
        return None


def waiting(outbox: Path) -> list[Path]:
    return sorted(outbox.glob("*.xml")) if outbox.is_dir() else []


def waiting_id(path: Path) -> str:
    """The report id in a waiting report's name, ``<time>-<report id>.xml``."""
    return path.stem.partition("-")[2]


def submit_report(
    xml: bytes,
    report_id: str,
    *,
    url: str,
    token: str,
    outbox: Path,
    student: str | None = None,
    assignment: str | None = None,
    timeout: float = 10,
    session: requests.Session | None = None,
) -> SubmitOutcome:
    """Send ``xml``, the report ``report_id`` (and what waits in ``outbox`` before it), to
    the server at ``url``.

    With ``student`` (``course/id``) and an instructor's token, the server stores the
    report as verified by that instructor for that student (``outbox`` is then that
    student's :func:`verified_outbox`). With ``assignment``, the report is filed under the
    course's assignment of that slug (for a course with two assignments of its lab).
    """
    mine = _Mine(_keep(xml, report_id, outbox, assignment), xml, report_id)
    headers = {"Content-Type": "application/xml", "Authorization": f"Bearer {token}"}
    headers.update(accept_language())  # the server's reasons in the student's language
    if student is not None:
        headers[STUDENT_HEADER] = student
    http = session or requests.Session()
    channel = _Channel(http, submissions_url(url), headers, timeout)
    try:
        sent = _send_waiting(channel, outbox, mine)
    finally:
        if session is None:
            http.close()
    return _outcome(sent, mine, outbox, token)


def _keep(xml: bytes, report_id: str, outbox: Path, assignment: str | None) -> Path:
    try:
        return enqueue(xml, report_id, outbox, assignment)
    except OSError as exc:
        raise OutboxUnwritable(
            f"cannot keep the report in {outbox} to send it ({exc.strerror}): free some space "
            "there (or set XDG_DATA_HOME to a folder you can write), then run grade --submit "
            "again; nothing was sent"
        ) from None


class _Mine(NamedTuple):
    """This submit's own report: where it waits, its bytes (sent from memory) and id."""

    path: Path
    xml: bytes
    report_id: str


@dataclass(frozen=True)
class _Channel:
    """How reports reach the server: one POST each, the answer as a :class:`Reply`."""

    http: requests.Session
    endpoint: str
    headers: dict[str, str]
    timeout: float

    def post(self, body: bytes, assignment: str | None = None) -> Reply:
        headers = self.headers | ({ASSIGNMENT_HEADER: assignment} if assignment else {})
        try:
            response = self.http.post(
                self.endpoint, data=body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            return Reply(error=type(exc).__name__)
        return Reply(response.status_code, _json(response), response.headers.get("Retry-After"))


@dataclass
class _Sent:
    """What one pass over the outbox did."""

    delivered: list[Delivery] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    mine: Decision | None = None  # what the server said of this submit's own report
    delivery: Delivery | None = None  # and, delivered, its score
    stop: Decision | None = None  # why sending stopped early


def _send_waiting(channel: _Channel, outbox: Path, mine: _Mine) -> _Sent:
    """Send each waiting report, oldest first, until the server cannot take more."""
    sent = _Sent()
    named = {path.stem for path in outbox.glob("*.assignment")}  # listed, read only if there
    for path in waiting(outbox):
        ours = path == mine.path
        body = mine.xml if ours else _read(path)
        if body is None:  # another submit running at once sent it, or it is not ours to read
            continue
        reply = channel.post(body, waiting_assignment(path) if path.stem in named else None)
        decision = decide(reply, channel.endpoint)
        if decision.action == "retry":
            sent.stop = decision
            break
        if decision.action == "keep":  # only this one waits; the next may be filed
            sent.mine = decision if ours else sent.mine
            continue
        report_id = mine.report_id if ours else waiting_id(path)
        if decision.action == "delivered":
            delivery = _delivered(path, report_id, reply)
            sent.delivered.append(delivery)
            sent.delivery = delivery if ours else sent.delivery
        else:
            _reject(path, decision.reason)
            sent.rejected.append((report_id, decision.reason))
        sent.mine = decision if ours else sent.mine
    return sent


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _delivered(path: Path, report_id: str, reply: Reply) -> Delivery:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(FileNotFoundError):
        path.with_suffix(".assignment").unlink()
    body = reply.body
    return Delivery(
        report_id,
        reply.status,
        _int(body.get("id")),
        _int(body.get("score")),
        _int(body.get("max_score")),
    )


def _outcome(sent: _Sent, mine: _Mine, outbox: Path, token: str) -> SubmitOutcome:
    left = len(waiting(outbox))
    state, message = _told(sent, mine.path, outbox, left)
    return SubmitOutcome(
        state=state,
        message=message.replace(token, "***") if token else message,
        report_id=mine.report_id,
        delivered=tuple(sent.delivered),
        rejected=tuple(sent.rejected),
        waiting=left,
        score=sent.delivery.score if sent.delivery else None,
        max_score=sent.delivery.max_score if sent.delivery else None,
    )


def _told(sent: _Sent, mine: Path, outbox: Path, left: int) -> tuple[State, str]:
    """What became of this submit's report, in a line."""
    if sent.mine is not None:
        state, message = sent.mine.state, sent.mine.message
    elif sent.stop is None and not mine.exists():
        state, message = "submitted", "submitted (by another grade run at the same moment)"
    else:
        stop = sent.stop or Decision("retry", "queued", "unknown reason")
        waits = f"the report waits in {outbox} and goes out with the next submit"
        return stop.state, f"not submitted: {stop.message}; {waits}"
    if left:
        message += f" ({left} earlier report(s) still wait in {outbox})"
    return state, message


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
    with contextlib.suppress(FileNotFoundError):
        os.replace(path.with_suffix(".assignment"), folder / (path.stem + ".assignment"))
