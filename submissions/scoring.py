"""Scores a report from the server's own rubric; what the report claims is ignored.

A check earns its rubric points when it passed, else nothing. The maximum is
the whole rubric, so a report that holds only some tasks scores out of all of
them. What looks wrong is kept but flagged for the instructor: a checks digest
or grader version the server does not know (evidence of edited checks), a lab
other than the rubric's, checks the rubric does not have, points claimed for
a check that did not pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from submissions.dialect import Report, Status
from submissions.rubric import Rubric


@dataclass(frozen=True)
class ScoredCheck:
    check_id: str
    task: str
    status: Status
    points: int
    max_points: int
    message: str
    hint: str


@dataclass(frozen=True)
class Score:
    score: int
    max_score: int
    checks: tuple[ScoredCheck, ...]
    flags: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def flag_reason(self) -> str:
        return "; ".join(self.flags)


def score_report(report: Report, rubric: Rubric) -> Score:
    flags: list[str] = []
    if report.lab != rubric.lab:
        flags.append(f"lab {report.lab!r} is not this server's {rubric.lab!r}")
    if report.checks_digest not in rubric.known_digests:
        flags.append(f"unknown checks digest {report.checks_digest[:64]!r}")
    if report.grader_version not in rubric.known_versions:
        flags.append(f"unknown grader version {report.grader_version[:40]!r}")
    if report.grading_error:
        flags.append(f"grading failed on the student's side: {report.grading_error[:200]}")

    checks: list[ScoredCheck] = []
    unknown: list[str] = []
    claimed_unearned: list[str] = []
    for result in report.results:
        entry = rubric.get(result.id)
        if entry is None:
            unknown.append(result.id)
        if result.status != "passed" and result.points > 0:
            claimed_unearned.append(result.id)
        most = entry.points if entry is not None else 0
        checks.append(
            ScoredCheck(
                check_id=result.id,
                task=entry.task if entry is not None else result.task,
                status=result.status,
                points=most if result.passed else 0,
                max_points=most,
                message=result.message,
                hint=result.hint,
            )
        )
    if unknown:
        flags.append(f"checks not in the rubric: {', '.join(unknown[:5])}")
    if claimed_unearned:
        flags.append(
            f"points claimed for checks that did not pass: {', '.join(claimed_unearned[:5])}"
        )
    return Score(
        score=sum(check.points for check in checks),
        max_score=rubric.max_score,
        checks=tuple(checks),
        flags=tuple(flags),
    )
