"""Task 2: a host folder, bind-mounted into an nginx container, served on port 8080."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from checks.storage_networks import evidence
from checks.storage_networks.evidence import StorageLab
from checks.storage_networks.solution import NGINX_HTML, RUN_SITE, SITE, SITE_PORT, WRITE_SITE
from grader import ContainerFacts, fail, prove, prove_file
from grader.imageref import is_repository

pytestmark = pytest.mark.task("task2", "Serve a folder of the host")

REPLACE_SITE = f"docker container rm --force {SITE} && {RUN_SITE.command}"


@pytest.fixture
def site(lab: StorageLab) -> ContainerFacts:
    container = lab.state.container_named(SITE)
    if container is None:
        fail(f"found no container named {SITE}", hint=RUN_SITE.command)
    prove(container)
    return container


def _html_mount(site: ContainerFacts) -> dict[str, Any] | None:
    return next(
        (m for m in site.attrs.get("Mounts") or [] if m.get("Destination") == NGINX_HTML), None
    )


@pytest.mark.check(
    "bind.mounted",
    points=2,
    title=f"{SITE} runs nginx with a host folder at {NGINX_HTML}",
    hint=RUN_SITE.command,
)
def test_a_host_folder_is_bind_mounted(site: ContainerFacts) -> None:
    if not is_repository(site.image_ref, "nginx"):
        fail(f"{SITE} runs {site.image_ref}, not nginx", hint=REPLACE_SITE)
    mount = _html_mount(site)
    if mount is None:
        fail(f"{SITE} mounts nothing at {NGINX_HTML}", hint=REPLACE_SITE)
    if mount.get("Type") != "bind":
        fail(
            f"{SITE} mounts a {mount.get('Type')} at {NGINX_HTML}, not a folder of the host",
            hint=REPLACE_SITE,
        )


@pytest.mark.check(
    "bind.served",
    points=2,
    title=f"port {SITE_PORT} serves the host folder's index.html",
    hint=f"docker container start {SITE}",
)
def test_the_host_folder_is_served(lab: StorageLab, site: ContainerFacts) -> None:
    mount = _html_mount(site)
    if mount is None or mount.get("Type") != "bind":
        fail(f"{SITE} serves no folder of the host", hint=REPLACE_SITE)
    if not site.running:
        fail(f"{SITE} is {site.status}, not running")
    if str(SITE_PORT) not in site.published_ports.get("80/tcp", []):
        fail(f"{SITE} does not publish its port 80 on port {SITE_PORT}", hint=REPLACE_SITE)
    index = PurePosixPath(mount.get("Source") or "/") / "index.html"
    on_host = lab.read_file(index)
    if on_host is None:
        fail(f"found no {index} on {lab.where}", hint=WRITE_SITE.command)
    try:
        page = evidence.site_page(lab)
    except OSError as exc:
        fail(f"{lab.web_url(SITE_PORT)} did not answer ({type(exc).__name__})")
    if page.status != 200:
        fail(f"{lab.web_url(SITE_PORT)} answered {page.status}, not 200")
    if page.body.strip() != on_host.strip():
        fail(f"{lab.web_url(SITE_PORT)} is not {index}: is it the folder you edit?")
    prove_file("site/index.html", on_host)
    lab.note(f"{lab.web_url(SITE_PORT)} is {index}")
