"""What an assignment's pages show besides its roster: the assignment itself and its rubric
versions (who made each, when, its checks and total), read as small frozen records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from submissions.rubric import rubric_from_json
from webhook.storage.models import Assignment, AssignmentRubric


@dataclass(frozen=True, slots=True)
class RubricVersion:
    version: int
    created_at: datetime
    created_by: str  # who made it ("migration" for the course's own rubric)
    lab: str
    checks: int
    max_score: int


def rubric_versions(session: Session, assignment: Assignment) -> list[RubricVersion]:
    """Every rubric version of the assignment, newest first (one query; each parsed)."""
    query = (
        select(AssignmentRubric)
        .where(AssignmentRubric.assignment_id == assignment.id)
        .order_by(AssignmentRubric.version.desc())
    )
    found = []
    for row in session.scalars(query):
        rubric = rubric_from_json(row.rubric, source=f"rubric v{row.version}")
        found.append(
            RubricVersion(
                row.version, row.created_at, row.created_by or "—", rubric.lab,
                len(rubric.entries), rubric.max_score,
            )
        )  # fmt: skip
    return found
