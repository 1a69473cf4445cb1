"""Task 1's checks on a real engine, beyond its declared spoilers: variants that must still
pass, and spoils that need a ``grade`` option or more than one message to assert.

Each spoiled step of the lab is a declared spoiler (checks/docker_beginners/spoilers.py),
proved by ``grade lab selftest`` in tests/engine/test_lab_selftest.py.
"""

from __future__ import annotations

import pytest

from tests.engine.spoil import assert_only

pytestmark = pytest.mark.engine

RUN_MYDB = (
    "docker container run --detach --name mydb -e MYSQL_ROOT_PASSWORD=my-secret-pw mysql:latest"
)


def replace_mydb(student, command: str) -> None:
    student.sh("docker container rm --force mydb")
    student.sh(command)


def restore_mydb(student) -> None:
    replace_mydb(student, RUN_MYDB)
    student.wait_for_mysql()


@pytest.mark.parametrize("reference", ["mysql", "IMAGE_ID"])
def test_mydb_from_mysql_latest_by_another_name_counts(
    completed_lab, grade, engine, reference
) -> None:
    if reference == "IMAGE_ID":
        reference = engine.api.inspect_image("mysql:latest")["Id"]
    replace_mydb(completed_lab, RUN_MYDB.replace("mysql:latest", reference))
    try:
        completed_lab.wait_for_mysql()
        assert_only(grade("--json"), set())
    finally:
        restore_mydb(completed_lab)
