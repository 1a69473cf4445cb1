"""ruff (lint and format), mypy and the import contracts stay clean: part of the suite, so CI
holds every change to them. The contracts (``[tool.importlinter]`` in pyproject.toml) are
also shown to bite: a planted forbidden import in a copy of the tree breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: The import contracts' root packages: the product, the workshop and the tests.
PACKAGES = ("grader", "checks", "submissions", "webhook", "devlab", "tests")


def run(command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"], ["lint-imports"]],
    ids=["ruff-check", "ruff-format", "mypy", "import-contracts"],
)
def test_the_code_is_clean(command: list[str]) -> None:
    done = run(command)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("grader/planted.py", "import flask\n", "never import the server's packages"),
        ("submissions/planted.py", "import sqlalchemy\n", "never import the server's packages"),
        ("grader/planted.py", "import webhook\n", "Nothing imports the server"),
        ("submissions/planted.py", "import grader\n", "depends on neither side"),
        ("grader/planted.py", "import checks.docker_beginners\n", "only through their entry"),
        ("checks/planted.py", "from grader.run.runner import grade_lab\n", "never its subpackages"),
        ("checks/planted.py", "from grader.engine import facts\n", "never its subpackages"),
        ("checks/planted.py", "from grader import cli\n", "never its subpackages"),
        ("webhook/planted.py", "import devlab\n", "imports the workshop (devlab) or the tests"),
        ("grader/planted.py", "from devlab.remote import ensure_remote_hosts\n", "the workshop"),
        (
            "checks/planted.py",
            "import tests.labs.tiny\n",
            "imports the workshop (devlab) or the tests",
        ),
        ("devlab/planted.py", "from tests.engine import conftest\n", "does not import the tests"),
        ("webhook/storage/planted.py", "import webhook.lti.models\n", "never import LTI"),
        ("webhook/ingest/planted.py", "from webhook.lti import passback\n", "never import LTI"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / module).write_text(planted)
    done = run(["lint-imports", "--no-cache"], cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-2000:]
    broken_section = done.stdout.split("Broken contracts", 1)[1]
    assert broken in " ".join(broken_section.split())


#: The largest a module may grow (lines) before it is split into modules with one job each;
#: migrations are history, written once, and exempt.
MOST_LINES = 500


def test_no_module_outgrows_one_job() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in ("grader", "checks", "submissions", "webhook", "devlab")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MOST_LINES
    }
    assert too_long == {}, f"over {MOST_LINES} lines, split by job: {too_long}"
