"""Build local stand-ins for the lab's Docker Hub images, which cannot be pulled here.

A Debian minbase rootfs (debootstrap, cached as a tarball outside the repo) is imported as
`grade-standin/debian:bookworm`; each stand-in folder beside this file is then built FROM it
and tagged like the real image (`alpine:latest`, ...). Every image carries a digest of its own
definition, so a warm run only compares labels and builds nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

log = logging.getLogger("devlab.standins")

STANDINS_DIR = Path(__file__).resolve().parent
ROOTFS_OVERLAY = STANDINS_DIR / "rootfs"
#: Stand-in folder name -> the tag it stands in for.
STANDINS: dict[str, str] = {
    "alpine": "alpine:latest",
    "ubuntu": "ubuntu:latest",
    "nginx": "nginx:latest",
    "mysql": "mysql:latest",
}
BASE_REPO = "grade-standin/debian"
BASE_TAG = "bookworm"
BASE_IMAGE = f"{BASE_REPO}:{BASE_TAG}"
SUITE = "bookworm"
VARIANT = "minbase"
#: Bump to rebuild the rootfs when this file's recipe changes in a way no input shows.
RECIPE_VERSION = "1"
CACHE_DIR = Path(os.environ.get("GRADE_STANDIN_CACHE", "/var/cache/grade-standins"))
LABEL_DIGEST = "org.grade-standin.digest"
LABEL_NAME = "org.grade-standin.name"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class StandinError(RuntimeError):
    """A stand-in image could not be built."""


# ---------------------------------------------------------------------------- digests


def host_mirrors(apt_dir: Path = Path("/etc/apt")) -> tuple[str, str]:
    """Return the (main, security) Debian mirrors the host's apt already uses."""
    entries: list[tuple[str, list[str]]] = []  # (uri, suites)
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list"))]
    for path in files:
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m:
                    entries.append((m.group(1), [m.group(2)]))
    for path in sorted((apt_dir / "sources.list.d").glob("*.sources")):
        with contextlib.suppress(OSError):
            for stanza in re.split(r"\n\s*\n", path.read_text()):
                lines = [ln for ln in stanza.splitlines() if not ln.lstrip().startswith("#")]
                fields = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (ln.partition(":") for ln in lines)
                    if v
                }
                if "deb" not in fields.get("types", "").split():
                    continue
                if fields.get("enabled", "yes").lower() == "no":
                    continue
                for uri in fields.get("uris", "").split():
                    entries.append((uri, fields.get("suites", "").split()))
    main = next((u for u, s in entries if SUITE in s), DEFAULT_MIRROR)
    security = next((u for u, s in entries if f"{SUITE}-security" in s), DEFAULT_SECURITY)
    return main.rstrip("/"), security.rstrip("/")


def _hash_tree(h: hashlib._Hash, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(folder).as_posix()
        mode = "x" if os.access(path, os.X_OK) else "-"
        h.update(f"{rel}\0{mode}\0".encode())
        h.update(path.read_bytes())
        h.update(b"\0")


def base_digest() -> str:
    """Digest of everything that goes into the base rootfs."""
    h = hashlib.sha256()
    h.update(f"{RECIPE_VERSION}\0{SUITE}\0{VARIANT}\0{host_mirrors()}\0".encode())
    _hash_tree(h, ROOTFS_OVERLAY)
    return h.hexdigest()


def standin_digest(name: str, base: str) -> str:
    """Digest of one stand-in's folder, on top of the base's digest."""
    h = hashlib.sha256()
    h.update(f"{base}\0{name}\0{STANDINS[name]}\0".encode())
    _hash_tree(h, STANDINS_DIR / name)
    return h.hexdigest()


def _labels(client: docker.DockerClient, ref: str) -> tuple[str | None, dict[str, str]]:
    """Return (image id, labels) of ref, or (None, {}) if there is no such image."""
    try:
        image = client.images.get(ref)
    except ImageNotFound:
        return None, {}
    return image.id, dict(image.labels or {})


# ---------------------------------------------------------------------------- base rootfs


def _sources(main: str, security: str) -> str:
    return (
        "Types: deb\n"
        f"URIs: {main}\n"
        f"Suites: {SUITE} {SUITE}-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\n"
        "Types: deb\n"
        f"URIs: {security}\n"
        f"Suites: {SUITE}-security\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def _empty_dir(path: Path, keep: Iterable[str] = ()) -> None:
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _customise_rootfs(root: Path) -> None:
    """Make the debootstrap tree look like an official slim image: small, empty apt lists."""
    for src in sorted(p for p in ROOTFS_OVERLAY.rglob("*") if p.is_file()):
        dest = root / src.relative_to(ROOTFS_OVERLAY)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        dest.chmod(0o755 if os.access(src, os.X_OK) else 0o644)
    main, security = host_mirrors()
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    (root / "etc/apt/sources.list.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/apt/sources.list.d/debian.sources").write_text(_sources(main, security))
    _empty_dir(root / "var/lib/apt/lists", keep=("partial",))
    _empty_dir(root / "var/lib/apt/lists/partial")
    for pattern in ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin"):
        for path in root.glob(pattern):
            path.unlink()
    # What the dpkg path-excludes keep out of later installs, out of the base too.
    for doc in (root / "usr/share/doc").glob("*"):
        if doc.is_dir() and not doc.is_symlink():
            for item in doc.iterdir():
                if item.name != "copyright":
                    shutil.rmtree(item) if item.is_dir() else item.unlink()
    for rel in ("usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/groff"):
        _empty_dir(root / rel)
    for rel in ("var/log/bootstrap.log", "var/log/dpkg.log", "var/log/alternatives.log"):
        (root / rel).unlink(missing_ok=True)
    _empty_dir(root / "var/log/apt")
    (root / "etc/resolv.conf").write_text("")
    (root / "etc/hostname").write_text("")
    _empty_dir(root / "tmp")


def _run_logged(cmd: list[str], logfile: Path) -> None:
    with logfile.open("ab") as out:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=False)
    if proc.returncode != 0:
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-15:])
        raise StandinError(f"{cmd[0]} failed ({proc.returncode}); end of {logfile}:\n{tail}")


def _ensure_debootstrap() -> None:
    if shutil.which("debootstrap") or Path("/usr/sbin/debootstrap").exists():
        return
    log.info("installing debootstrap with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "debootstrap"]):
        subprocess.run(cmd, check=True, env=env, stdin=subprocess.DEVNULL)


def _rootfs_tarball(digest: str) -> Path:
    """Return the cached rootfs tarball for this digest, making it with debootstrap if needed."""
    tarball = CACHE_DIR / f"rootfs-{SUITE}-{VARIANT}-{digest[:16]}.tar"
    if tarball.exists():
        return tarball
    if os.geteuid() != 0:
        raise StandinError(f"{BASE_IMAGE} must be made with debootstrap, which needs root")
    _ensure_debootstrap()
    main, _ = host_mirrors()
    logfile = CACHE_DIR / "debootstrap.log"
    logfile.write_text("")
    started = time.monotonic()
    log.info("debootstrap --variant=%s %s from %s (about 25 s)", VARIANT, SUITE, main)
    workdir = Path(tempfile.mkdtemp(prefix="rootfs-", dir=CACHE_DIR))
    try:
        root = workdir / "root"
        debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
        _run_logged([debootstrap, f"--variant={VARIANT}", SUITE, str(root), main], logfile)
        _customise_rootfs(root)
        partial = workdir / "rootfs.tar"
        _run_logged(
            [
                "tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--sort=name",
                "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
                "-C", str(root), "-cf", str(partial), ".",
            ],
            logfile,
        )  # fmt: skip
        for old in CACHE_DIR.glob(f"rootfs-{SUITE}-{VARIANT}-*.tar"):
            old.unlink()
        partial.rename(tarball)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log.info("rootfs tarball ready in %.0f s: %s", time.monotonic() - started, tarball)
    return tarball


def _ensure_base(client: docker.DockerClient, digest: str, force: bool) -> str | None:
    """Import the base image if missing or stale; return the id it replaced, if any."""
    old_id = _own_image_id(client, BASE_IMAGE)
    _, labels = _labels(client, BASE_IMAGE)
    if not force and labels.get(LABEL_DIGEST) == digest:
        return None
    tarball = _rootfs_tarball(digest)
    log.info("docker import %s as %s", tarball.name, BASE_IMAGE)
    client.api.import_image_from_file(
        str(tarball),
        repository=BASE_REPO,
        tag=BASE_TAG,
        changes=[
            f"ENV PATH={PATH_ENV}",
            f"LABEL {LABEL_DIGEST}={digest} {LABEL_NAME}=base",
            'CMD ["bash"]',
        ],
    )
    _, labels = _labels(client, BASE_IMAGE)
    if labels.get(LABEL_DIGEST) != digest:
        raise StandinError(f"docker import did not leave {BASE_IMAGE} with digest {digest[:12]}")
    return old_id


# ---------------------------------------------------------------------------- stand-ins


def _build_standin(client: docker.DockerClient, name: str, digest: str, nocache: bool) -> None:
    tag = STANDINS[name]
    started = time.monotonic()
    log.info("building %s from %s/", tag, name)
    lines: list[str] = []
    stream = client.api.build(
        path=str(STANDINS_DIR / name),
        tag=tag,
        labels={LABEL_DIGEST: digest, LABEL_NAME: name},
        rm=True,
        forcerm=True,
        pull=False,
        nocache=nocache,
        decode=True,
    )
    for chunk in stream:
        if "error" in chunk:
            tail = "".join(lines[-20:])
            raise StandinError(f"building {tag} failed: {chunk['error']}\n{tail}")
        text = chunk.get("stream")
        if text:
            lines.append(text)
            if text.startswith("Step "):
                log.debug("%s: %s", name, text.strip())
    _, labels = _labels(client, tag)
    if labels.get(LABEL_DIGEST) != digest:
        raise StandinError(f"{tag} was built but does not carry digest {digest[:12]}")
    log.info("built %s in %.0f s", tag, time.monotonic() - started)


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    """Serialise builds between processes (parallel test sessions, setup runs)."""
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        lock_path = CACHE_DIR / ".lock"
        handle = lock_path.open("a")
    except OSError:
        handle = (Path(tempfile.gettempdir()) / "grade-standins.lock").open("a")
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stale(client: docker.DockerClient, names: Iterable[str], base: str) -> list[str]:
    return [
        n
        for n in names
        if _labels(client, STANDINS[n])[1].get(LABEL_DIGEST) != standin_digest(n, base)
    ]


def _own_image_id(client: docker.DockerClient, ref: str) -> str | None:
    """The id of ref if it is one of our images (carries our name label), else None."""
    image_id, labels = _labels(client, ref)
    return image_id if LABEL_NAME in labels else None


def _remove_if_ours(client: docker.DockerClient, image_id: str | None) -> None:
    """Drop an image we replaced, unless something (a container, a tag) still uses it."""
    if image_id is None:
        return
    with contextlib.suppress(ImageNotFound, APIError):
        client.images.remove(image_id)


def ensure_standins(
    client: docker.DockerClient | None = None,
    *,
    force: bool = False,
    names: Iterable[str] | None = None,
) -> None:
    """Make the stand-in images current; a no-op (labels compared only) when they are."""
    own_client = client is None
    if client is None:
        client = docker.from_env()
    try:
        wanted = list(names) if names is not None else list(STANDINS)
        unknown = [n for n in wanted if n not in STANDINS]
        if unknown:
            raise StandinError(f"no such stand-in: {', '.join(unknown)}")
        base = base_digest()
        if not force and not _stale(client, wanted, base):
            log.info("stand-ins current: %s", ", ".join(STANDINS[n] for n in wanted))
            return
        with _build_lock():
            todo = wanted if force else _stale(client, wanted, base)
            if not todo:
                return
            replaced = [_own_image_id(client, STANDINS[n]) for n in todo]
            old_base = _ensure_base(client, base, force)
            for name in todo:
                _build_standin(client, name, standin_digest(name, base), nocache=force)
            current = {_labels(client, ref)[0] for ref in [BASE_IMAGE, *STANDINS.values()]}
            for image_id in [*replaced, old_base]:
                if image_id not in current:
                    _remove_if_ours(client, image_id)
    finally:
        if own_client:
            client.close()
