"""A made-up class of students and their reports, for the gradebook's tests and bench/gradebook.

The class is deterministic for a given seed: each student improves over their
reports, some checks are hard (most of the class gets stuck on them), and a few
reports are flagged as coming from edited checks. With ``evidence``, each report's
evidence keys go in too, as ingest writes them: one Docker host per student, whose
containers change now and then as the student redoes a step, and every
``share_every``-th student on the previous one's engine (a pair to catch). Rows go in
with bulk inserts,
so that a class of 1,000 students with 20 reports each takes seconds. The
checks and points come from a server's rubric (the JSON document it scores from).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from submissions.rubric import Rubric
from webhook.storage import stored_grades
from webhook.storage.assignments import add_assignment
from webhook.storage.models import (
    Course,
    EvidenceKey,
    Flag,
    Student,
    Submission,
    SubmissionCheck,
)
from webhook.storage.tokens import hash_token, new_token

#: How hard each check is: the chance that a student who tries it gets it right.
DIFFICULTY = {
    "ubuntu.interactive": 0.45,
    "mydb.version": 0.5,
    "tweet.dockerfile": 0.55,
    "tweet.published": 0.6,
    "tweet.serves": 0.35,
    "figlet.committed": 0.2,
    "hello.dockerfile": 0.4,
    "hello.runs": 0.3,
}
FIRST_NAMES = tuple(
    [
        "Ada",
        "Alan",
        "Barbara",
        "Claude",
        "Dennis",
        "Edsger",
        "Frances",
        "Grace",
        "Guido",
        "Hedy",
        "Ivan",
        "John",
        "Ken",
        "Linus",
        "Margaret",
        "Niklaus",
        "Radia",
        "Rasmus",
        "Shafi",
        "Sophie",
        "Tim",
        "Whitfield",
        "Yukihiro",
        "Anita",
        "Donald",
    ]
)
LAST_NAMES = tuple(
    [
        "Lovelace",
        "Turing",
        "Liskov",
        "Shannon",
        "Ritchie",
        "Dijkstra",
        "Allen",
        "Hopper",
        "Rossum",
        "Lamarr",
        "Sutherland",
        "Backus",
        "Thompson",
        "Torvalds",
        "Hamilton",
        "Wirth",
        "Perlman",
        "Lerdorf",
        "Goldwasser",
        "Wilson",
        "Berners-Lee",
        "Diffie",
        "Matsumoto",
        "Borg",
        "Knuth",
    ]
)
START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SampleClass:
    course_id: int
    students: int
    submissions: int
    check_results: int


def seed_class(
    session: Session,
    rubric: Rubric,
    *,
    slug: str = "docker-101",
    name: str = "Docker for beginners",
    students: int = 30,
    reports_per_student: int = 5,
    silent: int = 0,
    seed: int = 1,
    flag_every: int = 37,
    exact_reports: bool = False,
    evidence: bool = False,
    share_every: int = 100,
) -> SampleClass:
    """Add a course (one assignment of ``rubric``'s lab) with ``students`` students, each
    with up to ``reports_per_student``.

    With ``exact_reports`` each sends exactly ``reports_per_student`` (a benchmark's
    worst case). The last ``silent`` students never submit. Every ``flag_every``-th report
    carries an unknown checks digest and is flagged. Commits.
    """
    rng = random.Random(seed)
    course = Course(slug=slug, name=name, created_at=START)
    session.add(course)
    session.flush()
    assignment = add_assignment(session, course, rubric)

    roster = []
    for i in range(students):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        roster.append(
            {
                "course_id": course.id,
                "student_id": f"s{i + 1:05d}",
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{i + 1}@example.edu",
                "token_hash": hash_token(new_token()),
                "created_at": START,
            }
        )
    session.execute(insert(Student), roster)
    pks = list(
        session.scalars(
            select(Student.id).where(Student.course_id == course.id).order_by(Student.student_id)
        )
    )

    version = sorted(rubric.known_versions)[0] if rubric.known_versions else "0.1.0"
    digest = sorted(rubric.known_digests)[0] if rubric.known_digests else "sha256:" + "ab" * 32
    submissions: list[dict[str, object]] = []
    results: list[dict[str, object]] = []
    keys: list[dict[str, object]] = []
    engine = ""
    for index, pk in enumerate(pks):
        if index >= students - silent:
            continue
        if index % share_every != share_every - 1:
            engine = f"engine:{rng.getrandbits(96):024X}"
        host = [f"container:{rng.getrandbits(256):064x}" for _ in range(5)]
        host += [f"image:sha256:{rng.getrandbits(256):064x}" for _ in range(3)]
        skill = rng.uniform(0.2, 1.0)
        when = START + timedelta(hours=rng.uniform(0, 72))
        passed: set[str] = set()
        count = reports_per_student if exact_reports else rng.randint(1, reports_per_student)
        for _ in range(count):
            when += timedelta(minutes=rng.uniform(3, 600))
            for entry in rubric.entries:
                chance = DIFFICULTY.get(entry.id, 0.85) * skill
                if entry.id not in passed and rng.random() < chance:
                    passed.add(entry.id)
            flagged = len(submissions) % flag_every == flag_every - 1
            if evidence:
                if rng.random() < 0.3:  # a step redone: a new container
                    host[rng.randrange(5)] = f"container:{rng.getrandbits(256):064x}"
                keys += [
                    {"course_id": course.id, "value": value, "student_pk": pk,
                     "submission_id": len(submissions)}  # an index until inserted
                    for value in dict.fromkeys([engine, *host])
                ]  # fmt: skip
            score = 0
            for entry in rubric.entries:
                ok = entry.id in passed
                score += entry.points if ok else 0
                results.append(
                    {
                        "submission_id": len(submissions),  # an index until inserted
                        "check_id": entry.id,
                        "task": entry.task,
                        "status": "passed" if ok else "failed",
                        "points": entry.points if ok else 0,
                        "max_points": entry.points,
                        "message": "" if ok else f"{entry.title}: not yet",
                        "hint": "" if ok else "see the lab's step for this check",
                    }
                )
            submissions.append(
                {
                    "report_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "student_pk": pk,
                    "course_id": course.id,
                    "assignment_id": assignment.id,
                    "received_at": when,
                    "created": when - timedelta(seconds=2),
                    "lab": rubric.lab,
                    "score": score,
                    "max_score": rubric.max_score,
                    "checks_digest": "sha256:" + "ee" * 32 if flagged else digest,
                    "grader_version": version,
                    "engine_id": str(uuid.UUID(int=pk)),  # one engine per student
                    "raw_xml": "<testsuites/>",
                    "flagged": flagged,
                    "flag_reason": "unknown checks digest (edited checks?)" if flagged else "",
                    "via": "token",
                    "dialect_version": "2",
                }
            )
    # Ids come back from the database (its own sequence), in the order of the rows.
    ids: list[int] = []
    for start in range(0, len(submissions), 5000):
        ids.extend(
            session.scalars(
                insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
                submissions[start : start + 5000],
            )
        )
    for result in results:
        result["submission_id"] = ids[cast(int, result["submission_id"])]
    for start in range(0, len(results), 20000):
        session.execute(insert(SubmissionCheck), results[start : start + 20000])
    for key in keys:
        key["submission_id"] = ids[cast(int, key["submission_id"])]
    for start in range(0, len(keys), 20000):
        session.execute(insert(EvidenceKey), keys[start : start + 20000])
    flags = [
        {"key": f"{ids[n]}:not_our_checks:", "course_id": course.id,
         "student_pk": row["student_pk"], "submission_id": ids[n], "kind": "not_our_checks",
         "reason": row["flag_reason"], "created_at": row["received_at"]}
        for n, row in enumerate(submissions)
        if row["flagged"]
    ]  # fmt: skip
    if flags:
        session.execute(insert(Flag), flags)
    # Written past the hooks (webhook.grade_events): the stored grades as the server keeps them.
    stored_grades.refresh_assignment(session.connection(), assignment.id)
    session.commit()
    return SampleClass(course.id, len(pks), len(submissions), len(results))
