"""A lab's declared proof (grader.labtools.declared) and the Docker lab's: pure data, checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.docker_beginners import LAB
from grader import Files, LabSpec, LabTask, Objects, Spoiler, Step
from grader.errors import SettingsError
from grader.labtools import split
from grader.labtools.declared import expand
from grader.labtools.objects import image_matches
from grader.run.runner import collect_checks


def test_variables_expand_and_an_unset_one_names_nothing() -> None:
    assert expand("$DOCKERID/linux_tweet_app", {"DOCKERID": "ann"}) == "ann/linux_tweet_app"
    assert expand("${DOCKERID}/app", {"DOCKERID": "ann"}) == "ann/app"
    assert expand("$DOCKERID/linux_tweet_app", {}) is None
    assert expand("$DOCKERID/linux_tweet_app", {"DOCKERID": ""}) is None
    assert expand("mydb", {}) == "mydb"


def test_objects_add_up_without_repeats() -> None:
    total = Objects(containers=("a",), images=("x",)) + Objects(containers=("a", "b"))
    assert total == Objects(containers=("a", "b"), images=("x",))
    assert Objects().empty and not total.empty


@pytest.mark.parametrize(
    ("tag", "declared", "matches"),
    [
        ("ourfiglet:latest", "ourfiglet", True),
        ("localhost/ourfiglet:latest", "ourfiglet", True),  # podman's spelling
        ("ourfiglet:v2", "ourfiglet", True),  # a name without a tag: any of its tags
        ("ourfiglet2:latest", "ourfiglet", False),
        ("hello:v0.1", "hello:v0.1", True),
        ("hello:v0.2", "hello:v0.1", False),
        ("ann/linux_tweet_app:1.0", "ann/linux_tweet_app", True),
        ("bob/linux_tweet_app:1.0", "ann/linux_tweet_app", False),
        ("alpine:latest", "ourfiglet", False),
        ("<none>:<none>", "ourfiglet", False),
    ],
)
def test_an_image_is_the_labs_only_by_its_declared_name(
    tag: str, declared: str, matches: bool
) -> None:
    assert image_matches(tag, declared) is matches


def test_a_lab_refuses_a_task_declared_twice_and_a_spoiler_failing_nothing() -> None:
    with pytest.raises(SettingsError, match="declares the task 'task1' twice"):
        LabSpec("x", "X", Path("."), tasks=(LabTask("task1"), LabTask("task1")))
    with pytest.raises(SettingsError, match="spoiler 'nothing' names no check to fail"):
        LabSpec("x", "X", Path("."), spoilers=(Spoiler("nothing", (Step("true"),), frozenset()),))


def test_the_commands_are_found_first_or_after_the_lab() -> None:
    assert split(["start"]) == ("start", [])
    assert split(["reset", "task1", "--yes"]) == ("reset", ["task1", "--yes"])
    assert split(["--lab", "tiny", "finish"]) == ("finish", ["--lab", "tiny"])
    assert split(["--lab=tiny", "lab", "selftest"]) == ("lab", ["--lab=tiny", "selftest"])
    assert split(["task1"]) is None
    assert split(["--json", "start"]) is None  # a task named start would be graded: none is
    assert split([]) is None


# -- the Docker lab's declaration --------------------------------------------------------


def test_the_docker_labs_spoilers_name_only_its_checks_and_cover_each() -> None:
    checks = {spec.id for spec in collect_checks(LAB)}
    declared = set().union(*(spoiler.fails for spoiler in LAB.spoilers))
    assert declared <= checks, declared - checks
    assert declared == checks, f"no spoiler breaks {sorted(checks - declared)}"


def test_the_docker_labs_tasks_are_its_checks_tasks() -> None:
    assert [task.id for task in LAB.tasks] == sorted({spec.task for spec in collect_checks(LAB)})
    assert all(task.solution for task in LAB.tasks)


def test_the_docker_labs_cleanup_names_its_objects() -> None:
    cleanup = LAB.cleanup
    assert set(cleanup.containers) == {"mydb", "linux_tweet_app"}
    assert {"ourfiglet", "hello:v0.1", "$DOCKERID/linux_tweet_app"} <= set(cleanup.images)
    assert "~/hello" in cleanup.files


def test_the_model_student_types_the_declared_solution() -> None:
    from checks.docker_beginners import solution
    from devlab import model_student

    assert model_student.TWEET_DOCKERFILE is solution.TWEET_DOCKERFILE
    typed = [a for task in LAB.tasks for a in task.solution]
    assert solution.RUN_MYDB in typed and isinstance(typed[0], Step)
    assert any(isinstance(a, Files) and a.folder == "~/hello" for a in typed)


def test_a_spoiler_cannot_say_what_a_passing_check_says() -> None:
    with pytest.raises(SettingsError, match="spoiler 's' says what a passing check says"):
        LabSpec(
            "x", "X", Path("."),
            spoilers=(Spoiler("s", (Step("true"),), frozenset({"a.b"}), says={"c.d": "no"}),),
        )  # fmt: skip


def test_an_unnamed_run_is_the_labs_by_its_image_and_exact_command() -> None:
    from grader.labtools.objects import _is_run

    runs = (("alpine", "hostname"),)
    assert _is_run({"Image": "alpine", "Command": "hostname"}, runs)
    assert _is_run({"Image": "docker.io/library/alpine:latest", "Command": "hostname"}, runs)
    assert not _is_run({"Image": "alpine", "Command": "sleep 600"}, runs)
    assert not _is_run({"Image": "hello:v0.1", "Command": "hostname"}, runs)
