"""Task 1 of the tiny lab: write a message of the day that greets the world."""

from __future__ import annotations

import pytest

from grader import fail
from tests.labs.tiny import TinyLab

pytestmark = pytest.mark.task("task1", "Say hello")


@pytest.mark.check(
    "motd.hello",
    points=3,
    title="the message of the day says hello",
    hint="echo 'hello, world' > ~/motd.txt",
)
def test_the_message_of_the_day_says_hello(lab: TinyLab) -> None:
    path = lab.settings.motd
    if not path.is_file():
        fail(f"found no {path}")
    if "hello" not in path.read_text(errors="replace").lower():
        fail(f"{path} does not say hello")
