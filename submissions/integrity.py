"""What one report's own evidence says about it: the per-report integrity checks.

A score that a student's machine reports cannot be proven; these checks make the cheap
cheats visible instead. They read one :class:`~submissions.dialect.Report` and never
refuse it: each problem becomes a :class:`Flag` (a kind and a reason in plain words)
that the instructor decides on. Comparing reports with each other (two students
sharing a container, the same body twice) needs every report of a course and is the
server's (``webhook.crosscheck``); :func:`sharing_keys` gives it what to compare.
The hashes of the files a lab gives unchanged come from the server's rubric
(``known_files``), passed in.

Standard library only: ``grade`` and the server share this package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from submissions import dialect
from submissions.dialect import Evidence, Report

#: Every flag kind, in the order the gradebook explains them, with its meaning in plain words.
KINDS: dict[str, str] = {
    "shared_evidence": "shares a Docker engine, container or image with another student's report",
    "same_body": "the very same report, byte for byte, as another student's",
    "no_evidence": "passed checks that do not say what proved them (typed by hand, old grade)",
    "bad_evidence": "evidence that is not what Docker writes (ids, times)",
    "unknown_file": "a hash of a file the lab gives that matches none of the lab's versions",
    "odd_engine_id": "an engine id in no format Docker or Podman uses",
    "unknown_engine": "evidence from an engine whose id the report does not give",
    "evidence_before_opening": "evidence dated before the course opened (an old lab sent again)",
    "evidence_after_report": "evidence newer than the report that carries it",
    "container_before_image": "a container created before the image it runs",
    "future_report": "a report dated more than 5 minutes after it arrived",
    "before_opening": "a report dated before the course opened",
    "not_our_checks": "edited checks or an unknown grader, lab or check",
    "grading_error": "grading failed on the student's side",
}
#: Kinds that name another student; their reason says what the two reports share.
PAIR_KINDS = frozenset({"shared_evidence", "same_body"})

#: ``created`` is written in whole seconds: evidence up to this much later is fine.
CREATED_SLACK = timedelta(seconds=1)
#: How far in the future (of its arrival) a report may be dated: clocks drift.
FUTURE_SLACK = timedelta(minutes=5)
#: Engine ids that say nothing: no engine answered, or an engine without one.
NO_ENGINE_ID = frozenset({"", "unknown"})

#: The engine ids Docker and Podman give (``docker info``'s ``ID``): Docker before 23.0 (and
#: engines upgraded since) its libtrust key id, 12 groups of 4 base32 characters; Docker 23.0
#: and later, and Podman's compat API (a new one per call), a UUID as Go writes it.
ENGINE_ID_SHAPES = (
    re.compile(r"[A-Z2-7]{4}(?::[A-Z2-7]{4}){11}"),
    re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
)

HEX64 = re.compile(r"[0-9a-f]{64}")
IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")
#: How each kind of evidence's id must look (Docker writes lowercase hex).
ID_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "container": (HEX64, "64 hex digits"),
    "event": (HEX64, "64 hex digits (a container id)"),
    "image": (IMAGE_ID, "sha256: and 64 hex digits"),
    "file": (HEX64, "64 hex digits (a sha256)"),
}
#: Evidence kinds that carry the time Docker gave them.
TIMED = frozenset({"container", "image", "event"})
#: Longest identifier kept for cross-checks (the reader allows 1,000 characters).
MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class Flag:
    """Something about a report the instructor should look at; ``kind`` is one of :data:`KINDS`."""

    kind: str
    reason: str


def describe(kind: str, reason: str, other: str | None = None) -> str:
    """A flag as one sentence; ``other`` names the other student of a pair kind."""
    if kind == "shared_evidence":
        return f"shares evidence with {other or 'another student'}: {reason}"
    if kind == "same_body":
        return f"the same report, byte for byte, as {other or 'another student'}'s: {reason}"
    return reason


def check_report(
    report: Report,
    *,
    received_at: datetime,
    opens_at: datetime | None = None,
    known_files: Mapping[str, frozenset[str]] | None = None,
) -> tuple[Flag, ...]:
    """The flags one report earns on its own, received at ``received_at`` (aware UTC).

    ``opens_at`` is when the course opened, if it says; ``known_files`` the rubric's hashes
    of the files the lab gives unchanged. Never raises: a report the reader accepted is
    kept, and whatever looks wrong is flagged with its reason.
    """
    # As the reader parsed it; a report built in memory (not read) carries only the text.
    created = report.created_at or _time(report.created) or received_at
    flags: list[Flag] = []
    bare = [r.id for r in report.results if r.passed and not r.evidence]
    if bare:
        if report.dialect_version == dialect.FIRST_DIALECT_VERSION:
            reason = (
                f"no evidence: a report of the first dialect, whose {len(bare)} passed check(s)"
                " do not say what proved them (typed by hand, or a grade older than evidence)"
            )
        else:
            reason = f"no evidence for {len(bare)} passed check(s): {_first(bare)}"
        flags.append(Flag("no_evidence", reason))

    # Checks share evidence (every mydb check names the mydb container): judge each once.
    checks_of: dict[Evidence, list[str]] = {}
    for result in report.results:
        for evidence in result.evidence if result.passed else ():
            checks_of.setdefault(evidence, []).append(result.id)
    flag = _engine_flag(report.engine_id, has_evidence=bool(checks_of))
    if flag is not None:
        flags.append(flag)
    malformed: list[str] = []
    later: list[str] = []
    older: list[str] = []  # than the course
    unknown: list[str] = []
    times: dict[Evidence, datetime] = {}
    latest = created + CREATED_SLACK
    # A report itself dated before the opening is flagged for that (before_opening) alone.
    opened = opens_at if opens_at is not None and created >= opens_at else None
    known = known_files or {}
    for evidence, checks in checks_of.items():
        problem = _malformed(evidence)
        if problem:
            malformed += [f"{check}: {problem}" for check in checks]
            continue
        if evidence.kind == "file" and evidence.name in known:
            if evidence.id not in known[evidence.name]:
                unknown += [
                    f"{check}: {evidence.name[:80]} {_short(evidence.id)}" for check in checks
                ]
            continue
        moment = _time(evidence.created) if evidence.kind in TIMED else None
        if moment is None:
            continue
        times[evidence] = moment
        said = f"{evidence.kind} {_short(evidence.id)} {moment:%F %T}"
        if moment > latest:
            later += [f"{check}: {said}" for check in checks]
        if opened is not None and moment < opened:
            older += [f"{check}: {said}" for check in checks]
    if unknown:
        flags.append(
            Flag("unknown_file", f"a file the lab gives, with another hash: {_first(unknown)}")
        )
    if older:
        flags.append(
            Flag(
                "evidence_before_opening",
                f"evidence from before the course opened ({opened:%F %T} UTC): {_first(older)}",
            )
        )
    if malformed:
        flags.append(Flag("bad_evidence", f"evidence not as Docker writes it: {_first(malformed)}"))
    if later:
        flags.append(
            Flag(
                "evidence_after_report",
                f"evidence newer than the report ({created:%F %T} UTC): {_first(later)}",
            )
        )
    images = {e.id: t for e, t in times.items() if e.kind == "image"}
    early = [
        f"container {_short(e.id)} {t:%F %T} runs image {_short(e.image)} {images[e.image]:%F %T}"
        for e, t in times.items()
        if e.kind == "container" and e.image in images and t < images[e.image]
    ]
    if early:
        flags.append(Flag("container_before_image", f"created before its image: {_first(early)}"))
    if created > received_at + FUTURE_SLACK:
        flags.append(
            Flag(
                "future_report",
                f"dated {created:%F %T} UTC, more than 5 minutes after it arrived"
                f" ({received_at:%F %T} UTC)",
            )
        )
    flag = before_opening(created, opens_at)
    if flag is not None:
        flags.append(flag)
    return tuple(flags)


def _engine_flag(engine_id: str, *, has_evidence: bool) -> Flag | None:
    """An engine id no engine gives, or none on a report whose evidence came from one.

    ``grade`` writes ``unknown`` when no engine answered; then no check passed, so nothing
    is wrong with a report that carries no evidence.
    """
    value = engine_id.strip()
    if value.lower() in NO_ENGINE_ID:
        if not has_evidence:
            return None
        return Flag(
            "unknown_engine",
            f"no engine id ({value or 'empty'!r}) on a report whose passed checks name an"
            " engine's containers, images or files",
        )
    if any(shape.fullmatch(value) for shape in ENGINE_ID_SHAPES):
        return None
    return Flag(
        "odd_engine_id",
        f"engine id {value[:60]!r} is in no format Docker or Podman uses (12 groups of 4"
        " base32 characters, or a UUID)",
    )


def before_opening(created: datetime, opens_at: datetime | None) -> Flag | None:
    """The flag of a report dated before the course opened, if it was."""
    if opens_at is None or created >= opens_at:
        return None
    return Flag(
        "before_opening",
        f"dated {created:%F %T} UTC, before the course opened ({opens_at:%F %T} UTC)",
    )


def sharing_keys(report: Report) -> frozenset[str]:
    """What no two students' reports should have in common, as ``kind:id`` strings.

    The engine's id (unless it is unknown), the containers of ``container`` and
    ``event`` evidence, and the images of ``image`` evidence (the student's own
    builds). Not file hashes (everyone clones the same tweet app) and not the image a
    container runs (a pulled image such as alpine has one id for everyone).
    """
    keys: set[str] = set()
    if report.engine_id.strip().lower() not in NO_ENGINE_ID:
        keys.add(f"engine:{report.engine_id.strip()}"[:MAX_KEY])
    for result in report.results:
        for evidence in result.evidence if result.passed else ():
            if evidence.kind in ("container", "event"):
                keys.add(f"container:{evidence.id}"[:MAX_KEY])
            elif evidence.kind == "image":
                keys.add(f"image:{evidence.id}"[:MAX_KEY])
    return frozenset(keys)


def describe_keys(keys: Iterable[str], limit: int = 3) -> str:
    """Shared keys as a reason: ``engine ABCD:…, container 3f2a9c01d2e4``."""
    ordered = sorted(keys, key=lambda key: (not key.startswith("engine:"), key))
    words = []
    for key in ordered[:limit]:
        kind, _, value = key.partition(":")
        words.append(f"{kind} {value if kind == 'engine' else _short(value)}")
    more = len(ordered) - limit
    return ", ".join(words) + (f" and {more} more" if more > 0 else "")


def _malformed(evidence: Evidence) -> str:
    shape, words = ID_SHAPES[evidence.kind]
    if not shape.fullmatch(evidence.id):
        return f"{evidence.kind} id {evidence.id[:40]!r} is not {words}"
    if evidence.kind in TIMED:
        if not evidence.created:
            return f"{evidence.kind} {_short(evidence.id)} has no time"
        if _time(evidence.created) is None:
            return f"{evidence.kind} time {evidence.created[:40]!r} is not an ISO 8601 time"
    return ""


def _time(value: str) -> datetime | None:
    """An ISO 8601 time as aware UTC (a time without a zone is UTC), or None."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
        return None


def _short(identifier: str) -> str:
    """An id as people quote them: ``3f2a9c01d2e4`` (``sha256:`` dropped, 12 digits)."""
    return identifier.removeprefix("sha256:")[:12]


def _first(items: list[str], limit: int = 3) -> str:
    more = len(items) - limit
    return "; ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")
