"""Task 3: install figlet in an ubuntu container and commit it into the image ourfiglet."""

from __future__ import annotations

from datetime import datetime

import pytest

from checks.docker_beginners import evidence
from checks.docker_beginners.settings import DockerLab
from grader import N_, ContainerFacts, ImageFacts, detect_commit, fail, prove

pytestmark = pytest.mark.task("task3", N_("Image creation from a container"))

COMMIT = "docker container commit <container id>   then   docker image tag <image id> ourfiglet"

#: ``figlet hello`` in figlet's standard font, each line without its trailing blanks.
HELLO_BANNER = (
    " _          _ _",
    "| |__   ___| | | ___",
    "| '_ \\ / _ \\ | |/ _ \\",
    "| | | |  __/ | | (_) |",
    "|_| |_|\\___|_|_|\\___/",
)


@pytest.fixture
def ourfiglet(lab: DockerLab) -> ImageFacts:
    images = evidence.figlet_images(lab)
    if not images:
        fail(N_("found no image tagged ourfiglet"), hint=COMMIT)
    prove(images[0])  # the student's own image: every figlet check that passes shows it
    return images[0]


@pytest.mark.check("figlet.image", points=1, title=N_("image tagged ourfiglet"), hint=COMMIT)
def test_an_image_is_tagged_ourfiglet(ourfiglet: ImageFacts) -> None:
    assert ourfiglet.tags


@pytest.mark.check(
    "figlet.committed",
    points=2,
    title=N_("committed from ubuntu"),
    hint="docker container run -ti ubuntu bash   (apt-get update; apt-get install -y figlet; "
    "exit), then " + COMMIT,
)
def test_ourfiglet_was_committed_from_an_ubuntu_container(
    lab: DockerLab, ourfiglet: ImageFacts
) -> None:
    ubuntu = lab.state.images_of("ubuntu")
    verdict = detect_commit(
        image=ourfiglet.attrs,
        history=ourfiglet.history,
        base=ubuntu[0].attrs if ubuntu else None,
        containers=[c.attrs for c in _source_candidates(lab, ourfiglet)],
        events=lab.state.events.events,
        name=evidence.FIGLET_REPOSITORY,
        base_name="ubuntu",
    )
    if not verdict.committed:
        fail(verdict.reason)
    prove(*(c for c in lab.state.containers if c.id == verdict.source_container))


def _source_candidates(lab: DockerLab, image: ImageFacts) -> list[ContainerFacts]:
    """The ubuntu containers ``image`` may have been committed from, to inspect: made no
    later than the image (the listing's whole seconds round down), and when the image's
    config carries its source's hostname (by default a container's short id), that one."""
    made = _timestamp(image.attrs.get("Created"))
    candidates = [
        c
        for c in lab.state.containers_of("ubuntu")
        if made is None or not c.created or c.created <= made
    ]
    hostname = str(image.config.get("Hostname") or "")
    named = [c for c in candidates if len(hostname) >= 12 and c.id.startswith(hostname)]
    return named or candidates


def _timestamp(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


@pytest.mark.check(
    "figlet.runs",
    points=2,
    title=N_("ourfiglet runs figlet"),
    hint="docker container run ourfiglet figlet hello",
)
def test_ourfiglet_prints_a_figlet_banner(lab: DockerLab, ourfiglet: ImageFacts) -> None:
    run = lab.probe(*evidence.figlet_run_probe(lab, ourfiglet))
    if run.exit_code != 0:
        fail(
            N_("figlet hello in ourfiglet exited with code {code}: {output}").format(
                code=run.exit_code, output=run.output.strip()[:160]
            )
        )
    lines = tuple(line.rstrip() for line in run.output.splitlines())
    while lines and not lines[-1]:
        lines = lines[:-1]
    if lines != HELLO_BANNER:
        fail(
            N_("figlet hello in ourfiglet printed {output}, not the banner of hello").format(
                output=repr(run.output[:80])
            )
        )
