"""Task 1: run some simple containers (alpine, an interactive ubuntu, mysql as mydb)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from checks.docker_beginners import evidence
from checks.docker_beginners.settings import DockerLab
from grader import N_, ContainerFacts, Event, fail, prove
from grader.imageref import effective_tag, is_repository

pytestmark = pytest.mark.task("task1", N_("Run some simple containers"))

RUN_MYDB = (
    "docker container run --detach --name mydb -e MYSQL_ROOT_PASSWORD=my-secret-pw mysql:latest"
)
REPLACE_MYDB = f"docker container rm --force mydb && {RUN_MYDB}"
OTHER_PASSWORD_VARIABLES = (
    "MYSQL_RANDOM_ROOT_PASSWORD",
    "MYSQL_ALLOW_EMPTY_PASSWORD",
    "MYSQL_ROOT_PASSWORD_FILE",
)


@pytest.mark.check(
    "alpine.hostname",
    points=2,
    title=N_("alpine ran hostname and exited"),
    hint="docker container run alpine hostname",
)
def test_an_alpine_container_printed_its_hostname(lab: DockerLab) -> None:
    containers = lab.state.containers_of("alpine")
    hostname_runs = _hostname_runs(lab, containers)
    if not hostname_runs:
        elsewhere = _hostname_runs(lab, lab.state.containers)
        if elsewhere:
            c = elsewhere[0]
            fail(
                N_("container {id} ran hostname, but from image {image}, not alpine").format(
                    id=c.short_id, image=c.image_ref
                )
            )
        if containers:
            c = containers[0]
            fail(
                N_("found alpine container {id}, but it ran {command}").format(
                    id=c.short_id, command=repr(" ".join(c.command))
                )
            )
        fail(N_("found no container of the alpine image (the container of step 1.1 stays listed)"))
    for container in hostname_runs:
        exited_cleanly = container.status == "exited" and container.exit_code == 0
        if exited_cleanly and container.logs().strip() == container.hostname:
            prove(container)  # its image id with it; pulled images alike for all are no evidence
            return
    c = hostname_runs[0]
    if c.status != "exited":
        fail(
            N_("alpine container {id} is {status}, not exited").format(
                id=c.short_id, status=c.status
            )
        )
    if c.exit_code != 0:
        fail(
            N_("alpine container {id} ran hostname but exited with code {code}").format(
                id=c.short_id, code=c.exit_code
            )
        )
    fail(
        N_("alpine container {id} printed {output}, not its hostname").format(
            id=c.short_id, output=repr(c.logs().strip()[:60])
        )
    )


def _hostname_runs(lab: DockerLab, containers: list[ContainerFacts]) -> list[ContainerFacts]:
    """The containers that ran ``hostname``; only those the listing leaves possible are
    inspected (a lived-in host has hundreds of others)."""
    return [c for c in containers if lab.state.may_run(c, "hostname") and _runs_hostname(c)]


def _runs_hostname(container: ContainerFacts) -> bool:
    return len(container.command) == 1 and container.command[0].rsplit("/", 1)[-1] == "hostname"


@pytest.mark.check(
    "ubuntu.interactive",
    points=1,
    title=N_("ubuntu ran with -it --rm"),
    hint="docker container run --interactive --tty --rm ubuntu bash   (then: exit)",
)
def test_an_interactive_ubuntu_container_was_removed(lab: DockerLab) -> None:
    ubuntu_ids = {image.id for image in lab.state.images_of("ubuntu")}
    history = lab.state.events
    live = _interactive_runs(history.of_containers(), ubuntu_ids)
    if live.proof:
        prove(live.proof)
        lab.state.keep_events_of(live.proof.actor_id)  # for when the engine has forgotten it
        return
    # Remembered by an earlier grade: judged alike, and the container must be gone (--rm).
    listed = {c.id for c in lab.state.containers}
    gone = {i: e for i, e in history.of_containers(remembered=True).items() if i not in listed}
    remembered = _interactive_runs(gone, ubuntu_ids)
    if remembered.proof:
        prove(remembered.proof)
        seen = history.seen_on(remembered.proof.actor_id)
        lab.note(f"seen on {seen:%Y-%m-%d} by an earlier grade (the engine has forgotten it since)")
        return
    without_tty = live.without_tty or remembered.without_tty
    without_rm = live.without_rm or remembered.without_rm
    if without_tty:
        fail(
            N_(
                "ubuntu container {id} ran with --rm but without a terminal (--interactive --tty)"
            ).format(id=without_tty[:12])
        )
    if without_rm:
        fail(
            N_("ubuntu container {id} ran interactively but was not removed (--rm)").format(
                id=without_rm[:12]
            )
        )
    fail(_no_interactive_run_message(lab))


@dataclass(frozen=True)
class _Runs:
    """What the events of ubuntu containers show: the create event of a run -it --rm, or the
    first container that ran interactively without --rm, or without a terminal."""

    proof: Event | None = None
    without_rm: str = ""
    without_tty: str = ""


def _interactive_runs(by_container: dict[str, list[Event]], ubuntu_ids: set[str]) -> _Runs:
    without_rm = without_tty = ""
    for container_id, events in by_container.items():
        image = next(
            (e.attributes.get("image", "") for e in events if e.attributes.get("image")), ""
        )
        if not (image in ubuntu_ids or _names_ubuntu(image, ubuntu_ids)):
            continue
        actions = {e.action for e in events}
        if not {"create", "attach", "start"} <= actions:
            continue
        if "destroy" not in actions:
            without_rm = without_rm or container_id
        elif "resize" not in actions and all(e.records_terminals for e in events):
            # Podman logs no resize: there a run's terminal cannot be told from its events
            without_tty = without_tty or container_id
        else:
            return _Runs(proof=next(e for e in events if e.action == "create"))
    return _Runs(without_rm=without_rm, without_tty=without_tty)


def _names_ubuntu(image: str, ubuntu_ids: set[str]) -> bool:
    """True when an event's ``image`` attribute (a name or an id, as typed) is ubuntu."""
    typed_id = image.removeprefix("sha256:")
    if len(typed_id) >= 12 and any(
        i.removeprefix("sha256:").startswith(typed_id) for i in ubuntu_ids
    ):
        return True
    return is_repository(image, "ubuntu")


def _no_interactive_run_message(lab: DockerLab) -> str:
    oldest = lab.state.events.oldest
    if oldest is None:
        return N_(
            "the Docker engine's event history is empty (Docker was restarted since?), "
            "so the --rm run of step 1.2 cannot be seen: do it again"
        )
    since = datetime.fromtimestamp(oldest, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    first_container = min((c.created for c in lab.state.containers if c.created), default=None)
    if first_container is not None and first_container < oldest:
        return N_(
            "no interactive --rm run of ubuntu in the engine's event history, which only reaches "
            "back to {since}, after your first containers (Docker keeps only its latest few "
            "hundred events, and none from before a restart): do step 1.2 again"
        ).format(since=since)
    return N_(
        "no interactive --rm run of ubuntu in the engine's event history (since {since})"
    ).format(since=since)


@pytest.fixture
def mydb(lab: DockerLab) -> ContainerFacts:
    container = evidence.mydb(lab)
    if container is None:
        fail(N_("found no container named mydb"), hint=RUN_MYDB)
    prove(container)  # every mydb check that passes was proved by this container
    return container


@pytest.mark.check("mydb.running", points=2, title=N_("mydb is running"), hint=RUN_MYDB)
def test_mydb_is_running(mydb: ContainerFacts) -> None:
    if mydb.running:
        return
    if mydb.status == "restarting":
        fail(
            N_("mydb keeps restarting (last exit code {code})").format(
                code=mydb.state.get("ExitCode")
            ),
            hint="docker container logs mydb",
        )
    if mydb.status == "paused":
        fail(N_("mydb is paused"), hint="docker container unpause mydb")
    if mydb.status == "created":
        if mydb.error:
            why = N_("mydb was created but is not running: the engine said {error}").format(
                error=repr(mydb.error)
            )
        else:
            why = N_("mydb was created but is not running")
        fail(why, hint="docker container start mydb")
    if not mydb.env_names.get("MYSQL_ROOT_PASSWORD"):
        fail(
            N_(
                "mydb exited with code {code} right after it started: the mysql image "
                "stops at once when MYSQL_ROOT_PASSWORD is not set"
            ).format(code=mydb.exit_code),
            hint=REPLACE_MYDB,
        )
    fail(
        N_("mydb is {status} (exit code {code}); `docker container logs mydb` says why").format(
            status=mydb.status, code=mydb.exit_code
        ),
        hint="docker container start mydb",
    )


@pytest.mark.check("mydb.image", points=1, title=N_("mydb runs mysql:latest"), hint=REPLACE_MYDB)
def test_mydb_runs_the_mysql_latest_image(lab: DockerLab, mydb: ContainerFacts) -> None:
    if not _runs_mysql_latest(lab, mydb):
        fail(N_("mydb was created from {image}, not mysql:latest").format(image=mydb.image_ref))


def _runs_mysql_latest(lab: DockerLab, mydb: ContainerFacts) -> bool:
    latest = lab.state.image("mysql:latest")
    if latest is not None and mydb.image_id == latest.id:
        return True
    if _names_mysql_latest(mydb.image_ref):
        return True  # created from mysql:latest, which has since moved on to a newer image
    named = lab.state.image(mydb.image_ref)
    return named is not None and latest is not None and named.id == latest.id  # a digest or id


def _names_mysql_latest(reference: str) -> bool:
    return is_repository(reference, "mysql") and effective_tag(reference) == "latest"


@pytest.mark.check(
    "mydb.password",
    points=1,
    title=N_("mydb has a root password"),
    hint=REPLACE_MYDB,
)
def test_mydb_has_a_root_password(mydb: ContainerFacts) -> None:
    env = mydb.env_names
    if env.get("MYSQL_ROOT_PASSWORD"):
        return
    if "MYSQL_ROOT_PASSWORD" in env:
        fail(N_("mydb's MYSQL_ROOT_PASSWORD is empty"))
    others = [name for name in OTHER_PASSWORD_VARIABLES if name in env]
    if others:
        fail(N_("mydb sets {name} instead of MYSQL_ROOT_PASSWORD").format(name=others[0]))
    fail(N_("mydb has no MYSQL_ROOT_PASSWORD in its environment (-e MYSQL_ROOT_PASSWORD=...)"))


@pytest.mark.check("mydb.detached", points=1, title=N_("mydb started detached"), hint=REPLACE_MYDB)
def test_mydb_was_started_detached(mydb: ContainerFacts) -> None:
    if not mydb.attached:
        return
    attached = [
        name
        for key, name in (
            ("AttachStdin", "stdin"),
            ("AttachStdout", "stdout"),
            ("AttachStderr", "stderr"),
            ("Tty", "a terminal"),
            ("OpenStdin", "stdin kept open"),
        )
        if mydb.config.get(key)
    ]
    # Podman records none of these: there the container's own attach event showed it
    if attached:
        fail(
            N_("mydb was started attached ({streams}), not with --detach").format(
                streams=", ".join(attached)
            )
        )
    fail(N_("mydb was started attached to your terminal, not with --detach"))


@pytest.mark.check(
    "mydb.version",
    points=1,
    title=N_("mysql in mydb answers"),
    hint='docker exec -it mydb mysql --user=root --password="$MYSQL_ROOT_PASSWORD" --version',
)
def test_mysql_in_mydb_answers(lab: DockerLab, mydb: ContainerFacts) -> None:
    if not mydb.running:
        fail(
            N_("mydb is {status}, so mysql cannot be asked").format(status=mydb.status),
            hint=RUN_MYDB,
        )
    answer = lab.probe(*evidence.mysql_probe(lab))
    if answer.exit_code == evidence.MYSQL_NOT_INSTALLED:
        fail(N_("there is no mysql command in mydb"))
    if answer.exit_code == evidence.MYSQL_VERSION_FAILED:
        fail(N_("mysql --version in mydb failed: {error}").format(error=_last_line(answer.stderr)))
    version, _, rows = answer.stdout.strip().partition("\n")
    if answer.exit_code != 0 or rows.strip() != "1":
        fail(
            N_(
                "mysql --version works ({version}), but the server did not answer "
                "a query with the root password: {error}"
            ).format(version=version.strip(), error=_last_line(answer.stderr)),
        )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and "insecure" not in line]
    return lines[-1][:200] if lines else "(no output)"
