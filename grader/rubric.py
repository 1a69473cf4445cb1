"""The server's rubric, generated from the checks, so the two never drift apart.

The checks are the one source of truth for ids, tasks, titles and points; the
server scores from ``submissions/rubric.json``, which this module writes::

    python -m grader.rubric --write

Digests and grader versions already in the file are kept: reports from an
earlier release of the checks stay trusted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import submissions
from grader import __version__
from grader.runner import DEFAULT_LAB, checks_digest, collect_rubric, lab_dir

RUBRIC_FILE = Path(submissions.__file__).parent / "rubric.json"


def rubric_document(
    lab: str = DEFAULT_LAB, *, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The rubric of ``lab`` as the server reads it, trusting what ``previous`` trusted."""
    previous = previous or {}
    return {
        "lab": lab,
        "known_versions": sorted({*previous.get("known_versions", ()), __version__}),
        "known_digests": sorted({*previous.get("known_digests", ()), checks_digest(lab_dir(lab))}),
        "checks": [
            {"id": spec.id, "task": spec.task, "title": spec.title, "points": spec.points}
            for spec in collect_rubric(lab)
        ],
    }


def default_rubric() -> dict[str, Any]:
    """The rubric the server scores from: the shipped file, which a test keeps current."""
    return json.loads(RUBRIC_FILE.read_text("utf-8"))


def render(document: dict[str, Any]) -> str:
    """One check a line, so a diff of the file reads like a diff of the rubric."""
    checks = ",\n".join(f"    {json.dumps(check)}" for check in document["checks"])
    head = {k: v for k, v in document.items() if k != "checks"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    return "{\n" + "\n".join(lines) + '\n  "checks": [\n' + checks + "\n  ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print (or --write) the server's rubric.")
    parser.add_argument("--write", action="store_true", help=f"write it to {RUBRIC_FILE}")
    args = parser.parse_args(argv)
    previous = json.loads(RUBRIC_FILE.read_text()) if RUBRIC_FILE.is_file() else {}
    text = render(rubric_document(previous=previous))
    if args.write:
        RUBRIC_FILE.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
