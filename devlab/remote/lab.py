"""The lab on each engine host, done by the model student (and spoiled), and a stamp of
what it depends on, so a warm run redoes nothing but step 1.2 when its events age out.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import docker

from devlab.host import reset_lab
from devlab.model_student import (
    DOCKERID,
    HELLO_DOCKERFILE,
    HELLO_INDEX_JS,
    TWEET_DOCKERFILE,
    TWEET_INDEX_HTML,
    ModelStudent,
)
from devlab.remote.hosts import (
    HISTORY_MARGIN,
    RECIPE_VERSION,
    SPOILERS,
    RemoteHostError,
    _EngineSpec,
    _UserSpec,
)
from devlab.remote.processes import _client, _proc, _read_pid, _run

log = logging.getLogger("devlab.remote")


def _stamp_path(spec: _EngineSpec) -> Path:
    return spec.run_dir / "lab.json"


def _stamp(spec: _EngineSpec, client: docker.DockerClient, ids: dict[str, str]) -> dict[str, Any]:
    """What the done lab depends on: this engine process, its images, the recipe, the spoilers."""
    pid = _read_pid(spec.run_dir / "dockerd.pid") or 0
    info = _proc(pid)
    return {
        "recipe": RECIPE_VERSION,
        "engine": client.info()["ID"],
        "dockerd": [pid, info[1] if info else 0],
        "standins": ids,
        "spoilers": list(spec.spoilers),
    }


def _home_files(user: _UserSpec) -> dict[Path, str]:
    """The files the model student leaves in the home, as the checks read them."""
    return {
        user.home / "linux_tweet_app" / "Dockerfile": TWEET_DOCKERFILE,
        user.home / "linux_tweet_app" / "index.html": TWEET_INDEX_HTML,
        user.home / "hello" / "Dockerfile": HELLO_DOCKERFILE,
        user.home / "hello" / "index.js": HELLO_INDEX_JS,
    }


def _lab_intact(spec: _EngineSpec, client: docker.DockerClient) -> bool:
    """The lab's containers, images and files are as the model student (and spoilers) left them."""
    states = {
        c["Names"][0].lstrip("/"): c["State"] for c in client.api.containers(all=True) if c["Names"]
    }
    mydb = "exited" if "mydb_stopped" in spec.spoilers else "running"
    if states.get("mydb") != mydb or states.get("linux_tweet_app") != "running":
        return False
    tags = {tag for image in client.api.images() for tag in image.get("RepoTags") or ()}
    wanted_tags = {f"{DOCKERID}/linux_tweet_app:1.0", "ourfiglet:latest", "hello:v0.1"}
    if not wanted_tags <= tags:
        return False
    for path, text in _home_files(spec.owner).items():
        try:
            if path.read_text() != text:
                return False
        except OSError:
            return False
    return True


def _student(spec: _EngineSpec) -> ModelStudent:
    return ModelStudent(spec.owner.home, docker_host=spec.docker_host)


def _chown_home(user: _UserSpec) -> None:
    _run(["chown", "-R", f"{user.name}:{user.name}", str(user.home)], f"chown of {user.home}")


def _clear_home(user: _UserSpec) -> None:
    for name in ("linux_tweet_app", "hello", ".docker"):
        shutil.rmtree(user.home / name, ignore_errors=True)


def _do_lab(spec: _EngineSpec, client: docker.DockerClient, ids: dict[str, str]) -> None:
    """Reset this engine and home, then the model student's whole lab, then the spoilers."""
    started = time.monotonic()
    _stamp_path(spec).unlink(missing_ok=True)
    reset_lab(client)
    _clear_home(spec.owner)
    student = _student(spec)
    try:
        student.do_the_lab()
        for name in spec.spoilers:
            student.sh(SPOILERS[name].spoil)
    except (RuntimeError, subprocess.SubprocessError) as exc:
        raise RemoteHostError(
            f"the model student's lab in netns {spec.netns} failed: {exc}"
        ) from exc
    _chown_home(spec.owner)
    stamp = {**_stamp(spec, client, ids), "interactive_run_at": student.interactive_run_at}
    _stamp_path(spec).write_text(json.dumps(stamp))
    log.info("%s: the model student's lab: %.1f s", spec.netns, time.monotonic() - started)


def _events_since(client: docker.DockerClient, since: float) -> int:
    return len(list(client.api.events(since=f"{since:.9f}", until=f"{time.time():.9f}")))


def _keep_history(
    spec: _EngineSpec, client: docker.DockerClient, stamp: dict[str, Any], margin: int
) -> None:
    """Redo step 1.2 before grading pushes its events out of the engine's short history."""
    if _events_since(client, float(stamp["interactive_run_at"])) <= margin:
        return
    student = _student(spec)
    student.step_1_2()
    _chown_home(spec.owner)
    stamp["interactive_run_at"] = student.interactive_run_at
    _stamp_path(spec).write_text(json.dumps(stamp))


def _ensure_lab(spec: _EngineSpec, ids: dict[str, str]) -> None:
    client = _client(spec, timeout=120)
    try:
        try:
            stamp = json.loads(_stamp_path(spec).read_text())
        except (OSError, ValueError):
            stamp = {}
        current = _stamp(spec, client, ids)
        if all(stamp.get(k) == v for k, v in current.items()) and _lab_intact(spec, client):
            _keep_history(spec, client, stamp, HISTORY_MARGIN)
        else:
            _do_lab(spec, client, ids)
    finally:
        client.close()
