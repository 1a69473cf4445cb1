"""``grade lab selftest``'s judging and order (grader.labtools.selftest), without an engine.

The real runs are tests/engine/test_lab_selftest.py; here the matrix's verdicts: a check
passing on a fresh host, a spoiler failing other checks than declared, two checks no
spoiler tells apart, a lab not left clean, are each named.
"""

from __future__ import annotations

from pathlib import Path

from grader import LabSpec, LabTask, Objects, Spoiler, Step
from grader.labtools.selftest import FRESH, SOLVED, Scenario, SelfTest, findings

CHECKS = ["a.one", "a.two", "b.one"]


def proved() -> list[Scenario]:
    everything = frozenset(CHECKS)
    return [
        Scenario(FRESH, everything, everything),
        Scenario(SOLVED, frozenset(), frozenset()),
        Scenario("break one", frozenset({"a.one"}), frozenset({"a.one"})),
        Scenario("break two", frozenset({"a.one", "a.two"}), frozenset({"a.one", "a.two"})),
        Scenario("break b", frozenset({"b.one"}), frozenset({"b.one"})),
    ]


def test_a_lab_as_declared_has_no_findings() -> None:
    assert findings(CHECKS, proved(), left=[]) == []


def test_a_check_passing_on_a_fresh_host_is_named() -> None:
    scenarios = proved()
    scenarios[0].failing = frozenset({"a.one", "a.two"})
    assert findings(CHECKS, scenarios, left=[]) == [
        "fresh host: b.one passed but should fail",
        "check b.one passes on a fresh host",
    ]


def test_a_spoiler_failing_other_checks_than_declared_is_named_with_their_messages() -> None:
    scenarios = proved()
    scenarios[2].failing = frozenset({"a.two"})
    scenarios[2].messages = {"a.two": "no such thing"}
    (line,) = findings(CHECKS, scenarios, left=[])
    assert line == (
        "break one: a.one passed but should fail; a.two failed but should pass "
        "(a.two: no such thing)"
    )


def test_two_checks_no_spoiler_tells_apart_are_named() -> None:
    scenarios = [s for s in proved() if s.name != "break one"]
    assert findings(CHECKS, scenarios, left=[]) == [
        "checks a.one and a.two: no spoiler tells them apart (each fails with the other)"
    ]


def test_a_check_no_spoiler_breaks_and_a_lab_left_dirty_are_named() -> None:
    scenarios = [s for s in proved() if s.name != "break b"]
    assert findings(CHECKS, scenarios, left=["container mydb"]) == [
        "check b.one: no spoiler breaks it",
        "left clean: the lab's objects remain (container mydb)",
    ]


def test_a_scenario_that_could_not_run_is_named() -> None:
    scenarios = proved()
    scenarios[4].failing, scenarios[4].error = None, "'x' exited with 1"
    assert findings(CHECKS, scenarios, left=[]) == ["break b: could not run ('x' exited with 1)"]


# -- the order of the scenarios ----------------------------------------------------------

LAB = LabSpec(
    "fake",
    "Fake",
    Path("."),
    tasks=(
        LabTask("a", (Step("solve a"), Step("watch a", fleeting=True)), Objects(containers=("x",))),
        LabTask("b", (Step("solve b"),)),
    ),
    spoilers=(
        Spoiler("break a", (Step("break a"),), frozenset({"a.one"}), undo=(Step("fix a"),)),
        Spoiler("break b", (Step("break b"),), frozenset({"b.one"})),
    ),
)


def test_the_scenarios_run_in_order_and_a_spoiler_without_undo_redoes_its_task() -> None:
    """A fresh host forgets the fleeting step's events; each spoiler starts with the fleeting
    step typed again (many events passed); one without undo resets and redoes its task."""
    log: list[str] = []
    state = {"solved": False, "broken": ""}

    def do(action: object) -> None:
        command = action.command  # type: ignore[attr-defined]
        log.append(command)
        if command == "solve b":
            state["solved"] = True
        if command.startswith("break"):
            state["broken"] = command[-1]
        if command.startswith(("fix", "solve")):
            state["broken"] = ""

    def grade() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
        log.append("grade")
        if not state["solved"]:
            return frozenset(CHECKS), {}, {}
        failing = frozenset({f"{state['broken']}.one"} if state["broken"] else set())
        return failing, {}, {check: f"fix {check}" for check in failing}

    def remove_all() -> None:
        log.append("remove all")
        state["solved"] = False

    test = SelfTest(
        LAB, {"a.one": "a", "a.two": "a", "b.one": "b"}, do=do, grade=grade,
        remove_all=remove_all, reset=lambda task: log.append(f"reset {task}"),
        events_since=lambda since: 500, forget_events=lambda: log.append("forget events"),
    )  # fmt: skip
    scenarios = test.run()
    assert [s.name for s in scenarios] == [FRESH, SOLVED, "break a", "break b"]
    assert all(s.as_declared for s in scenarios), [s.mismatch() for s in scenarios]
    assert log == [
        "remove all", "forget events", "grade",
        "solve a", "watch a", "solve b", "grade",
        "watch a", "break a", "grade", "fix a",
        "watch a", "break b", "grade", "reset b", "solve b",
        "remove all",
    ]  # fmt: skip


def test_spoilers_are_not_run_when_the_solution_does_not_pass() -> None:
    test = SelfTest(
        LAB, {"a.one": "a"}, do=lambda action: None,
        grade=lambda: (frozenset({"a.one"}), {}, {}), remove_all=lambda: None, reset=lambda t: None,
    )  # fmt: skip
    assert [s.name for s in test.run()] == [FRESH, SOLVED]


def test_a_failing_check_that_does_not_say_why_as_declared_is_named() -> None:
    scenarios = proved()
    scenarios[2].says = {"a.one": "found no container"}
    scenarios[2].messages = {"a.one": "something else"}
    assert findings(CHECKS, scenarios, left=[]) == [
        "break one: a.one does not say 'found no container' (it says 'something else')"
    ]
    scenarios[2].messages = {"a.one": "found no container named x"}
    assert findings(CHECKS, scenarios, left=[]) == []


def test_with_some_spoilers_only_no_check_is_named_for_want_of_one() -> None:
    scenarios = [s for s in proved() if s.name != "break b"]
    assert findings(CHECKS, scenarios, left=[], every=False) == []


def test_a_check_failing_in_a_spoiler_without_a_hint_is_named() -> None:
    scenarios = proved()
    for scenario in scenarios[2:]:
        scenario.needs_hints = True
        scenario.hints = {check: f"fix {check}" for check in scenario.expected}
    assert findings(CHECKS, scenarios, left=[]) == []
    scenarios[3].hints["a.two"] = " "
    assert not scenarios[3].as_declared
    assert findings(CHECKS, scenarios, left=[]) == [
        "break two: a.two fails without a hint (the next command)"
    ]


def test_a_fresh_host_needs_no_hints() -> None:
    scenarios = proved()  # no hints anywhere: the fresh host and the solution need none
    assert scenarios[0].as_declared and findings(CHECKS, scenarios, left=[]) == []


def test_selftest_asks_each_spoilers_failing_checks_for_their_hints() -> None:
    answers = iter([
        (frozenset({"a.one"}), {}, {}),  # fresh host: no hint needed
        (frozenset(), {}, {}),  # solution
        (frozenset({"a.one"}), {"a.one": "broken"}, {"a.one": ""}),  # spoiler, no hint
    ])  # fmt: skip
    lab = LabSpec(
        name="hints", title="hints", checks=Path("."),
        tasks=(LabTask("a", solution=(Step("solve"),)),),
        spoilers=(Spoiler("break a", (Step("break"),), frozenset({"a.one"}), undo=()),),
    )  # fmt: skip
    test = SelfTest(
        lab, {"a.one": "a"}, do=lambda action: None, grade=lambda: next(answers),
        remove_all=lambda: None, reset=lambda t: None,
    )  # fmt: skip
    fresh, solved, spoiled = test.run()
    assert fresh.as_declared and solved.as_declared and not spoiled.as_declared
    assert spoiled.mismatch() == "break a: a.one fails without a hint (the next command)"
