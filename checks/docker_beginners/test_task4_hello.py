"""Task 4: build hello:v0.1 from a Dockerfile; it prints the container's hostname."""

from __future__ import annotations

import re

import pytest

from checks.docker_beginners import evidence
from checks.docker_beginners.settings import DockerLab
from grader import N_, ImageFacts, dockerfile, fail, prove, prove_file
from grader.imageref import is_repository

pytestmark = pytest.mark.task("task4", N_("Image creation using a Dockerfile"))

BUILD = "docker image build -t hello:v0.1 .   (in the folder with index.js and the Dockerfile)"
PRINTS_HOSTNAME = re.compile(r"hello from", re.IGNORECASE)
CALLS_HOSTNAME = re.compile(r"\bhostname\s*\(\s*\)")


def _dockerfile_problems(instructions: tuple[dockerfile.Instruction, ...]) -> list[str]:
    problems = []
    bases = dockerfile.base_images(instructions)
    if not bases or not is_repository(bases[-1], "alpine"):
        problems.append(N_("FROM {base}, not alpine").format(base=bases[-1] if bases else "(none)"))
    run_words = " ".join(" ".join(i.args) for i in dockerfile.runs(instructions))
    if not re.search(r"apk\s+add\b.*\bnodejs\b", run_words):
        problems.append(N_("no RUN apk add nodejs"))
    if not any(
        "." in sources and dest.rstrip("/") == "/app"
        for sources, dest in dockerfile.copies(instructions)
    ):
        problems.append(N_("no COPY . /app"))
    if (dockerfile.workdir(instructions) or "").rstrip("/") != "/app":
        problems.append(N_("no WORKDIR /app"))
    if not _runs_node_index(dockerfile.command(instructions) or []):
        problems.append(N_("CMD does not run node index.js"))
    return problems


def _runs_node_index(argv: list[str]) -> bool:
    words = argv[2].split() if argv[:2] == ["/bin/sh", "-c"] and len(argv) == 3 else argv
    return [w.rsplit("/", 1)[-1] for w in words] == ["node", "index.js"]


@pytest.mark.check(
    "hello.dockerfile",
    points=2,
    title=N_("Dockerfile and index.js"),
    hint="compare your Dockerfile and index.js with the lab's Task 4 (or pass --hello-dir DIR)",
)
def test_the_hello_dockerfile_and_script(lab: DockerLab) -> None:
    found = evidence.hello_sources(lab)
    if found is None:
        fail(
            N_("found no image hello:v0.1 to read /app/Dockerfile from, and no --hello-dir"),
            hint=BUILD,
        )
    where, files = found
    problems = []
    recipe = files.get("Dockerfile")
    if recipe is None:
        problems.append(N_("no Dockerfile"))
    else:
        text = recipe.decode("utf-8", "replace")
        problems += _dockerfile_problems(dockerfile.parse_dockerfile(text))
    script = files.get("index.js")
    if script is None:
        problems.append(N_("no index.js"))
    else:
        source = script.decode("utf-8", "replace")
        if not (PRINTS_HOSTNAME.search(source) and CALLS_HOSTNAME.search(source)):
            problems.append(N_('index.js does not print "hello from " + the hostname'))
    if problems:
        fail(f"{where}: " + "; ".join(problems))
    for name in ("Dockerfile", "index.js"):
        prove_file(f"hello/{name}", files[name] or b"")


@pytest.fixture
def hello(lab: DockerLab) -> ImageFacts:
    image = evidence.hello_image(lab)
    if image is None:
        fail(N_("found no image hello:v0.1"), hint=BUILD)
    prove(image)  # the student's own build: every hello check that passes shows it
    return image


@pytest.mark.check(
    "hello.image",
    points=1,
    title=N_("hello:v0.1 built on alpine"),
    hint=BUILD,
)
def test_hello_was_built_on_alpine(lab: DockerLab, hello: ImageFacts) -> None:
    problems = []
    alpine = lab.state.images_of("alpine")
    if alpine and not any(hello.built_on(base) for base in alpine):
        problems.append(N_("it is not built on the local alpine image"))
    history = " ".join(entry.get("CreatedBy") or "" for entry in hello.history)
    if not re.search(r"apk\s+add\b.*\bnodejs\b", history):
        problems.append(N_("its history shows no apk add nodejs"))
    if hello.workdir.rstrip("/") != "/app":
        problems.append(
            N_("its working directory is {workdir}, not /app").format(workdir=hello.workdir or "/")
        )
    if not _runs_node_index(hello.cmd):
        problems.append(N_("its CMD is {cmd}, not node index.js").format(cmd=hello.cmd))
    if problems:
        said = N_("hello:v0.1 was not built from the lab's Dockerfile")
        fail(f"{said}: " + "; ".join(problems))


@pytest.mark.check(
    "hello.runs",
    points=2,
    title=N_("hello:v0.1 prints hostname"),
    hint="docker container run hello:v0.1",
)
def test_hello_prints_its_hostname(lab: DockerLab, hello: ImageFacts) -> None:
    run = lab.probe(*evidence.hello_run_probe(lab, hello))
    expected = f"hello from {run.hostname}"
    if run.exit_code != 0:
        fail(
            N_("hello:v0.1 exited with code {code}: {output}").format(
                code=run.exit_code, output=run.output.strip()[:160]
            )
        )
    if run.output.strip() != expected:
        fail(
            N_("hello:v0.1 printed {output}, expected {expected}").format(
                output=repr(run.output.strip()[:80]), expected=repr(expected)
            )
        )
