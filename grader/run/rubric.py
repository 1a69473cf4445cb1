"""Writes the server's rubric from a lab's checks, so the two never drift apart.

"Rubric" here means the JSON document the server scores from
(``submissions/rubric.json``): every check's id, task, title, points and hint, and the
check digests and grader versions the server trusts, and the hashes of the files the lab
gives unchanged (its ``LabSpec.known_files``). The checks are the one
source of truth for it; this module writes it::

    python -m grader.run.rubric --write            # the default lab
    python -m grader.run.rubric --lab NAME         # print another lab's
    python -m grader.run.rubric --lab NAME --write # write it beside its checks

The default lab's rubric is the one the server ships (``submissions/rubric.json``); another
lab's is ``rubric.json`` in its checks folder, which a server of that lab names in
``GRADER_RUBRIC``.

Digests, grader versions and file hashes already in the file are kept: reports from an
earlier release of the checks (or of the lab's files) stay trusted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import submissions
from grader import __version__
from grader.errors import GradingError
from grader.run.labs import DEFAULT_LAB, LabSpec, load_lab
from grader.run.runner import checks_digest, collect_checks

RUBRIC_FILE = Path(submissions.__file__).parent / "rubric.json"


def rubric_file(lab: LabSpec) -> Path:
    """Where ``lab``'s rubric is kept: the shipped one for the default lab, else beside its
    checks (a course's lab package carries its own)."""
    return RUBRIC_FILE if lab.name == DEFAULT_LAB else lab.checks / "rubric.json"


def rubric_document(lab: LabSpec, *, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The rubric of ``lab`` as the server reads it, trusting what ``previous`` trusted."""
    previous = previous or {}
    return {
        "lab": lab.name,
        "known_versions": sorted({*previous.get("known_versions", ()), __version__}),
        "known_digests": sorted({*previous.get("known_digests", ()), checks_digest(lab.checks)}),
        "known_files": _known_files(lab, previous.get("known_files", {})),
        "checks": [
            {
                "id": spec.id,
                "task": spec.task,
                "title": spec.title,
                "points": spec.points,
                "hint": spec.hint,
            }
            for spec in collect_checks(lab)
        ],
    }


def _known_files(lab: LabSpec, previous: dict[str, list[str]]) -> dict[str, list[str]]:
    names = sorted({*previous, *lab.known_files})
    return {
        name: sorted({*previous.get(name, ()), *lab.known_files.get(name, ())}) for name in names
    }


def render(document: dict[str, Any]) -> str:
    """One check a line, so a diff of the file reads like a diff of the rubric."""
    checks = ",\n".join(f"    {json.dumps(check)}" for check in document["checks"])
    head = {k: v for k, v in document.items() if k != "checks"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    return "{\n" + "\n".join(lines) + '\n  "checks": [\n' + checks + "\n  ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print (or --write) the server's rubric.")
    parser.add_argument(
        "--write", action="store_true", help=f"write it ({RUBRIC_FILE} for the default lab)"
    )
    parser.add_argument("--lab", metavar="NAME", help="an installed lab [default: the default]")
    args = parser.parse_args(argv)
    try:
        lab = load_lab(args.lab)
    except GradingError as exc:
        parser.exit(2, f"grader.run.rubric: {exc}\n")
    path = rubric_file(lab)
    previous = json.loads(path.read_text()) if path.is_file() else {}
    if previous.get("lab") != lab.name:
        previous = {}
    text = render(rubric_document(lab, previous=previous))
    if args.write:
        path.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
