"""``grade start`` when a lab's image is neither here nor pullable (no registry answers on
this machine, and none serves the planted lab's image): the one line with its fix, exit 4,
and nothing changed on the engine."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from devlab.host import snapshot
from tests.engine.conftest import run_grade
from tests.labs.planted import ABSENT_IMAGE

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
NOT_READY = 4


@pytest.fixture
def planted_lab(tmp_path: Path) -> dict[str, str]:
    """The planted lab installed beside the Docker lab (as pip would)."""
    dist = tmp_path / "site" / "test_labs-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: test-labs\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[docker_lab_grader.labs]\nplanted = tests.labs.planted:LAB\n"
    )
    return {"PYTHONPATH": f"{dist.parent}:{REPO}"}


def test_start_names_an_image_that_cannot_be_pulled(
    engine: docker.DockerClient, planted_lab: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(ABSENT_IMAGE)
    before = snapshot(engine)
    graded = run_grade("--lab", "planted", "start", home=tmp_path, env=planted_lab)
    assert graded.exit_code == NOT_READY, graded.stdout + graded.stderr
    lines = [line.strip() for line in graded.stdout.splitlines() if "problem:" in line]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"problem: image {ABSENT_IMAGE} is not here and cannot be pulled (")
    fix = f"docker image pull {ABSENT_IMAGE}  (once the registry can be reached)"
    assert lines[0].endswith(f"): {fix}")
    assert "Not ready: 1 to fix" in graded.stdout
    assert snapshot(engine) == before
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(ABSENT_IMAGE)
