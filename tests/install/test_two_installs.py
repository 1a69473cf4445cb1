"""A student's ``pip install .`` brings what ``grade`` needs and nothing of the server's.

A fresh venv (no system site-packages) gets the project from a copy of its source:
no server package may be in it, ``grade --help`` and the grader's unit tier run
there, and ``grade-server`` says in one line what to install. Then the ``server``
extra is added and ``grade-server`` works. Slow (two real pip installs): marker
``install``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[2]
#: A checkout's files, the workshop (devlab) and the tests among them: pyproject.toml's
#: package list must leave those two out of what is installed.
SOURCES = (
    "pyproject.toml", "README.md", "grader", "checks", "submissions", "webhook", "devlab", "tests",
)  # fmt: skip
#: The server's packages and what they bring: none of these belong on a student's machine.
SERVER_ONLY = {
    "flask", "werkzeug", "jinja2", "itsdangerous", "blinker", "markupsafe", "sqlalchemy",
    "alembic", "mako", "standardwebhooks", "gunicorn", "psycopg", "psycopg-binary",
}  # fmt: skip


def run(*command: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def installed(venv: Path) -> set[str]:
    done = run(venv / "bin" / "python", "-m", "pip", "list", "--format=json", "--exclude-editable")
    assert done.returncode == 0, done.stderr
    return {package["name"].lower() for package in json.loads(done.stdout)} - {"pip", "setuptools"}


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A fresh venv with ``pip install .`` of a copy of the source (the tree stays clean)."""
    root = tmp_path_factory.mktemp("student-install")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(REPO / name, source / name)
    venv = root / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    pip = (venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q")
    done = run(*pip, "install", source)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv, source


def test_no_server_package_is_installed(student_venv: tuple[Path, Path]) -> None:
    venv, _ = student_venv
    packages = installed(venv)
    assert "docker-lab-grader" in packages
    assert {"pytest", "docker", "click", "rich", "requests", "defusedxml"} <= packages
    assert packages & SERVER_ONLY == set()


def test_the_workshop_and_the_tests_are_not_installed(student_venv: tuple[Path, Path]) -> None:
    venv, _ = student_venv
    done = run(venv / "bin" / "python", "-m", "pip", "show", "--files", "docker-lab-grader")
    assert done.returncode == 0, done.stderr
    files = [Path(line) for line in done.stdout.split("Files:", 1)[1].split()]
    packages = {f.parts[0] for f in files if len(f.parts) > 1 and f.parts[0] != ".."}
    packages = {name for name in packages if not name.endswith(".dist-info")}
    assert packages == {"grader", "checks", "submissions", "webhook"}


def test_grade_help_runs(student_venv: tuple[Path, Path]) -> None:
    venv, _ = student_venv
    done = run(venv / "bin" / "grade", "--help")
    assert done.returncode == 0, done.stderr
    assert "--dockerid NAME" in done.stdout and "--submit URL" in done.stdout


def test_grade_server_says_what_to_install(student_venv: tuple[Path, Path]) -> None:
    venv, _ = student_venv
    done = run(venv / "bin" / "grade-server", "--help")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "pip install 'docker-lab-grader[server]'" in done.stderr


def test_the_graders_unit_tier_runs_there(student_venv: tuple[Path, Path]) -> None:
    venv, _ = student_venv
    # the tier's own test tool (property tests), which is no dependency of grade's
    pip = (venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q")
    assert run(*pip, "install", "hypothesis>=6.100").returncode == 0
    done = run(
        venv / "bin" / "python", "-m", "pytest", "tests/unit", "-q", "-p", "no:cacheprovider"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_the_server_extra_brings_the_server(student_venv: tuple[Path, Path]) -> None:
    venv, source = student_venv
    before = installed(venv)
    pip = (venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "-q")
    done = run(*pip, "install", f"{source}[server]")
    assert done.returncode == 0, done.stderr[-3000:]
    added = installed(venv) - before
    assert {"flask", "sqlalchemy", "alembic", "standardwebhooks", "gunicorn"} <= added
    served = run(venv / "bin" / "grade-server", "--help")
    assert served.returncode == 0, served.stderr
    assert "db" in served.stdout and "roster" in served.stdout
    print(f"\ncore install: {len(before)} packages; with [server]: {len(before | added)}")


def test_the_build_compiled_the_spanish_catalog(student_venv: tuple[Path, Path]) -> None:
    """The .mo is made by the build (setup.py), not kept in git; reading it needs no Babel."""
    venv, _ = student_venv
    # Babel made unimportable: the server extra (another test, same venv) brings it along
    said = (
        "import sys; sys.modules['babel'] = None; "
        "from grader import i18n; i18n.use('es'); print(i18n._('not yet'))"
    )
    done = run(venv / "bin" / "python", "-c", said, cwd=venv)  # not this checkout's grader
    assert done.returncode == 0, done.stderr
    assert done.stdout == "todavía no\n"
