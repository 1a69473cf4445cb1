"""The model student grades and submits; the instructor's gradebook shows that score."""

from __future__ import annotations

import pytest

from tests.lab.classroom import Classroom

pytestmark = pytest.mark.engine


def test_a_submitted_report_reaches_the_gradebook_even_after_an_outage(
    completed_lab, grade, tmp_path
) -> None:
    classroom = Classroom(tmp_path / "server").set_up()
    outbox_home = {"XDG_DATA_HOME": str(tmp_path / "data"), "GRADER_TOKEN": classroom.token}
    outbox = tmp_path / "data" / "grade" / "outbox"

    # the server is down: the report waits in the outbox, grade says so and exits 3
    down = grade("--submit", "http://127.0.0.1:9", env=outbox_home)
    assert down.exit_code == 3
    assert "not submitted" in down.stderr and str(outbox) in down.stderr
    assert classroom.token not in down.stdout + down.stderr
    assert len(list(outbox.glob("*.xml"))) == 1

    url = classroom.serve()
    try:
        up = grade("--submit", url, env=outbox_home)
        assert up.exit_code == 0, up.stderr
        assert "submitted: score 28/28" in up.stdout + up.stderr
        assert list(outbox.glob("*.xml")) == []
        assert classroom.grade_in_gradebook() == "28"
    finally:
        classroom.stop()
