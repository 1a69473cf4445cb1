"""Image references, parsed and normalised the way Docker does it.

Students name one image many ways (``mysql``, ``mysql:latest``, ``docker.io/library/mysql``)
and Podman calls local images ``localhost/name``; checks must see all of these as one
repository. The grammar is distribution/reference's, as ``docker`` applies it
(``ParseNormalizedNamed``): no network, no registry, pure text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_REGISTRY = "docker.io"
LEGACY_REGISTRY = "index.docker.io"
OFFICIAL_NAMESPACE = "library"
DEFAULT_TAG = "latest"
PODMAN_LOCAL_REGISTRY = "localhost"
MAX_NAME_LENGTH = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_HEX_ID = re.compile(r"[a-f0-9]{64}")
_DIGEST_SIZES = {"sha256": 64, "sha384": 96, "sha512": 128}  # what go-digest accepts


@dataclass(frozen=True)
class ImageRef:
    """One normalised image reference: ``registry/path[:tag][@digest]``."""

    registry: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The fully qualified repository, e.g. ``docker.io/library/mysql``."""
        return f"{self.registry}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The repository as ``docker image ls`` shows it, e.g. ``mysql``."""
        if self.registry != DEFAULT_REGISTRY:
            return self.name
        namespace, _, rest = self.path.partition("/")
        if namespace == OFFICIAL_NAMESPACE and rest and "/" not in rest:
            return rest
        return self.path

    @property
    def effective_tag(self) -> str | None:
        """The tag Docker would use: ``latest`` when neither a tag nor a digest is given."""
        return effective_tag(self)

    def __str__(self) -> str:
        text = self.familiar_name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_image_ref(text: str) -> ImageRef:
    """Parse ``text`` like ``docker`` does; raise ValueError naming the problem on junk.

    Each text is parsed once a run: every check asks about every tag, and a lived-in
    host's hundred more tags made that 6 600 parses, 30 ms of a half-second run.
    """
    if not isinstance(text, str) or not text or text != text.strip():
        raise ValueError(f"invalid image reference {text!r}: empty or surrounded by spaces")
    return _parsed(text)


@lru_cache(maxsize=4096)
def _parsed(text: str) -> ImageRef:
    if _HEX_ID.fullmatch(text):
        raise ValueError(f"invalid image reference {text!r}: a 64-character id is not a name")
    remainder, digest = _split_digest(text)
    name, tag = _split_tag(remainder)
    registry, path = _split_registry(name)
    if len(f"{registry}/{path}") > MAX_NAME_LENGTH:
        raise ValueError(f"invalid image reference {text!r}: name longer than 255 characters")
    return ImageRef(registry=registry, path=path, tag=tag, digest=digest)


def _split_digest(text: str) -> tuple[str, str | None]:
    """Take ``@algo:hex`` off the end, checked as go-digest checks it."""
    name, at, digest = text.partition("@")
    if not at:
        return text, None
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"invalid image reference {text!r}: bad digest {digest!r}")
    algorithm, _, hex_part = digest.partition(":")
    size = _DIGEST_SIZES.get(algorithm)
    if size is None:
        raise ValueError(f"invalid image reference {text!r}: unsupported digest {algorithm!r}")
    if not re.fullmatch(f"[a-f0-9]{{{size}}}", hex_part):
        raise ValueError(
            f"invalid image reference {text!r}: {algorithm} needs {size} lowercase hex digits"
        )
    return name, digest


def _split_tag(name: str) -> tuple[str, str | None]:
    """Take ``:tag`` off the last path component (a registry's ``:port`` is not a tag)."""
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon <= last_slash:
        return name, None
    tag = name[colon + 1 :]
    if not _TAG.fullmatch(tag):
        raise ValueError(f"invalid image reference {name!r}: bad tag {tag!r}")
    return name[:colon], tag


def _split_registry(name: str) -> tuple[str, str]:
    """Split off the registry as Docker's splitDockerDomain does, then validate the path."""
    first, slash, rest = name.partition("/")
    looks_like_host = "." in first or ":" in first or first == "localhost"
    if slash and (looks_like_host or first.lower() != first):
        registry, path = first, rest
        if not _DOMAIN.fullmatch(registry):
            raise ValueError(f"invalid image reference {name!r}: bad registry {registry!r}")
    else:
        registry, path = DEFAULT_REGISTRY, name
    if registry == LEGACY_REGISTRY:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"{OFFICIAL_NAMESPACE}/{path}"
    for component in path.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            problem = "must be lowercase" if component.lower() != component else "is not valid"
            raise ValueError(f"invalid image reference {name!r}: {component!r} {problem}")
    return registry, path


def _as_ref(ref: ImageRef | str) -> ImageRef:
    return ref if isinstance(ref, ImageRef) else parse_image_ref(ref)


def same_repository(a: ImageRef | str, b: ImageRef | str) -> bool:
    """True when both name one repository, whatever the tag or digest."""
    return _as_ref(a).name == _as_ref(b).name


def is_repository(ref: ImageRef | str, name: str, *, also_localhost: bool = True) -> bool:
    """True when ``ref`` is the repository ``name``; Podman's ``localhost/name`` too by default.

    A reference that does not parse is simply not that repository.
    """
    try:
        candidate, wanted = _as_ref(ref), parse_image_ref(name)
    except ValueError:
        return False
    if candidate.name == wanted.name:
        return True
    if not also_localhost or candidate.registry != PODMAN_LOCAL_REGISTRY:
        return False
    return wanted.registry == DEFAULT_REGISTRY and candidate.path == wanted.familiar_name


def effective_tag(ref: ImageRef | str) -> str | None:
    """The tag Docker resolves: the given one, ``latest`` if none, None when pinned by digest."""
    parsed = _as_ref(ref)
    if parsed.tag is not None:
        return parsed.tag
    return None if parsed.digest is not None else DEFAULT_TAG


def filter_spellings(repository: str) -> tuple[str, ...]:
    """The names of ``repository`` to give an engine's ``ancestor`` or ``reference`` filter.

    Docker matches ``ubuntu`` however the image was pulled; Podman names a pull
    ``docker.io/library/ubuntu`` and its ``ancestor`` filter matches only that spelling, and
    its own builds ``localhost/NAME``. Ask with each; an engine ignores the ones it lacks.
    """
    ref = parse_image_ref(repository)
    spellings = [ref.familiar_name, ref.name]
    if ref.registry == DEFAULT_REGISTRY:
        spellings.append(f"{PODMAN_LOCAL_REGISTRY}/{ref.familiar_name}")
    return tuple(dict.fromkeys(spellings))
