"""The gradebook's set-based queries agree with the obvious computation in Python."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devlab.server.seeded import COURSE, T0, Seeded
from webhook.gradebook import charts, queries, student_queries
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Course, Student, Submission


@pytest.fixture
def session(any_seeded: Seeded) -> Iterator[Session]:
    engine = make_engine(any_seeded.url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def course(session: Session) -> Course:
    found = queries.course_by_slug(session, COURSE)
    assert found is not None
    return found


def latest(submissions: list[Submission]) -> Submission:
    return max(submissions, key=lambda s: (s.received_at, s.id))


def test_student_rows_match_a_plain_computation(session: Session, course: Course) -> None:
    rows = {row.student_id: row for row in queries.student_rows(session, course)}
    students = session.scalars(select(Student).where(Student.course_id == course.id)).all()
    assert sorted(rows) == sorted(s.student_id for s in students)
    for student in students:
        row, subs = rows[student.student_id], student.submissions
        assert row.name == student.name
        assert row.submissions == len(subs)
        if not subs:
            assert row.latest_score is row.best_score is row.last_at is None
            assert not row.done and row.flagged == 0
            continue
        last = latest(subs)
        assert (row.latest_score, row.latest_max) == (last.score, last.max_score)
        assert row.last_at == last.received_at and row.last_at.tzinfo is not None
        assert row.best_score == max(s.score for s in subs)
        assert row.done == any(s.score >= s.max_score for s in subs)
        assert row.flagged == sum(s.flagged for s in subs)


def test_pass_rates_match_a_plain_computation(
    session: Session, course: Course, any_seeded: Seeded
) -> None:
    expected: dict[str, list[int]] = {}
    for student in session.scalars(select(Student).where(Student.course_id == course.id)):
        if student.submissions:
            for check in latest(student.submissions).checks:
                counts = expected.setdefault(check.check_id, [0, 0])
                counts[0] += check.status == "passed"
                counts[1] += 1
    rates = queries.pass_rates(session, course)
    assert [r.check_id for r in rates] == list(any_seeded.rubric)  # report order
    assert {r.check_id: [r.passed, r.total] for r in rates} == expected


def test_latest_report_breaks_a_tie_in_time_by_arrival(session: Session, course: Course) -> None:
    """Two reports in the same microsecond: the one stored last is the latest."""
    bob = session.scalars(select(Student).where(Student.student_id == "zz-bob")).one()
    first = bob.submissions[0]
    twin = Submission(
        report_id="zz-bob-twin",
        student_pk=bob.id,
        course_id=course.id,
        assignment_id=first.assignment_id,
        received_at=first.received_at,
        created=first.created,
        lab=first.lab,
        score=3,
        max_score=first.max_score,
        checks_digest=first.checks_digest,
        grader_version=first.grader_version,
        engine_id=first.engine_id,
        raw_xml="",
        via="token",
    )
    session.add(twin)
    session.flush()
    row = next(r for r in queries.student_rows(session, course) if r.student_id == "zz-bob")
    assert row.latest_score == 3 and row.submissions == 2
    session.rollback()


def row(student_id: str, **values: object) -> queries.StudentRow:
    defaults: dict[str, object] = {
        "pk": 1,
        "student_id": student_id,
        "name": student_id.upper(),
        "submissions": 1,
        "latest_score": 1,
        "latest_max": 10,
        "best_score": 1,
        "last_at": None,
        "done": False,
        "flagged": 0,
        "flag_reason": "",
    }
    defaults.update(values)
    return queries.StudentRow(**defaults)  # type: ignore[arg-type]


def test_students_without_reports_sort_last_either_way() -> None:
    rows = [
        row("a", best_score=5),
        row("b", submissions=0, latest_score=None, best_score=None),
        row("c", best_score=9),
        row("d", best_score=5),
    ]
    ids = lambda rs: [r.student_id for r in rs]  # noqa: E731
    assert ids(queries.sort_rows(rows, "best", descending=True)) == ["c", "a", "d", "b"]
    assert ids(queries.sort_rows(rows, "best", descending=False)) == ["a", "d", "c", "b"]


def test_status_sort_puts_flagged_then_done_first() -> None:
    rows = [
        row("a"),
        row("b", done=True),
        row("c", flagged=2),
        row("d", submissions=0, latest_score=None, best_score=None),
    ]
    order = [r.student_id for r in queries.sort_rows(rows, "status", descending=True)]
    assert order == ["c", "b", "a", "d"]


def test_pass_rate_chart_geometry() -> None:
    rates = [
        queries.PassRate("a.one", "task1", 10, 10),
        queries.PassRate("a.two", "task1", 3, 10),
        queries.PassRate("b.one", "task2", 6, 10),
        queries.PassRate("c.one", "task3", 0, 0),
    ]
    chart = charts.pass_rate_chart(rates, plot_width=500)
    assert [b.width for b in chart.bars] == [500, 150, 300, 0]
    assert [b.level for b in chart.bars] == ["fine", "stuck", "middling", "stuck"]
    assert [band.task for band in chart.bands] == ["task1", "task2", "task3"]
    assert chart.bands[0].height == 2 * chart.row_height
    ys = [b.y for b in chart.bars]
    assert ys == sorted(ys) and len(set(ys)) == 4
    assert chart.height > ys[-1] + chart.row_height


def test_score_chart_geometry() -> None:
    first = student_queries.SubmissionRow(
        id=1,
        report_id="r1",
        received_at=T0,
        created=T0,
        score=0,
        max_score=20,
        grader_version="0.1.0",
        checks_digest="d",
        engine_id="e",
        flagged=False,
        flag_reason="",
        via="token",
    )
    history = [
        first,
        replace(first, id=2, score=10, received_at=T0 + timedelta(hours=1)),
        replace(first, id=3, score=20, received_at=T0 + timedelta(hours=2)),
    ]
    chart = charts.score_chart(history, plot_width=400, plot_height=100)
    xs = [p.x for p in chart.points]
    ys = [p.y for p in chart.points]
    assert xs == [chart.left, chart.left + 200, chart.left + 400]
    assert ys == [chart.top + 100, chart.top + 50, chart.top]
    assert chart.polyline.count(",") == 3
    assert [v for v, _ in chart.y_ticks] == [0, 10, 20]
    single = charts.score_chart(history[:1], plot_width=400)
    assert single.points[0].x == single.left + 200  # one report sits in the middle
