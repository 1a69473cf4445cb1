"""The lab's objects on the student's host, and the probes that exercise them.

Each function answers one question about the lab ("which image is the tweet
app?") in terms of the engine facts; the checks turn the answers into verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from checks.docker_beginners.settings import DockerLab
from grader import ContainerFacts, ImageFacts, probes
from grader.imageref import is_repository, parse_image_ref

HELLO_IMAGE = "hello:v0.1"
FIGLET_REPOSITORY = "ourfiglet"
TWEET_REPOSITORY = "linux_tweet_app"
NGINX_HTML = "/usr/share/nginx/html"

T = TypeVar("T")
#: A named probe: what it is doing (for messages and sharing) and the work itself.
Probe = tuple[str, Callable[[], T]]


# -- Task 1 ---------------------------------------------------------------------
def mydb(lab: DockerLab) -> ContainerFacts | None:
    return lab.state.container_named("mydb")


#: One ``docker exec`` (each adds events to the engine's short history): the lab's
#: ``mysql --version``, then a query with the root password. The container's own
#: shell expands ``$MYSQL_ROOT_PASSWORD``: the password never passes through grade.
MYSQL_SCRIPT = (
    "command -v mysql >/dev/null || exit 127; "
    'mysql --user=root --password="$MYSQL_ROOT_PASSWORD" --version || exit 101; '
    'mysql --user=root --password="$MYSQL_ROOT_PASSWORD" --batch --skip-column-names '
    '--execute="SELECT 1"'
)
MYSQL_NOT_INSTALLED = 127
MYSQL_VERSION_FAILED = 101


def mysql_probe(lab: DockerLab) -> Probe[probes.CommandOutput]:
    """``mysql --version`` in mydb, then a query with the root password, inside mydb."""
    return "asking mysql in mydb", lambda: probes.exec_shell(lab.client, "mydb", MYSQL_SCRIPT)


# -- Task 2 ---------------------------------------------------------------------
def tweet_repositories(lab: DockerLab) -> list[str]:
    """The repositories that count as the tweet app for this student."""
    dockerid = lab.settings.dockerid
    return [f"{dockerid}/{TWEET_REPOSITORY}", TWEET_REPOSITORY] if dockerid else []


def is_tweet_tag(lab: DockerLab, tag: str) -> bool:
    dockerid = lab.settings.dockerid
    try:
        ref = parse_image_ref(tag)
    except ValueError:
        return False
    if dockerid:
        return any(is_repository(tag, repo) for repo in tweet_repositories(lab))
    return ref.familiar_name == TWEET_REPOSITORY or ref.familiar_name.endswith(
        "/" + TWEET_REPOSITORY
    )


def tweet_images(lab: DockerLab) -> list[ImageFacts]:
    return [image for image in lab.state.images if any(is_tweet_tag(lab, t) for t in image.tags)]


def other_tweet_images(lab: DockerLab) -> list[ImageFacts]:
    """Tweet-app images under another Docker ID (a typo in $DOCKERID, say)."""
    mine = {image.id for image in tweet_images(lab)}
    return [
        image
        for image in lab.state.images
        if image.id not in mine
        and any(t.split(":")[0].endswith("/" + TWEET_REPOSITORY) for t in image.tags)
    ]


def tweet_dockerfile_path(lab: DockerLab) -> Path:
    return lab.settings.tweet_app / "Dockerfile"


def tweet_page_probe(lab: DockerLab) -> Probe[probes.PageOutput]:
    timeout = lab.check_timeout / 2

    def fetch() -> probes.PageOutput:
        host, port = lab.web(80)
        return probes.http_get(host, port, "/", timeout=timeout)

    return f"fetching {lab.web_url(80)}", fetch


# -- Task 3 ---------------------------------------------------------------------
def figlet_images(lab: DockerLab) -> list[ImageFacts]:
    return lab.state.images_of(FIGLET_REPOSITORY)


def run_of(
    lab: DockerLab, image: ImageFacts, command: list[str] | None, *, files: tuple[str, ...] = ()
) -> probes.RunOutput:
    """What ``image`` does when run with ``command`` (None: its default).

    The student's own finished run of this very image (steps 3.4 and 4.2 leave
    one) answers without starting anything: faster, and it adds nothing to the
    engine's short event history, which holds step 1.2's evidence. Only when
    there is none does a throwaway container run.
    """
    process = command or image.entrypoint + image.cmd

    def run() -> probes.RunOutput:
        candidates = [c for c in lab.state.containers if _may_have_run(lab, c, image, process)]
        candidates.sort(key=lambda c: lab.state.listed_command(c) != process)  # likeliest first
        finished = next(
            (c for c in candidates if c.status == "exited" and c.command == process), None
        )
        if finished is not None:
            return probes.finished_run(lab.client, finished.id, files=files, attrs=finished.attrs)
        return probes.run_throwaway(
            lab.client, image.id, command, timeout=lab.check_timeout, files=files
        )

    return lab.remember(("run", image.id, tuple(process), files), run)  # an image's own doing


def _may_have_run(
    lab: DockerLab, container: ContainerFacts, image: ImageFacts, process: list[str]
) -> bool:
    """False when the container listing alone shows ``container`` is no finished run of
    ``process`` in ``image``: on a lived-in host, that rules out all but a few."""
    if container.image_id != image.id or container.state_summary not in ("exited", ""):
        return False
    return not process or lab.state.may_run(container, process[0])


def figlet_run_probe(lab: DockerLab, image: ImageFacts) -> Probe[probes.RunOutput]:
    return "running figlet hello in ourfiglet", lambda: run_of(lab, image, ["figlet", "hello"])


# -- Task 4 ---------------------------------------------------------------------
def hello_image(lab: DockerLab) -> ImageFacts | None:
    return lab.state.image(HELLO_IMAGE)


HELLO_FILES = ("/app/Dockerfile", "/app/index.js")


def hello_run_probe(lab: DockerLab, image: ImageFacts) -> Probe[probes.RunOutput]:
    """Run hello:v0.1; without --hello-dir, read its /app sources from the same container."""
    files = () if lab.settings.hello_dir else HELLO_FILES
    return "running hello:v0.1", lambda: run_of(lab, image, None, files=files)


def hello_sources(lab: DockerLab) -> tuple[str, dict[str, bytes | None]] | None:
    """Where the Dockerfile and index.js of the hello build come from, and their contents."""
    folder = lab.settings.hello_dir
    if folder is not None:
        return str(folder), {
            name: lab.read_file(folder / name) for name in ("Dockerfile", "index.js")
        }
    image = hello_image(lab)
    if image is None:
        return None
    files = lab.probe(*hello_run_probe(lab, image)).files
    return f"{HELLO_IMAGE}:/app", {Path(p).name: content for p, content in files.items()}


# -- all ------------------------------------------------------------------------
def start_probes(lab: DockerLab) -> None:
    """Start every probe the selected tasks will need, all at once, from a thread of its
    own: the engine's answers (its history, listings) arrive while pytest loads."""
    lab.start_probe("asking the engine what it holds", lambda: _start_probes(lab))


def _start_probes(lab: DockerLab) -> None:
    lab.state.list_ahead()
    if lab.grades("task1"):
        _ = lab.state.events  # read before grading's own containers add to the history
        container = mydb(lab)
        if container is not None and container.running:
            lab.start_probe(*mysql_probe(lab))
    if lab.grades("task2"):
        lab.start_probe(*tweet_page_probe(lab))
    if lab.grades("task3"):
        for ourfiglet in figlet_images(lab)[:1]:
            lab.start_probe(*figlet_run_probe(lab, ourfiglet))
    if lab.grades("task4"):
        hello = hello_image(lab)
        if hello is not None:
            lab.start_probe(*hello_run_probe(lab, hello))
    _inspect_ahead(lab)


def _inspect_ahead(lab: DockerLab) -> None:
    """Inspect now what the selected checks will inspect anyway (images' configs, layers and
    histories): the answers arrive while pytest still loads, off the checks' path."""
    images: list[ImageFacts] = []
    if lab.grades("task2"):
        images += tweet_images(lab) + lab.state.images_of("nginx")
    if lab.grades("task3"):
        images += figlet_images(lab)[:1] + lab.state.images_of("ubuntu")
    if lab.grades("task4"):
        hello = hello_image(lab)
        images += ([hello] if hello is not None else []) + lab.state.images_of("alpine")
    for image in images:
        _ = image.attrs, image.history
