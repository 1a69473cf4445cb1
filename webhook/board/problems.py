"""Common problems now: the class's current failing messages grouped by what they say.

Two students stuck on the same thing rarely get the very same message: one's container is
``3f2a9c1b7d0e``, the other's ``a81c...``; one's port 8081, the other's 8080; each names
their own image. :func:`pattern` keeps the words and puts a placeholder for what differs
(long hexadecimal ids, numbers, quoted names, paths and addresses), so that the board
counts them as one problem. Pure logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

_RULES = (
    (re.compile(r"\b(?:sha256:)?[0-9a-f]{12,64}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (
        re.compile("(['\"`\u2018\u201c])[^'\"`\u2019\u201d]{1,80}(['\"`\u2019\u201d])"),
        r"\1<name>\2",
    ),
    (re.compile(r"(?<![\w<])/[\w.\-/]+"), "<path>"),
    (re.compile(r"\b[\w.\-]+:[\w.\-]+(?:@sha256:<id>)?\b(?=[\s,;)]|$)"), "<name>"),
    (re.compile(r"\d+(?:\.\d+)*"), "<n>"),
    (re.compile(r"\s+"), " "),
)


@lru_cache(maxsize=4096)  # a class's messages stay the same from one board poll to the next
def pattern(message: str) -> str:
    """The message with what differs between students replaced by placeholders."""
    for regex, placeholder in _RULES:
        message = regex.sub(placeholder, message)
    return message.strip()


@dataclass
class Problem:
    """One failing message shared by ``students``, on one check."""

    check: str
    pattern: str
    example: str  # one student's message, as they see it
    students: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.students)


def group(failures: Iterable[tuple[str, str, str]]) -> list[Problem]:
    """``(student, check, message)`` → problems, the most students first (then by check)."""
    found: dict[tuple[str, str], Problem] = {}
    for student, check, message in failures:
        key = (check, pattern(message))
        problem = found.get(key)
        if problem is None:
            problem = found[key] = Problem(check, key[1], message)
        problem.students.append(student)
    return sorted(found.values(), key=lambda p: (-p.count, p.check, p.pattern))
