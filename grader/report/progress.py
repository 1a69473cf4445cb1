"""``grade --watch --submit URL``: the student's live progress, for the instructor's board.

After each grading run, :meth:`ProgressSender.offer` hands over the report; a thread sends
the newest state (each check's id and status, a failing check's one-line message; never
evidence) to ``POST /api/v1/progress`` at most once every :data:`EVERY` seconds. Sending
never holds the watch up, and nothing is queued: a state not yet sent is replaced by a
newer one, and one the server could not take (away, busy) is dropped, because the next
change says more. The final report still goes through the outbox as every ``--submit``.

What ``grade`` says, once each: that it shares progress (when the first one is taken);
that the server is away (until it answers again); that the server does not take progress
(``progress_off``: the instructor has not turned the board on; sending stops, watching
goes on), or refuses it for another reason (a wrong token, no such assignment).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from grader.i18n import accept_language
from submissions.dialect import Report

if TYPE_CHECKING:
    from rich.console import Console

#: At most one progress post every this many seconds.
EVERY = 2.0
#: How long a post may take before it is dropped (the watch never waits for it).
TIMEOUT = 3.0
#: A failing check's message is cut to this many characters (its first line).
MESSAGE = 200

Post = Callable[[dict[str, Any]], "tuple[int, dict[str, Any]] | None"]


def progress_url(url: str) -> str:
    """The server's base URL (or its submissions endpoint) → its progress endpoint."""
    url = url.rstrip("/")
    if url.endswith("/api/v1/submissions"):
        url = url[: -len("/api/v1/submissions")]
    return url + "/api/v1/progress"


def document(report: Report, assignment: str | None = None) -> dict[str, Any]:
    """What a report's progress says: each check's id and status, failures' first lines."""
    checks = []
    for result in report.results:
        check: dict[str, Any] = {"id": result.id, "status": result.status}
        if result.status in ("failed", "error") and result.message:
            line = next((p.strip() for p in result.message.splitlines() if p.strip()), "")
            check["message"] = line[:MESSAGE]
        checks.append(check)
    said: dict[str, Any] = {"lab": report.lab, "checks": checks}
    if assignment:
        said["assignment"] = assignment
    return said


def http_post(url: str, token: str, timeout: float = TIMEOUT) -> Post:
    """A post to ``url`` with the student's token: (status, JSON) or None if unreachable."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", **accept_language()}

    def post(body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        try:
            response = session.post(url, json=body, headers=headers, timeout=timeout)
        except requests.RequestException:
            return None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return response.status_code, answer if isinstance(answer, dict) else {}

    return post


class ProgressSender:
    """Sends the newest progress, coalesced, from a thread of its own; see the module."""

    def __init__(
        self,
        post: Post,
        say: Callable[[str], None],
        *,
        assignment: str | None = None,
        every: float = EVERY,
        where: str = "the server",
    ) -> None:
        self._post, self._say, self._assignment = post, say, assignment
        self._every, self._where = every, where
        self._pending: dict[str, Any] | None = None
        self._last: dict[str, Any] | None = None
        self._wake = threading.Condition()
        self._closed = False
        self.stopped = False  # refused for good: nothing more is sent
        self._told: set[str] = set()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def offer(self, report: Report) -> None:
        """The newest state; sent when its turn comes unless a newer one replaces it."""
        said = document(report, self._assignment)
        with self._wake:
            if self.stopped or said == self._last:
                return
            self._pending = said
            self._wake.notify()

    def close(self) -> None:
        """Stop the thread; what was not sent yet is dropped (the report goes by the outbox)."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=TIMEOUT + 1)

    def _run(self) -> None:
        next_at = 0.0
        while True:
            with self._wake:
                while not self._closed and self._pending is None:
                    self._wake.wait()
                if self._closed:
                    return
            delay = next_at - time.monotonic()
            if delay > 0:  # coalesce: whatever comes meanwhile replaces what waits
                with self._wake:
                    self._wake.wait_for(lambda: self._closed, timeout=delay)
                    if self._closed:
                        return
            with self._wake:
                body, self._pending = self._pending, None
            if body is None:
                continue
            next_at = time.monotonic() + self._every
            self._answer(body, self._post(body))

    def _answer(self, body: dict[str, Any], answer: tuple[int, dict[str, Any]] | None) -> None:
        if answer is not None and answer[0] == 429:
            return  # too fast for the server: dropped, the next change goes
        if answer is None or answer[0] >= 500:
            away = f"{self._where} is not answering: progress is not shared until it is back"
            self._once("away", away + " (your work and your final report are not affected)")
            return  # dropped, not queued: the next change says more
        status, said = answer
        self._told.discard("away")
        if status < 300:
            self._last = body
            self.sent += 1
            self._once("sharing", f"sharing your progress with {self._where} for the class"
                       " board (each check's status; progress is never a grade)")  # fmt: skip
            return
        with self._wake:
            self.stopped = True
        reason = str(said.get("reason") or f"HTTP {status}")
        if said.get("error") == "progress_off":
            self._once("off", f"progress is not shared: {reason}")
        else:
            self._once("refused", f"progress is not shared: the server refused it ({reason})")

    def _once(self, key: str, message: str) -> None:
        if key not in self._told:
            self._told.add(key)
            self._say(f"grade: {message}")


@contextlib.contextmanager
def sharing(
    progress: tuple[str, str, str | None] | None, console: Console
) -> Iterator[Callable[[Report], None] | None]:
    """``grade --watch``'s hook for each run's report: a :class:`ProgressSender` to the
    server of ``progress`` (URL, token, assignment), closed on leaving; None without one."""
    if progress is None:
        yield None
        return
    url, token, assignment = progress
    sender = ProgressSender(
        http_post(progress_url(url), token),
        lambda line: console.print(line, style="dim", markup=False, highlight=False),
        assignment=assignment,
        where=urlsplit(url).netloc or url,
    )
    try:
        yield sender.offer
    finally:
        sender.close()
