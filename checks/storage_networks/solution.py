"""The storage and networks lab solved, as a student types it (``STEPS.md``): each task's
lines, and what it leaves behind (``grade reset TASK`` removes it, ``grade finish`` all of it).

The names live here once: the checks, the spoilers and the hints all read them from here.
"""

from __future__ import annotations

from grader import LabTask, Objects, Preflight, Step

VOLUME = "notes"
WRITER = "notes-writer"
NOTE = "note.txt"
SITE = "site"
SITE_FOLDER = "~/site"
SITE_PORT = 8080
NGINX_HTML = "/usr/share/nginx/html"
NETWORK = "labnet"
SERVER = "labweb"
CLIENT = "labclient"
LIMITED = "limited"
MEMORY = 256 * 1024 * 1024
NANO_CPUS = 500_000_000  # --cpus 0.5

# -- Task 1 -----------------------------------------------------------------------------
CREATE_VOLUME = Step(f"docker volume create {VOLUME}")
WRITE_NOTE = Step(
    f"docker container run --name {WRITER} --mount source={VOLUME},target=/data alpine "
    f"sh -c 'echo \"kept by a volume\" > /data/{NOTE}'"
)
REMOVE_WRITER = Step(f"docker container rm {WRITER}")
READ_NOTE = Step(
    f"docker container run --rm --mount source={VOLUME},target=/data alpine cat /data/{NOTE}"
)

# -- Task 2 -----------------------------------------------------------------------------
WRITE_SITE = Step(
    f"mkdir -p {SITE_FOLDER} && echo '<h1>Served from my own folder</h1>' "
    f"> {SITE_FOLDER}/index.html"
)
RUN_SITE = Step(
    f"docker container run --detach --name {SITE} --publish {SITE_PORT}:80 "
    f'--mount type=bind,source="$HOME/site",target={NGINX_HTML},readonly nginx'
)
#: What the student waits for before opening the page: nginx answering.
SITE_READY = Step(f"docker container logs {SITE} 2>&1 | grep -q 'start worker'", wait=30)

# -- Task 3 -----------------------------------------------------------------------------
CREATE_NETWORK = Step(f"docker network create --driver bridge {NETWORK}")
RUN_SERVER = Step(f"docker container run --detach --name {SERVER} --network {NETWORK} nginx")
RUN_CLIENT = Step(
    f"docker container run --detach --name {CLIENT} --network {NETWORK} alpine sleep 1d"
)
REACH_SERVER = Step(f"docker container exec {CLIENT} wget -qO- http://{SERVER}/", wait=30)

# -- Task 4 -----------------------------------------------------------------------------
RUN_LIMITED = Step(
    f"docker container run --detach --name {LIMITED} --memory 256m --cpus 0.5 alpine sleep 1d"
)
SHOW_STATS = Step(f"docker container stats --no-stream {LIMITED}")

TASKS = (
    LabTask(
        "task1",
        solution=(CREATE_VOLUME, WRITE_NOTE, REMOVE_WRITER, READ_NOTE),
        objects=Objects(containers=(WRITER,), volumes=(VOLUME,)),
    ),
    LabTask(
        "task2",
        solution=(WRITE_SITE, RUN_SITE, SITE_READY),
        objects=Objects(containers=(SITE,), files=(SITE_FOLDER,)),
    ),
    LabTask(
        "task3",
        solution=(CREATE_NETWORK, RUN_SERVER, RUN_CLIENT, REACH_SERVER),
        objects=Objects(containers=(SERVER, CLIENT), networks=(NETWORK,)),
    ),
    LabTask(
        "task4",
        solution=(RUN_LIMITED, SHOW_STATS),
        objects=Objects(containers=(LIMITED,)),
    ),
)

PREFLIGHT = Preflight(ports=(SITE_PORT,), images=("alpine", "nginx"), disk_mb=256)
