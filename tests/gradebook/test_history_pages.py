"""Bounded pages (issue 11, finding 2): a student's history is paginated, and the class
chart shows the rubric's checks only, whatever check ids a report invents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devlab.server.seeded import COURSE, T0, _report, make_app, seed_database
from submissions.rubric import Rubric
from webhook.gradebook.student_queries import HISTORY_PAGE
from webhook.storage.db import make_engine, make_session_factory
from webhook.storage.models import Course, Student, SubmissionCheck
from webhook.storage.queries import first_assignment

REPORTS = 2 * HISTORY_PAGE + 20
INVENTED = "invented.check"


@pytest.fixture
def busy(tmp_path: Path, rubric: Rubric) -> list[int]:
    """The test class plus ``zz-many`` with REPORTS reports (the best is the 7th), the
    latest naming a check the rubric does not have. Their ids, oldest first."""
    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    seed_database(url, rubric)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            course = session.query(Course).filter_by(slug=COURSE).one()
            many = Student(course_id=course.id, student_id="zz-many", name="Many Reports",
                           token_hash="c" * 64)  # fmt: skip
            session.add(many)
            assignment = first_assignment(session, course)
            assert assignment is not None
            reports = [
                _report(many, T0 + timedelta(minutes=n), rubric,
                        set() if n == 6 else {"tweet.serves"},
                        assignment_id=assignment.id)
                for n in range(REPORTS)
            ]  # fmt: skip
            session.add_all(reports)
            session.flush()
            session.add(
                SubmissionCheck(submission_id=reports[-1].id, check_id=INVENTED, task="task9",
                                status="passed", points=0, max_points=0)
            )  # fmt: skip
            session.commit()
            ids = [r.id for r in reports]
    finally:
        engine.dispose()
    (tmp_path / "url").write_text(url)
    return ids


@pytest.fixture
def app(busy: list[int], tmp_path: Path) -> Iterator[Flask]:
    app = make_app((tmp_path / "url").read_text(), tmp_path)
    yield app
    app.extensions["grader_db"].dispose()


def rows(page: str) -> list[int]:
    table = page[page.index('id="history"') :]
    return [int(n) for n in re.findall(r'submissions/(\d+)">#', table)]


def test_the_history_shows_fifty_reports_a_page_newest_first(
    instructor: FlaskClient, busy: list[int], rubric: Rubric
) -> None:
    url = "/gradebook/docker-101/students/zz-many"
    first = instructor.get(url).get_data(as_text=True)
    assert rows(first) == busy[::-1][:HISTORY_PAGE]
    assert first.count('<circle class="point') == HISTORY_PAGE
    assert "Page 1 of 3" in first and "page=2" in first and "Newer" not in first
    assert f"<strong>{REPORTS}</strong> reports" in first
    full = rubric.max_score
    assert f"<strong>{full}/{full}</strong> best" in first  # the best is on page 3
    last = instructor.get(url + "?page=3").get_data(as_text=True)
    assert rows(last) == busy[::-1][2 * HISTORY_PAGE :]
    assert "Page 3 of 3" in last and "Older" not in last
    assert f"<strong>{full - 2}/{full}</strong> latest" in last  # the newest, on page 1
    assert rows(instructor.get(url + "?page=999").get_data(as_text=True)) == rows(last)


@pytest.mark.parametrize("page", ["abc", "-1", "1e9", "9" * 12])
def test_a_page_that_is_not_a_number_is_a_400(instructor: FlaskClient, page: str) -> None:
    response = instructor.get(f"/gradebook/docker-101/students/zz-many?page={page}")
    assert response.status_code == 400


def test_the_class_chart_has_the_rubrics_checks_only(
    instructor: FlaskClient, rubric: Rubric
) -> None:
    page = instructor.get("/gradebook/docker-101/a/docker_beginners").get_data(as_text=True)
    bars = re.findall(r'<rect class="bar bar-\w+" data-check="([^"]+)"', page)
    assert bars == list(rubric)
    assert INVENTED not in page
