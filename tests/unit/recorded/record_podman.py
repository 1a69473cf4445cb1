"""Record the commit-detection fixtures from a real Podman, through its Docker-compatible API.

Run by hand, never by pytest (it needs the suite's Podman and mutates it)::

    .venv/bin/python tests/unit/recorded/record_podman.py

The same scenarios as ``record.py``'s, typed with ``podman`` in place of ``docker`` (the
suite's ``podman`` from :mod:`devlab.podman`: its own storage and network namespace), and
read the way ``grade`` reads them: docker-py on ``podman system service``'s socket. Writes
``podman_commit.json``, ``podman_commit_change.json`` and ``podman_build.json`` beside this
file, and ``podman_containers.json``: inspect, listing and events of containers run as the
lab's steps 1.1 and 1.2 run them (a one-word command, ``-it --rm``, ``--rm`` alone...).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parents[2])]

from record import DOCKERFILE, rootfs_tar, trim_container, trim_image, write  # noqa: E402

from devlab import podman  # noqa: E402


def sh(*argv: str, stdin: str | bytes | None = None) -> str:
    """Run the suite's ``podman`` the way a student types it, and return its stdout."""
    env = {**os.environ, "PATH": f"{podman.BIN_DIR}:{os.environ['PATH']}"}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(argv, input=data, capture_output=True, check=True, env=env)
    return done.stdout.decode().strip()


def trim_event(event: dict[str, Any]) -> dict[str, Any]:
    """As record.py keeps them, but with ``timeNano``: Podman sends both."""
    keep = ("Type", "Action", "Actor", "scope", "time", "timeNano")
    return {k: event[k] for k in keep if k in event}


def events_between(client: Any, since: float, until: float) -> list[dict[str, Any]]:
    """Podman's events in a window; ``until`` must lie ahead (Podman 4.3 stops its reader then)."""
    ahead = max(until, time.time()) + 1
    raw = client.api.events(since=f"{since:.9f}", until=f"{ahead:.9f}", decode=True)
    return [e for e in raw if e.get("timeNano", 0) / 1e9 <= until]


#: name -> how the container is run (``script`` gives the ``-t`` runs a terminal).
CONTAINER_RUNS = {
    "rec-ev-hostname": ["podman", "container", "run", "--name", "rec-ev-hostname",
                        "rec-base:latest", "hostname"],
    "rec-ev-twice": ["podman", "container", "run", "--name", "rec-ev-twice",
                     "rec-base:latest", "hostname", "hostname"],
    "rec-ev-shell": ["podman", "container", "run", "--name", "rec-ev-shell",
                     "rec-base:latest", "sh", "-c", "exit 3"],
    "rec-ev-entrypoint": ["podman", "container", "run", "--name", "rec-ev-entrypoint",
                          "--entrypoint", "sh", "rec-base:latest", "-c", "exit 3"],
    "rec-ev-it-rm": ["script", "-qec", "podman container run --interactive --tty --rm "
                     "--name rec-ev-it-rm rec-base:latest sh -c 'exit 0'", "/dev/null"],
    "rec-ev-rm": ["podman", "container", "run", "--rm", "--name", "rec-ev-rm",
                  "rec-base:latest", "sh", "-c", "exit 0"],
    "rec-ev-it": ["script", "-qec", "podman container run --interactive --tty "
                  "--name rec-ev-it rec-base:latest sh -c 'exit 0'", "/dev/null"],
}  # fmt: skip


def record_containers(client: Any, engine: dict[str, Any], created: list[str]) -> None:
    """Containers run as the lab's first steps: their inspect, listing and events."""
    t0 = time.time()
    for name, argv in CONTAINER_RUNS.items():
        if "--rm" not in " ".join(argv):
            created.append(name)
        # exit 3 on purpose; busybox's ``hostname hostname`` tries to set the hostname
        with contextlib.suppress(subprocess.CalledProcessError):
            sh(*argv)
    t1 = time.time()
    time.sleep(1.1)
    kept = [name for name in CONTAINER_RUNS if name in created]
    events = events_between(client, t0, t1)
    doc = {
        "engine": {
            **engine,
            "how": {name: " ".join(argv) for name, argv in CONTAINER_RUNS.items()},
        },
        "inspect": {name: trim_container(client.api.inspect_container(name)) for name in kept},
        "listed": [c for c in client.api.containers(all=True) if c["Names"][0].lstrip("/") in kept],
        "events": [
            trim_event(e)
            for e in events
            if e.get("Actor", {}).get("Attributes", {}).get("name", "") in CONTAINER_RUNS
        ],
    }
    write("podman_containers.json", doc)


def record() -> None:  # pragma: no cover - needs the suite's Podman
    import docker

    main = docker.from_env()
    podman.ensure_podman(main)
    created_images: list[str] = []
    created_containers: list[str] = []
    ctx = HERE / ".rec-podman-ctx"
    with podman.service():
        client = podman.client()
        version = client.version()
        engine = {
            "Version": version["Version"],
            "ApiVersion": version["ApiVersion"],
            "Os": version["Os"],
            "storage": client.info()["Driver"],
            "components": [c["Name"] for c in version.get("Components") or []],
        }
        try:
            sh("podman", "import", "--change", 'CMD ["sh"]', "-", "rec-base:latest",
               stdin=rootfs_tar())  # fmt: skip
            created_images.append("localhost/rec-base:latest")
            base = client.api.inspect_image("localhost/rec-base:latest")
            record_containers(client, engine, created_containers)
            windows: dict[str, tuple[float, float]] = {}

            t0 = time.time()
            sh("podman", "container", "run", "-i", "--name", "rec-cd-src", "rec-base:latest",
               "sh", stdin="echo figlet > /bin/figlet\nexit\n")  # fmt: skip
            created_containers.append("rec-cd-src")
            image_id = sh("podman", "container", "commit", "rec-cd-src")
            sh("podman", "image", "tag", image_id, "rec-cd-ourfiglet:latest")
            created_images.append("localhost/rec-cd-ourfiglet:latest")
            windows["commit"] = (t0, time.time())
            time.sleep(1.1)

            t0 = time.time()
            sh("podman", "container", "run", "--name", "rec-cd-chg", "rec-base:latest",
               "sh", "-c", "echo figlet > /bin/figlet")  # fmt: skip
            created_containers.append("rec-cd-chg")
            sh("podman", "container", "commit", "--format", "docker", "--change",
               'CMD ["figlet"]', "-m", "add figlet", "rec-cd-chg",
               "rec-cd-ourfiglet-chg:latest")  # fmt: skip
            created_images.append("localhost/rec-cd-ourfiglet-chg:latest")
            windows["commit_change"] = (t0, time.time())
            time.sleep(1.1)

            ctx.mkdir(exist_ok=True)
            (ctx / "Dockerfile").write_text(
                DOCKERFILE.replace("FROM rec-base", "FROM localhost/rec-base")
            )
            t0 = time.time()
            sh("podman", "image", "build", "--no-cache", "-t", "rec-cd-build:latest", str(ctx))
            created_images.append("localhost/rec-cd-build:latest")
            windows["build"] = (t0, time.time())
            time.sleep(1.1)

            ours = {base["Id"]}
            for ref in created_images:
                ours.add(client.api.inspect_image(ref)["Id"])
            for name in created_containers:
                ours.add(client.api.inspect_container(name)["Id"])

            def relevant(event: dict[str, Any]) -> bool:
                attrs = event.get("Actor", {}).get("Attributes", {})
                actor = event.get("Actor", {}).get("ID", "")
                return (
                    actor in ours
                    or f"sha256:{actor}" in ours
                    or attrs.get("name", "").startswith(("rec-", "localhost/rec-"))
                    or "rec-base" in attrs.get("image", "")
                )

            refs = {
                "commit": ("localhost/rec-cd-ourfiglet:latest", ["rec-cd-src"]),
                "commit_change": ("localhost/rec-cd-ourfiglet-chg:latest", ["rec-cd-chg"]),
                "build": ("localhost/rec-cd-build:latest", []),
            }
            how = {
                "commit": "podman container commit, then podman image tag",
                "commit_change": "podman container commit --format docker "
                "--change 'CMD [\"figlet\"]' -m",
                "build": "podman image build --no-cache (buildah)",
            }
            for scenario, (ref, containers) in refs.items():
                window = windows[scenario]
                doc = {
                    "engine": {**engine, "how": how[scenario]},
                    "image": trim_image(client.api.inspect_image(ref)),
                    "history": client.api.history(ref),
                    "base": trim_image(base),
                    "containers": [
                        trim_container(client.api.inspect_container(c)) for c in containers
                    ],
                    "events": [
                        trim_event(e)
                        for e in events_between(client, window[0], window[1])
                        if relevant(e)
                    ],
                }
                write(f"podman_{scenario}.json", doc)
        finally:
            for name in created_containers:
                subprocess.run(["podman", "container", "rm", "-f", name], capture_output=True,
                               env={**os.environ, **podman.podman_env()})  # fmt: skip
            for ref in reversed(created_images):
                subprocess.run(["podman", "image", "rm", ref], capture_output=True,
                               env={**os.environ, **podman.podman_env()})  # fmt: skip
            if ctx.exists():
                (ctx / "Dockerfile").unlink(missing_ok=True)
                ctx.rmdir()
            client.close()


if __name__ == "__main__":
    record()
