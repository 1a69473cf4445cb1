"""Task 2: package the linux_tweet_app with a Dockerfile, build it and publish it on port 80."""

from __future__ import annotations

import pytest

from checks.docker_beginners import evidence
from checks.docker_beginners.nginx import runs_nginx_foreground
from checks.docker_beginners.settings import DockerLab
from grader import N_, ContainerFacts, ImageFacts, dockerfile, fail, prove, prove_file
from grader.imageref import is_repository

pytestmark = pytest.mark.task("task2", N_("Package and run a custom app"))

BUILD = "cd ~/linux_tweet_app && docker image build --tag $DOCKERID/linux_tweet_app:1.0 ."
RUN = (
    "docker container run --detach --publish 80:80 --name linux_tweet_app "
    "$DOCKERID/linux_tweet_app:1.0"
)
TWEET_FILES = ("index.html", "linux.png")


def _dockerfile_problems(instructions: tuple[dockerfile.Instruction, ...]) -> list[str]:
    """Every instruction the tweet app's Dockerfile misses or gets wrong, in file order."""
    problems = []
    bases = dockerfile.base_images(instructions)
    if not bases:
        problems.append(N_("no FROM"))
    elif not is_repository(bases[-1], "nginx"):
        problems.append(N_("FROM {base}, not nginx").format(base=bases[-1]))
    copied = {
        source.rstrip("/").rsplit("/", 1)[-1]
        for sources, dest in dockerfile.copies(instructions)
        for source in sources
        if dest.rstrip("/") == evidence.NGINX_HTML
        or dest.rstrip("/").rsplit("/", 1)[0] == evidence.NGINX_HTML
    }
    problems += [
        N_("no COPY of {name} into {folder}").format(name=name, folder=evidence.NGINX_HTML)
        for name in TWEET_FILES
        if name not in copied
    ]
    if "80/tcp" not in dockerfile.exposed_ports(instructions):
        problems.append(N_("no EXPOSE 80"))
    cmd = dockerfile.command(instructions)
    if cmd is None:
        problems.append(N_('no CMD (it should run nginx -g "daemon off;")'))
    elif not runs_nginx_foreground(cmd):
        problems.append(N_('CMD {cmd} does not run nginx -g "daemon off;"').format(cmd=cmd))
    return problems


@pytest.mark.check(
    "tweet.dockerfile",
    points=3,
    title=N_("Dockerfile packages the app"),
    hint="cat ~/linux_tweet_app/Dockerfile   (compare it with the lab's Dockerfile)",
)
def test_the_dockerfile_packages_the_app_on_nginx(lab: DockerLab) -> None:
    path = evidence.tweet_dockerfile_path(lab)
    content = lab.read_file(path)
    if content is None:
        fail(
            N_("found no Dockerfile at {path}").format(path=path),
            hint="git clone https://github.com/dockersamples/linux_tweet_app ~/linux_tweet_app "
            "(or tell grade where it is: --tweet-app DIR)",
        )
    problems = _dockerfile_problems(dockerfile.parse_dockerfile(content.decode("utf-8", "replace")))
    if problems:
        fail(f"{path}: " + "; ".join(problems))
    prove_file("tweet_app/Dockerfile", content)


def _copies_into_html(created_by: str) -> bool:
    """A history entry of a COPY (classic builder: ``COPY file:… in``; BuildKit: ``COPY …``)."""
    return "COPY" in created_by and evidence.NGINX_HTML in created_by


def _image_problems(lab: DockerLab, image: ImageFacts) -> list[str]:
    """Why ``image`` was not built from the student's tweet-app Dockerfile, if it was not."""
    problems = []
    nginx = lab.state.images_of("nginx")
    if any(base.id == image.id for base in nginx):
        problems.append(N_("it is the nginx image itself, with no layers of your own"))
    bases = [base for base in nginx if image.built_on(base) or base.id == image.id]
    if nginx and not bases:
        problems.append(N_("it is not built on a local nginx image"))
    # Only the student's own layers count: the nginx base has its own COPY, EXPOSE 80 and CMD.
    own = image.history[: len(image.history) - len(bases[0].history)] if bases else image.history
    if not any(_copies_into_html(entry.get("CreatedBy") or "") for entry in own):
        problems.append(
            N_("its history shows no COPY into {folder}").format(folder=evidence.NGINX_HTML)
        )
    wanted_ports = {"80/tcp"}
    recipe = lab.read_file(evidence.tweet_dockerfile_path(lab))
    if recipe is not None:
        text = recipe.decode("utf-8", "replace")
        wanted_ports |= dockerfile.exposed_ports(dockerfile.parse_dockerfile(text))
    missing = sorted(wanted_ports - image.exposed_ports)
    if missing:
        problems.append(N_("it does not expose {ports}").format(ports=", ".join(missing)))
    # Only CMD: the official nginx image's ENTRYPOINT is a script that runs its CMD.
    if not runs_nginx_foreground(image.cmd):
        problems.append(N_("its CMD is {cmd}, not nginx -g 'daemon off;'").format(cmd=image.cmd))
    return problems


@pytest.mark.check(
    "tweet.image",
    points=2,
    title=N_("image built from it"),
    hint=BUILD,
)
def test_the_tweet_app_image_was_built(lab: DockerLab) -> None:
    images = evidence.tweet_images(lab)
    if not images:
        others = evidence.other_tweet_images(lab)
        wanted = " or ".join(evidence.tweet_repositories(lab)) or "*/linux_tweet_app"
        if others:
            fail(
                N_("found {other} but no {wanted}: is $DOCKERID / --dockerid right?").format(
                    other=others[0].name, wanted=wanted
                )
            )
        fail(N_("found no image {wanted}").format(wanted=wanted))
    verdicts = {image: _image_problems(lab, image) for image in images}
    built = [image for image, problems in verdicts.items() if not problems]
    if built:
        prove(built[0])
        return
    image, problems = next(iter(verdicts.items()))
    name = _tweet_name(lab, image)
    said = N_("{name} was not built from your Dockerfile").format(name=name)
    fail(f"{said}: " + "; ".join(problems))


def _tweet_name(lab: DockerLab, image: ImageFacts) -> str:
    return next((tag for tag in image.tags if evidence.is_tweet_tag(lab, tag)), image.name)


def _tweet_containers(lab: DockerLab) -> list[ContainerFacts]:
    ids = {image.id for image in evidence.tweet_images(lab)}
    return [
        c
        for c in lab.state.containers
        if c.image_id in ids or evidence.is_tweet_tag(lab, c.image_ref)
    ]


@pytest.mark.check(
    "tweet.published",
    points=2,
    title=N_("container publishes port 80"),
    hint=RUN,
)
def test_a_tweet_app_container_publishes_port_80(lab: DockerLab) -> None:
    containers = _tweet_containers(lab)
    running = [c for c in containers if c.running]
    publishing = [c for c in running if "80" in c.published_ports.get("80/tcp", [])]
    if publishing:
        prove(publishing[0])
        return
    if running:
        c = running[0]
        ports = c.published_ports.get("80/tcp")
        if ports:
            fail(
                N_("container {name} publishes port 80 on host port {ports}, not 80").format(
                    name=c.name, ports=", ".join(ports)
                )
            )
        fail(
            N_("container {name} publishes no port 80 (--publish 80:80 missing)").format(
                name=c.name
            )
        )
    if containers:
        c = containers[0]
        if c.status == "created":
            if c.error:
                fail(
                    N_(
                        "container {name} was created but is not running: the engine said "
                        "{error} (port 80 in use?)"
                    ).format(name=c.name, error=repr(c.error))
                )
            fail(
                N_("container {name} was created but is not running (port 80 in use?)").format(
                    name=c.name
                )
            )
        fail(
            N_("container {name} is {status} (exit code {code}), not running").format(
                name=c.name, status=c.status, code=c.exit_code
            )
        )
    fail(N_("found no container of the tweet app image"))


@pytest.mark.check(
    "tweet.serves",
    points=2,
    title=N_("port 80 serves index.html"),
    hint="curl http://localhost/   (then: " + RUN + ")",
)
def test_port_80_serves_the_tweet_app(lab: DockerLab) -> None:
    local = lab.settings.tweet_app / "index.html"
    expected = lab.read_file(local)
    if expected is None:
        fail(
            N_("cannot compare the page: {path} does not exist").format(path=local),
            hint="grade --tweet-app DIR",
        )
    url = lab.web_url(80)
    try:
        page = lab.probe(*evidence.tweet_page_probe(lab))
    except OSError as exc:  # requests' connection errors are OSErrors
        fail(N_("nothing answers at {url} ({error})").format(url=url, error=type(exc).__name__))
    if page.status != 200:
        fail(N_("{url} answers HTTP {status}, not 200").format(url=url, status=page.status))
    if page.body != expected:
        start = page.body[:60].decode("utf-8", "replace").replace("\n", " ")
        fail(
            N_("{url} does not serve your index.html (got {size} bytes: {start}...)").format(
                url=url, size=len(page.body), start=repr(start)
            )
        )
    prove_file("tweet_app/index.html", page.body)
