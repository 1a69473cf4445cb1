"""Was ``ourfiglet`` committed from a container of ubuntu, or built from a Dockerfile?

No single field answers this on every engine: ``Container`` and ``ContainerConfig`` left image
inspect in API 1.45, the containerd image store never had them nor ``Config.Hostname``, and
the engine keeps only its latest few hundred events, in memory. So the verdict weighs the
evidence that survives, strongest first:

(a) layers: the image's RootFS layers are the base's plus at least one (when the base is
    local);
(b) history: the top entry carries no builder marker (BuildKit's ``buildkit.dockerfile.v0``
    comment or ``# buildkit`` suffix, the classic builder's ``#(nop)``) and its ``CreatedBy``
    is the committed container's command joined with spaces, as moby's commit writes it on
    both image stores; a classic-builder ``RUN`` writes ``/bin/sh -c …`` there while the image
    keeps the parent's command;
(c) a container of the base whose command (and hostname, where the image still records one)
    matches: it is named as the source;
(d) the engine's ``commit`` event whose ``imageID`` is the image.

(c) or (d) prove a commit even with ``--change 'CMD …'`` or ``-m``. When neither is left,
(a) and (b) alone still count as a commit (no builder writes that shape); a ``--change``
commit with nothing left cannot be told from a build and is not counted.

Podman (buildah underneath, recorded in ``tests/unit/recorded/podman_*.json``) writes its
commits differently: the top entry's ``CreatedBy`` is the bare shell (``/bin/sh``), never the
command, with ``FROM <the container's image>`` as its comment; its builds write the same
comment over a ``/bin/sh -c …`` step. Its ``commit`` event names the container and the image
it ran but not the image made, so it is the one that follows the image's creation within
:data:`PODMAN_COMMIT_LAG` seconds. The image config is the container's, so (c) matches the
container's command against the image's ``Cmd``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from grader.engine.facts import Event
from grader.imageref import is_repository

BUILDKIT_COMMENT = "buildkit.dockerfile"
BUILDKIT_SUFFIX = "# buildkit"
CLASSIC_NOP = "#(nop)"
CLASSIC_RUN_PREFIX = "/bin/sh -c "
#: ``docker import``'s top comment ("Imported from -"), and ``podman import``'s.
IMPORT_COMMENTS = ("Imported from", "imported from tarball")
PODMAN_FROM_COMMENT = "FROM "
#: Podman logs a commit's event this many seconds at most after the image's creation time.
PODMAN_COMMIT_LAG = 60.0
SHOWN_CHARS = 80

Doc = Mapping[str, Any]


@dataclass(frozen=True)
class CommitVerdict:
    """Whether the image was committed, the evidence as a sentence, and the source container."""

    committed: bool
    reason: str
    source_container: str | None = None


def detect_commit(
    image: Doc,
    history: Sequence[Doc],
    base: Doc | None,
    containers: Sequence[Doc],
    events: Sequence[Event],
    *,
    name: str,
    base_name: str,
) -> CommitVerdict:
    """Judge how ``image`` was made from what docker-py returns.

    ``image`` and ``base`` are ``docker image inspect`` dicts (``base`` None when the base is
    not local), ``history`` is ``docker history`` newest first, ``containers`` are
    ``docker container inspect`` dicts and ``events`` the engine's history (``state.events``).
    """
    top = history[0] if history else {}
    created_by = _text(top, "CreatedBy", "created_by")
    comment = _text(top, "Comment", "comment")
    built = _builder_verdict(name, created_by, comment)
    if built is not None:
        return built
    if not history:
        return CommitVerdict(False, f"{name} has no history to read (docker history is empty)")

    config = image.get("Config") or {}
    event = _commit_event(events, str(image.get("Id", "")))
    container = _source_container(containers, image, created_by, base, base_name)
    shape = bool(created_by) and created_by == " ".join(config.get("Cmd") or [])
    command = _clip(created_by)
    podman = _podman_commit_entry(created_by, comment)
    if podman:
        image_cmd = " ".join(config.get("Cmd") or [])
        event = event or _podman_commit_event(events, image, base, base_name)
        container = container or _source_container(containers, image, image_cmd, base, base_name)
        if container is None and event is not None:
            container = next((c for c in containers if _id(c) == event.actor_id), None)
        ran = (container.get("Config") or {}).get("Cmd") if container else None
        command = _clip(" ".join(ran or []) or image_cmd)
        if base is None and event is None and container is None:
            return _podman_without_base(name, base_name, comment, command)

    if base is None:
        return _without_base(name, base_name, event, container, shape, config, command)

    base_layers = _layers(base)
    layers = _layers(image)
    if not base_layers or layers[: len(base_layers)] != base_layers:
        return CommitVerdict(
            False,
            f"{name} is not built on the local {base_name} image "
            f"(its layers do not start with {base_name}'s)",
        )
    added = len(layers) - len(base_layers)
    on_base = f"{name} is {base_name}'s {_count(len(base_layers), 'layer')} plus {added}"
    if added < 1:
        return CommitVerdict(
            False,
            f"{name} adds no layer to {base_name}'s {_count(len(base_layers), 'layer')}: "
            f"nothing changed in the container, or it is {base_name} under another name",
        )
    source = event.actor_id if event else _id(container) if container else None
    if source:
        gone = "" if _present(source, containers) else "; the engine's commit event names it"
        return CommitVerdict(
            True,
            f"{on_base}, committed from container {_short(source)} (command: {command}){gone}",
            source,
        )
    if podman:
        return CommitVerdict(
            True,
            f"{on_base}, committed by Podman from a container (command: {command}); neither "
            "that container nor the commit event is left to name it",
        )
    if shape:
        return CommitVerdict(
            True,
            f"{on_base}, committed from a container that is gone (command: {command}); "
            "no commit event is left to name it",
        )
    return _not_shown(name, created_by, config)


def _builder_verdict(name: str, created_by: str, comment: str) -> CommitVerdict | None:
    """A verdict when the top history entry carries a builder's or an import's marker."""
    if comment.startswith(IMPORT_COMMENTS):
        return CommitVerdict(
            False, f"{name} was imported from a tarball (docker import), not committed"
        )
    if comment.startswith(BUILDKIT_COMMENT) or created_by.rstrip().endswith(BUILDKIT_SUFFIX):
        step = _clip(created_by.rstrip().removesuffix(BUILDKIT_SUFFIX).strip())
        return CommitVerdict(
            False,
            f"{name} was built by BuildKit from a Dockerfile (top history entry: {step}), "
            "not committed from a container",
        )
    podman = comment.startswith(PODMAN_FROM_COMMENT)
    if podman and not _podman_commit_entry(created_by, comment):
        step = created_by.split(CLASSIC_NOP, 1)[1] if CLASSIC_NOP in created_by else created_by
        if step.startswith(CLASSIC_RUN_PREFIX):
            step = "RUN " + step.removeprefix(CLASSIC_RUN_PREFIX)
        return CommitVerdict(
            False,
            f"{name} was built from a Dockerfile by Podman (buildah) "
            f"(top history entry: {_clip(step.strip())}), not committed from a container",
        )
    if CLASSIC_NOP in created_by:
        step = _clip(created_by.split(CLASSIC_NOP, 1)[1].strip())
        return CommitVerdict(
            False,
            f"{name} was built from a Dockerfile by the classic builder "
            f"(top history entry: {step}), not committed from a container",
        )
    return None


def _podman_commit_entry(created_by: str, comment: str) -> bool:
    """Podman's commit: ``FROM <image>`` over the bare shell (``/bin/sh``), no command run."""
    words = created_by.split()
    return (
        comment.startswith(PODMAN_FROM_COMMENT)
        and len(words) in (1, 2)
        and words[1:]
        in (
            [],
            ["-c"],
        )
    )


def _podman_commit_event(
    events: Sequence[Event], image: Doc, base: Doc | None, base_name: str
) -> Event | None:
    """Podman's ``commit`` of a base container logged closest after the image was created.

    Its event does not name the image it made, only the container and the image that ran.
    """
    created = _when(image.get("Created"))
    if created is None:
        return None
    found: tuple[float, Event] | None = None
    for event in events:
        if event.action != "commit":
            continue
        origin = event.attributes.get("image", "")
        of_base = _names(origin, base_name) or (
            base is not None and bool(origin) and _bare(origin) == _bare(str(base.get("Id")))
        )
        lag = event.time - created
        if of_base and -1 <= lag <= PODMAN_COMMIT_LAG and (found is None or lag < found[0]):
            found = (lag, event)
    return found[1] if found else None


def _podman_without_base(name: str, base_name: str, comment: str, command: str) -> CommitVerdict:
    """Podman's commit with neither base, container nor event: its comment names the image."""
    origin = comment.removeprefix(PODMAN_FROM_COMMENT).strip()
    missing = f"the {base_name} image is not on this host to compare layers"
    if _names(origin, base_name):
        return CommitVerdict(
            True,
            f"{name} was committed from a container of {base_name} that is gone "
            f"(command: {command}); {missing}",
        )
    return CommitVerdict(
        False,
        f"{name} was committed from a container of {origin or 'an image'}, not of {base_name}",
    )


def _without_base(
    name: str,
    base_name: str,
    event: Event | None,
    container: Doc | None,
    shape: bool,
    config: Doc,
    command: str,
) -> CommitVerdict:
    """Without the base's layers, a commit counts only when the evidence names the base."""
    missing = f"the {base_name} image is not on this host to compare layers"
    if event is not None:
        source = event.actor_id
        origin = event.attributes.get("image", "")
        if not _names(origin, base_name):
            return CommitVerdict(
                False,
                f"{name} was committed from container {_short(source)} of {origin or 'an image'}"
                f", not of {base_name}",
                source,
            )
        return CommitVerdict(
            True,
            f"{name} was committed from container {_short(source)} of {base_name} "
            f"(command: {command}); {missing}",
            source,
        )
    if container is not None:
        source = _id(container)
        return CommitVerdict(
            True,
            f"{name} was committed from container {_short(source)} of {base_name} "
            f"(command: {command}); {missing}",
            source,
        )
    if not shape:
        return _not_shown(name, command, config)
    if _names(str(config.get("Image") or ""), base_name):
        return CommitVerdict(
            True,
            f"{name} was committed from a container of {base_name} that is gone "
            f"(command: {command}); {missing}",
        )
    return CommitVerdict(
        False,
        f"cannot tell whether {name} was committed from a {base_name} container: {missing}, "
        "and no container or commit event is left to show it",
    )


def _not_shown(name: str, created_by: str, config: Doc) -> CommitVerdict:
    """The top entry is not a command a committed container ran, and nothing else is left."""
    cmd = _clip(" ".join(config.get("Cmd") or [])) or "none"
    if created_by.startswith(CLASSIC_RUN_PREFIX):
        return CommitVerdict(
            False,
            f"{name} was built from a Dockerfile by the classic builder (top history entry: "
            f"RUN {_clip(created_by)}, while its command stays {cmd}), "
            "not committed from a container",
        )
    return CommitVerdict(
        False,
        f"cannot show {name} was committed: its top history entry "
        f"({_clip(created_by) or 'empty'}) is not its command ({cmd}), and neither the "
        "source container nor the engine's commit event is left",
    )


def _commit_event(events: Sequence[Event], image_id: str) -> Event | None:
    """The latest ``commit`` event that made ``image_id``, if the engine still holds it."""
    wanted = _bare(image_id)
    found = None
    for event in events:
        made = _bare(event.attributes.get("imageID", ""))
        if event.action == "commit" and wanted and made == wanted:
            found = event
    return found


def _source_container(
    containers: Sequence[Doc], image: Doc, created_by: str, base: Doc | None, base_name: str
) -> Doc | None:
    """The container of the base whose config the commit recorded; the latest if several."""
    recorded_id = str(image.get("Container") or "")
    hostname = str((image.get("Config") or {}).get("Hostname") or "")
    image_created = _when(image.get("Created"))
    matches: list[tuple[float, Doc]] = []
    for container in containers:
        config = container.get("Config") or {}
        if recorded_id and _id(container) != recorded_id:
            continue
        if not (created_by or recorded_id) or " ".join(config.get("Cmd") or []) != created_by:
            continue
        if hostname and config.get("Hostname") != hostname:
            continue
        if base is not None and container.get("Image") != base.get("Id"):
            continue
        if base is None and not _names(str(config.get("Image") or ""), base_name):
            continue
        created = _when(container.get("Created"))
        if image_created is not None and created is not None and created > image_created:
            continue  # made after the image: it cannot be the image's source
        matches.append((created if created is not None else float("-inf"), container))
    return max(matches, key=lambda pair: pair[0])[1] if matches else None


def _names(reference: str, repository: str) -> bool:
    return bool(reference) and is_repository(reference, repository)


def _present(container_id: str, containers: Sequence[Doc]) -> bool:
    return any(_id(c) == container_id for c in containers)


def _id(container: Doc) -> str:
    return str(container.get("Id") or "")


def _layers(image: Doc) -> list[str]:
    return list((image.get("RootFS") or {}).get("Layers") or [])


def _text(entry: Doc, *keys: str) -> str:
    for key in keys:
        if entry.get(key):
            return str(entry[key])
    return ""


def _bare(image_id: str) -> str:
    return image_id.removeprefix("sha256:")


def _short(identifier: str) -> str:
    """The 12-character id ``docker ps`` shows."""
    return _bare(identifier)[:12]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _when(value: Any) -> float | None:
    """An inspect timestamp (RFC 3339, nanoseconds allowed) in seconds, None when absent or odd."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
