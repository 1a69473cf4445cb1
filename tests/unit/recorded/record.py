"""Record the commit-detection fixtures from a real Docker engine, and derive the newer shapes.

Run by hand, never by pytest (it needs an engine and mutates it)::

    .venv/bin/python tests/unit/recorded/record.py record   # talks to the engine
    .venv/bin/python tests/unit/recorded/record.py derive   # pure: rewrites the derived files

Recording makes its own one-layer base (``rec-base:latest``, busybox-static imported with
``docker import``), plays the lab's commit and two kinds of build on it, saves trimmed JSON and
removes everything it created. Deriving rewrites the recorded files the way newer engines
present the same facts (see README.md beside this file).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
BUSYBOX = Path("/bin/busybox")
APPLETS = ("sh", "echo", "ls", "cat", "mkdir", "hostname", "true")
LEGACY_CLI = "/usr/local/bin/docker"  # CLI 28 without buildx: the classic builder
BUILDKIT_CLI = "/usr/bin/docker"  # CLI 20.10: its built-in BuildKit client
DOCKERFILE = "FROM rec-base:latest\nRUN mkdir -p /usr/bin && echo figlet > /usr/bin/figlet\n"

IMAGE_DROP = ("GraphDriver",)
CONTAINER_KEEP = ("Id", "Created", "Path", "Args", "Image", "Name", "Config")
STATE_KEEP = ("Status", "ExitCode")


def sh(*argv: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run a docker CLI command the way a student types it, and return its stdout."""
    done = subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return done.stdout.strip()


def rootfs_tar() -> bytes:
    """A rootfs holding busybox and a few applet symlinks: the smallest base that runs sh."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for folder in ("bin", "tmp", "root", "etc"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        passwd = b"root:x:0:0:root:/root:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        tar.addfile(info, io.BytesIO(passwd))
    return buf.getvalue()


def trim_image(doc: dict[str, Any]) -> dict[str, Any]:
    """Keep the image inspect minus host paths."""
    return {k: v for k, v in doc.items() if k not in IMAGE_DROP}


def trim_container(doc: dict[str, Any]) -> dict[str, Any]:
    """Keep what identifies a container and its config; drop host paths and networking."""
    out = {k: doc[k] for k in CONTAINER_KEEP if k in doc}
    out["State"] = {k: doc["State"][k] for k in STATE_KEEP}
    return out


def trim_event(event: dict[str, Any]) -> dict[str, Any]:
    """Keep the API >= 1.22 fields only: API 1.52 drops status/id/from."""
    return {k: event[k] for k in ("Type", "Action", "Actor", "scope", "time") if k in event}


def record() -> None:  # pragma: no cover - needs a real engine
    import docker  # imported here so that `derive` runs without an engine

    client = docker.from_env()
    version = client.version()
    created_images: list[str] = []
    created_containers: list[str] = []
    ctx = HERE / ".rec-ctx"
    subprocess.run(
        ["docker", "import", "--change", 'CMD ["sh"]', "-", "rec-base:latest"],
        input=rootfs_tar(),
        check=True,
        capture_output=True,
    )
    created_images.append("rec-base:latest")
    base = client.api.inspect_image("rec-base:latest")
    engine = {
        "Version": version["Version"],
        "ApiVersion": version["ApiVersion"],
        "Os": version["Os"],
        "storage": client.info()["Driver"],
    }
    start = int(time.time()) - 1
    windows: dict[str, tuple[float, float]] = {}

    try:
        # (i) the lab's way: an interactive shell, then commit and tag by id
        t0 = time.time()
        sh(
            "docker",
            "container",
            "run",
            "-i",
            "--name",
            "rec-cd-src",
            "rec-base:latest",
            "sh",
            stdin="echo figlet > /bin/figlet\nexit\n",
        )
        created_containers.append("rec-cd-src")
        image_id = sh("docker", "container", "commit", "rec-cd-src")
        sh("docker", "image", "tag", image_id, "rec-cd-ourfiglet:latest")
        created_images.append("rec-cd-ourfiglet:latest")
        windows["commit"] = (t0, time.time())
        time.sleep(1.1)  # keep each scenario's events in a window of its own

        # (i') commit with --change and -m: the image config no longer echoes the container
        t0 = time.time()
        sh(
            "docker",
            "container",
            "run",
            "--name",
            "rec-cd-chg",
            "rec-base:latest",
            "sh",
            "-c",
            "echo figlet > /bin/figlet",
        )
        created_containers.append("rec-cd-chg")
        sh(
            "docker",
            "container",
            "commit",
            "--change",
            'CMD ["figlet"]',
            "-m",
            "add figlet",
            "rec-cd-chg",
            "rec-cd-ourfiglet-chg:latest",
        )
        created_images.append("rec-cd-ourfiglet-chg:latest")
        windows["commit_change"] = (t0, time.time())
        time.sleep(1.1)

        ctx.mkdir(exist_ok=True)
        (ctx / "Dockerfile").write_text(DOCKERFILE)
        # (ii) the classic builder
        t0 = time.time()
        sh(
            LEGACY_CLI,
            "build",
            "--no-cache",
            "-t",
            "rec-cd-legacy:latest",
            str(ctx),
            env={"DOCKER_BUILDKIT": "0"},
        )
        created_images.append("rec-cd-legacy:latest")
        windows["build_legacy"] = (t0, time.time())
        time.sleep(1.1)
        # (iii) BuildKit
        t0 = time.time()
        sh(
            BUILDKIT_CLI,
            "build",
            "--no-cache",
            "-t",
            "rec-cd-buildkit:latest",
            str(ctx),
            env={"DOCKER_BUILDKIT": "1"},
        )
        created_images.append("rec-cd-buildkit:latest")
        windows["build_buildkit"] = (t0, time.time())

        time.sleep(1)
        until = int(time.time()) + 1
        events = list(client.api.events(since=start, until=until, decode=True))
        ours = set(created_containers) | {base["Id"]}
        for ref in created_images:
            ours.add(client.api.inspect_image(ref)["Id"])
        for name in created_containers:
            ours.add(client.api.inspect_container(name)["Id"])

        def relevant(event: dict[str, Any], window: tuple[float, float]) -> bool:
            attrs = event.get("Actor", {}).get("Attributes", {})
            when = event["timeNano"] / 1e9
            mine = (
                event.get("Actor", {}).get("ID") in ours
                or attrs.get("name", "").startswith("rec-")
                or attrs.get("image") in ours | {"rec-base:latest", "rec-base"}
                or attrs.get("imageID") in ours
            )
            return mine and window[0] <= when <= window[1]

        builder = {
            "commit": "docker container commit (CLI 28.2.2, API 1.41)",
            "commit_change": "docker container commit --change -m (CLI 28.2.2, API 1.41)",
            "build_legacy": "classic builder (CLI 28.2.2 without buildx, DOCKER_BUILDKIT=0)",
            "build_buildkit": "BuildKit built into dockerd (CLI 20.10, DOCKER_BUILDKIT=1)",
        }
        refs = {
            "commit": ("rec-cd-ourfiglet:latest", ["rec-cd-src"]),
            "commit_change": ("rec-cd-ourfiglet-chg:latest", ["rec-cd-chg"]),
            "build_legacy": ("rec-cd-legacy:latest", []),
            "build_buildkit": ("rec-cd-buildkit:latest", []),
        }
        for scenario, (ref, containers) in refs.items():
            doc = {
                "engine": {**engine, "how": builder[scenario]},
                "image": trim_image(client.api.inspect_image(ref)),
                "history": client.api.history(ref),
                "base": trim_image(base),
                "containers": [trim_container(client.api.inspect_container(c)) for c in containers],
                "events": [trim_event(e) for e in events if relevant(e, windows[scenario])],
            }
            write(f"classic_{scenario}.json", doc)
    finally:
        for name in created_containers:
            subprocess.run(["docker", "container", "rm", "-f", name], capture_output=True)
        for ref in reversed(created_images):
            subprocess.run(["docker", "image", "rm", ref], capture_output=True)
        if ctx.exists():
            (ctx / "Dockerfile").unlink(missing_ok=True)
            ctx.rmdir()


def write(name: str, doc: dict[str, Any]) -> None:
    """Write one fixture, stable and diff-friendly."""
    (HERE / name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def read(name: str) -> dict[str, Any]:
    """Read one fixture."""
    doc: dict[str, Any] = json.loads((HERE / name).read_text())
    return doc


def api_145(doc: dict[str, Any]) -> dict[str, Any]:
    """API >= 1.45 (Docker 26+) no longer sends Container and ContainerConfig."""
    out = copy.deepcopy(doc)
    for image in (out["image"], out["base"]):
        image.pop("Container", None)
        image.pop("ContainerConfig", None)
        image.pop("VirtualSize", None)  # gone since API 1.44
    out["engine"]["derived"] = "API >= 1.45: Container, ContainerConfig, VirtualSize removed"
    return out


def containerd_store(doc: dict[str, Any]) -> dict[str, Any]:
    """Docker 24+ with the containerd snapshotter, inspected over API >= 1.45.

    Image ids become manifest digests (the commit event and the containers carry those too),
    the config is read from the OCI image config, which has no Hostname, Domainname or Image,
    and history lists ``<missing>`` for every entry but the top one.
    """
    out = api_145(doc)
    ids = {out["image"]["Id"], out["base"]["Id"]}
    new_ids = {
        old: "sha256:" + hashlib.sha256(f"manifest-of-{old}".encode()).hexdigest() for old in ids
    }
    out = _replace_strings(out, new_ids)
    for image in (out["image"], out["base"]):
        image.pop("DockerVersion", None)
        image["Parent"] = ""
        for key in ("Hostname", "Domainname", "Image"):
            image["Config"].pop(key, None)
    for n, entry in enumerate(out["history"]):
        entry["Id"] = out["image"]["Id"] if n == 0 else "<missing>"
    out["engine"]["storage"] = "overlayfs (containerd snapshotter)"
    out["engine"]["derived"] = (
        "containerd image store, API >= 1.45: Container, ContainerConfig, Config.Hostname, "
        "Config.Domainname, Config.Image, DockerVersion removed; image ids replaced by "
        "manifest digests everywhere they appear; history ids below the top are <missing>"
    )
    return out


def _replace_strings(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with every string equal to a key of ``mapping`` replaced."""
    if isinstance(value, dict):
        return {k: _replace_strings(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, mapping) for v in value]
    if isinstance(value, str):
        return mapping.get(value, value)
    return value


def derive() -> None:
    """Rewrite every derived fixture from the recorded ones."""
    for scenario in ("commit", "commit_change", "build_legacy", "build_buildkit"):
        doc = read(f"classic_{scenario}.json")
        write(f"api145_{scenario}.json", api_145(doc))
        write(f"containerd_{scenario}.json", containerd_store(doc))


if __name__ == "__main__":
    {"record": record, "derive": derive}[sys.argv[1]]()
