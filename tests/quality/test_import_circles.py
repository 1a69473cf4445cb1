"""No import circles: every module of the product can be read after the ones it imports.

The contracts in pyproject.toml say which package may import which; they do not see two
modules of one package that import each other (three did, before issue 18). This test
reads the whole import graph, imports inside functions included, and is shown to bite on a
planted circle.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.quality.import_circles import strongly_connected

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("import_circles.py")
PACKAGES = tuple(
    name
    for name in ("grader", "checks", "submissions", "webhook", "devlab")
    if (ROOT / name / "__init__.py").is_file()
)


def circles_in(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *PACKAGES],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_no_module_reaches_itself_through_its_imports() -> None:
    done = circles_in(ROOT)
    assert done.returncode == 0, f"import circles:\n{done.stdout}{done.stderr}"


def test_a_planted_circle_is_found(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package)
    (tmp_path / "grader" / "planted_a.py").write_text("def f():\n    import grader.planted_b\n")
    (tmp_path / "grader" / "planted_b.py").write_text("import grader.planted_a\n")
    done = circles_in(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "grader.planted_a <-> grader.planted_b" in done.stdout.splitlines()


def test_components_are_whole_circles_not_chains() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert strongly_connected(edges) == [["a", "b", "c"], ["d", "e"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []
