"""The instructor decides: the flags page, accepting a flag and rejecting a report, and the
export that follows the decisions (through the Flask test client)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from devlab.server.seeded import PASSWORD, USERNAME, csrf_from

from .conftest import FlaggedClass


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def teacher(flagged: FlaggedClass) -> FlaskClient:
    client = flagged.app.test_client()
    token = csrf_from(html(client.get("/login")))
    response = client.post(
        "/login", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def grades(client: FlaskClient, query: str = "") -> dict[str, tuple[str, str]]:
    """Roster id → (grade, open flags) of the web's Moodle export."""
    response = client.get(f"/gradebook/docker-101/export.csv?format=moodle{query}")
    assert response.status_code == 200, html(response)
    return {row[0]: (row[5], row[4]) for row in list(csv.reader(io.StringIO(html(response))))[1:]}


def flag_ids(page: str) -> dict[str, int]:
    """Roster id → the id of their flag on the flags page."""
    return {who: int(pk) for pk, who in re.findall(r'data-flag="(\d+)" data-kind="\w+" '
                                                   r'data-student="([^"]+)"', page)}  # fmt: skip


def every_flag_id(client: FlaskClient, show: str = "open") -> dict[str, int]:
    """Roster id → their flag's id, on the flags page and its groups' pages (issue 20: a
    shared piece of evidence is one entry of the page; its flags are on its own page)."""
    page = html(client.get(f"/gradebook/docker-101/flags?show={show}"))
    found = flag_ids(page)
    for group in re.findall(r'data-group="(\d+)"', page):
        found |= flag_ids(
            html(client.get(f"/gradebook/docker-101/flags?show={show}&group={group}"))
        )
    return found


def decide(client: FlaskClient, flag_id: int, action: str, **extra: str) -> TestResponse:
    page = html(client.get("/gradebook/docker-101/flags"))
    data = {"action": action, "csrf_token": csrf_from(page), **extra}
    return client.post(f"/gradebook/docker-101/flags/{flag_id}", data=data)


def test_the_flags_page_lists_each_flag_with_the_other_student(teacher: FlaskClient) -> None:
    overview = html(teacher.get("/gradebook/docker-101/"))
    assert 'href="/gradebook/docker-101/flags">⚑ 2 open flags</a>' in overview
    page = html(teacher.get("/gradebook/docker-101/flags"))
    rows = page[page.index('id="flags"') :]
    # ann showed the evidence first: only bob's copy is flagged, and its row names ann.
    # Issue 20: the shared evidence is one entry listing both (ann marked first); its own
    # page lists bob's flag.
    assert set(flag_ids(page)) == {"carol"}
    assert set(every_flag_id(teacher)) == {"bob", "carol"}
    [group] = re.findall(r'data-group="(\d+)"', page)
    assert '<li class="first"><a href="/gradebook/docker-101/students/ann">' in rows
    assert 'href="/gradebook/docker-101/students/bob"' in rows and "2 students" in rows
    listed = html(teacher.get(f"/gradebook/docker-101/flags?group={group}"))
    listed = listed[listed.index('id="flags"') :]
    assert "shares evidence with ann: engine" in listed
    assert 'class="other" href="/gradebook/docker-101/students/ann"' in listed
    assert "no evidence: a report of the first dialect" in rows
    assert rows.count('name="action" value="accept"') == 2  # carol's flag, the group
    assert listed.count('name="action" value="accept"') == 1  # bob's
    assert "<script" not in page
    assert "Open (2)" in page and 'href="/gradebook/docker-101/flags?show=decided"' in page


def test_accepting_a_flag_and_rejecting_a_report_change_the_export(
    teacher: FlaskClient, flagged: FlaggedClass
) -> None:
    assert grades(teacher) == {
        "ann": ("26", ""),
        "bob": ("", "shared evidence with ann"),
        "carol": ("", "no evidence"),
    }
    ids = every_flag_id(teacher)
    accepted = decide(teacher, ids["carol"], "accept", note="carol graded on her own laptop")
    assert accepted.status_code == 302
    assert accepted.headers["Location"] == "/gradebook/docker-101/flags"
    rejected = decide(teacher, ids["bob"], "reject", note="a copy of ann's report")
    assert rejected.status_code == 302
    page = html(teacher.get("/gradebook/docker-101/flags"))
    assert f"Report #{flagged.submissions['bob']} rejected" in page  # the flash
    assert set(flag_ids(page)) == set()  # the open ones

    assert grades(teacher) == {"ann": ("26", ""), "bob": ("", ""), "carol": ("28", "")}
    assert grades(teacher, "&include_flagged=1") == {
        "ann": ("26", ""), "bob": ("", ""), "carol": ("28", ""),
    }  # fmt: skip

    decided = html(teacher.get("/gradebook/docker-101/flags?show=decided"))
    assert f"by {USERNAME}" in decided and "carol graded on her own laptop" in decided
    [group] = re.findall(r'data-group="(\d+)"', decided)  # bob's decision is on its page
    decided = html(teacher.get(f"/gradebook/docker-101/flags?show=decided&group={group}"))
    assert "report rejected" in decided and "a copy of ann&#39;s report" in decided
    bob = html(teacher.get("/gradebook/docker-101/students/bob"))
    assert 'badge-failed">rejected' in bob
    # changing one's mind: bob's report accepted after all counts again
    assert decide(teacher, ids["bob"], "accept").status_code == 302
    assert grades(teacher)["bob"] == ("26", "")


def test_a_decision_from_the_report_page_returns_there(
    teacher: FlaskClient, flagged: FlaggedClass
) -> None:
    where = f"/gradebook/docker-101/submissions/{flagged.submissions['carol']}"
    page = html(teacher.get(where))
    assert 'id="report-flags"' in page and "no_evidence" in page
    flag = int(re.findall(r'data-flag="(\d+)"', page)[0])
    response = teacher.post(
        f"/gradebook/docker-101/flags/{flag}",
        data={"action": "accept", "back": where, "csrf_token": csrf_from(page)},
    )
    assert response.headers["Location"] == where
    elsewhere = teacher.post(
        f"/gradebook/docker-101/flags/{flag}",
        data={"action": "accept", "back": "https://evil.example/", "csrf_token": csrf_from(page)},
    )
    assert elsewhere.headers["Location"] == "/gradebook/docker-101/flags"


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"action": "delete"}, 400, "The decision must be accept or reject."),
        ({"action": "accept", "note": "x" * 1001}, 400, "The note is longer than 1000"),
        ({"action": "accept", "csrf_token": ""}, 400, "missing its CSRF token"),
    ],
)
def test_bad_decisions_are_a_400_page_and_change_nothing(
    teacher: FlaskClient, form: dict[str, str], status: int, message: str
) -> None:
    page = html(teacher.get("/gradebook/docker-101/flags"))
    ids = every_flag_id(teacher)
    response = teacher.post(
        f"/gradebook/docker-101/flags/{ids['bob']}", data={"csrf_token": csrf_from(page), **form}
    )
    assert response.status_code == status and message in html(response)
    assert "Back to the gradebook" in html(response)
    assert set(every_flag_id(teacher)) == set(ids)


def test_unknown_flags_and_bad_queries(teacher: FlaskClient) -> None:
    page = html(teacher.get("/gradebook/docker-101/flags"))
    token = csrf_from(page)
    assert (
        teacher.post(
            "/gradebook/docker-101/flags/99999", data={"action": "accept", "csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        teacher.post(
            "/gradebook/nope/flags/1", data={"action": "accept", "csrf_token": token}
        ).status_code
        == 404
    )
    assert teacher.get("/gradebook/docker-101/flags?show=mine").status_code == 400
    bad = teacher.get("/gradebook/docker-101/export.csv?format=moodle&include_flagged=yes")
    assert bad.status_code == 400 and "include_flagged must be 1 or 0" in html(bad)
    assert teacher.get("/gradebook/docker-101/export.csv?include_late=2").status_code == 400


def test_visitors_cannot_decide(flagged: FlaggedClass) -> None:
    client = flagged.app.test_client()
    assert client.get("/gradebook/docker-101/flags").status_code == 302
    token = csrf_from(html(client.get("/login")))
    data = {"action": "accept", "csrf_token": token}
    response = client.post("/gradebook/docker-101/flags/1", data=data)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
