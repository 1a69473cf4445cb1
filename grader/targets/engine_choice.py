"""Which Docker engine to grade: the one the ``docker`` command would talk to.

A student does the lab with ``docker``; grading another engine than that one
marks a finished lab as not done. The Docker CLI (``cli/command/cli.go``,
``resolveContextName`` and ``resolveDefaultDockerEndpoint``) decides in this
order, and so does :func:`choose_engine`:

1. ``-H/--host`` or ``--context`` on the command line (not both);
2. ``$DOCKER_HOST`` (an empty value counts as unset, as in docker 23 and later;
   20.10 read it as set), with TLS from
   ``$DOCKER_TLS_VERIFY`` (any non-empty value, even ``0``, verifies),
   ``$DOCKER_TLS`` and ``$DOCKER_CERT_PATH`` (default: the config folder);
3. ``$DOCKER_CONTEXT``;
4. ``currentContext`` of ``config.json`` in ``$DOCKER_CONFIG`` (default ``~/.docker``);
5. the default socket.

Cases 1, 2 and 5 are the context ``default``; so is a context *named* ``default``.
Another context is read from the config folder's store:
``contexts/meta/<sha256 of its name>/meta.json`` (``Endpoints.docker.Host``,
``SkipTLSVerify``) and ``contexts/tls/<sha256>/docker/{ca,cert,key}.pem``.

A context that is named but does not exist is an error, as it is for ``docker``
(the engine the student meant is unknown; grading the default one instead would
judge the wrong host). A ``config.json`` that cannot be read is not: ``docker``
warns and goes on with the default context, and so does grading (``warning``).

Nothing here connects or imports docker-py: it is pure resolution, testable with
a dictionary as the environment and a temporary folder as the home.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from grader.errors import SettingsError

DEFAULT_CONTEXT = "default"
DEFAULT_HOST = (
    "npipe:////./pipe/docker_engine" if sys.platform == "win32" else "unix:///var/run/docker.sock"
)
DEFAULT_TCP_PORT = 2375
#: Report properties naming the engine graded: the Docker context and its endpoint.
PROP_ENGINE_CONTEXT = "engine_context"
PROP_ENGINE_ENDPOINT = "engine_endpoint"
EXPECTED = "unix:///PATH, tcp://HOST[:PORT] or ssh://[USER@]HOST[:PORT]"


@dataclass(frozen=True)
class TlsFiles:
    """TLS towards a ``tcp://`` engine: whether to verify it, and the files that exist."""

    verify: bool
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True)
class EngineChoice:
    """The engine to grade and why: a context name, its endpoint, and what chose it."""

    context: str
    host: str
    chosen_by: str
    tls: TlsFiles | None = None
    #: Something the student should know but that does not stop grading (a broken
    #: config.json, which ``docker`` also only warns about).
    warning: str = ""

    @property
    def endpoint(self) -> str:
        """The endpoint as reports and messages show it: never a password."""
        parts = urlsplit(self.host)
        if parts.password is None:
            return self.host
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=user + netloc))

    def describe(self) -> str:
        """``unix:///var/run/docker.sock (context default)``, for the run's header."""
        return f"{self.endpoint} (context {self.context})"


def choose_engine(
    *,
    environ: Mapping[str, str],
    home: Path | None,
    host: str | None = None,
    context: str | None = None,
) -> EngineChoice:
    """The engine ``docker`` would use with this ``-H`` (``host``) or ``--context``,
    environment and home (both options at once are refused, as ``docker`` does).

    ``home`` is None when the user has none (no ``$HOME`` and no account entry):
    there is then no ``~/.docker`` either. Raises :class:`SettingsError` for a
    malformed host, a context that does not exist or cannot be read, or TLS
    files that ``$DOCKER_TLS_VERIFY`` needs and that are missing.
    """
    config_dir = docker_config_dir(environ, home)
    config = config_dir / "config.json"
    current, warning = _current_context(config)  # read always: docker warns whatever wins
    if host and context:
        raise SettingsError("-H/--host and --context name an engine each: give one of them")
    if context:
        chosen = _named_context(context, "--context", environ, config_dir)
    elif host:
        chosen = _default_context(parse_host(host, "-H/--host"), "-H/--host", environ, config_dir)
    elif environ.get("DOCKER_HOST"):
        parsed = parse_host(environ["DOCKER_HOST"], "$DOCKER_HOST")
        chosen = _default_context(parsed, "$DOCKER_HOST", environ, config_dir)
    elif environ.get("DOCKER_CONTEXT"):
        chosen = _named_context(environ["DOCKER_CONTEXT"], "$DOCKER_CONTEXT", environ, config_dir)
    elif current:
        chosen = _named_context(current, f"currentContext of {config}", environ, config_dir)
    else:
        chosen = _default_context(DEFAULT_HOST, "the default", environ, config_dir)
    return dataclasses.replace(chosen, warning=warning)


def docker_config_dir(environ: Mapping[str, str], home: Path | None) -> Path:
    """``$DOCKER_CONFIG``, else ``~/.docker`` (a folder that may not exist)."""
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"])
    return (home or Path("/nonexistent")) / ".docker"


def parse_host(value: str, source: str) -> str:
    """A host as ``docker -H`` reads it, normalised; refuses what no client can dial.

    ``unix://`` alone is the default socket, ``tcp://HOST`` gets port 2375 and
    ``HOST:PORT`` without a scheme is TCP, as in the Docker CLI's ``ParseHost``.
    A bare path (``/tmp/docker.sock``) is refused with the fix: ``docker`` would
    read it as TCP to localhost, which is never what was meant.
    """
    text = value.strip()
    if "://" not in text:
        if text.startswith(("/", ".", "~")) or ":" not in text:
            hint = f" (did you mean unix://{text}?)" if text.startswith("/") else ""
            raise SettingsError(f"{source} {value!r}: expected {EXPECTED}{hint}")
        text = "tcp://" + text
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme == "unix":
        return "unix://" + (rest or DEFAULT_HOST.removeprefix("unix://"))
    if scheme == "npipe":
        return "npipe://" + (rest or "//./pipe/docker_engine")
    if scheme not in ("tcp", "ssh"):
        raise SettingsError(f"{source} {value!r}: expected {EXPECTED}")
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(f"{source} {value!r}: the port is not a number") from None
    if scheme == "ssh":
        if not parts.hostname:
            raise SettingsError(f"{source} {value!r}: expected ssh://[USER@]HOST[:PORT]")
        return text
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SettingsError(f"{source} {value!r}: expected tcp://HOST[:PORT], nothing after it")
    hostname = parts.hostname or "localhost"
    shown = f"[{hostname}]" if ":" in hostname else hostname
    return f"tcp://{shown}:{port or DEFAULT_TCP_PORT}"


def context_folder(name: str) -> str:
    """The store's folder of a context: the sha256 of its name (never a path the name makes)."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _default_context(
    host: str, chosen_by: str, environ: Mapping[str, str], config_dir: Path
) -> EngineChoice:
    """The context ``default``: TLS from the environment, for TCP only."""
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    tls = None
    if host.startswith("tcp://") and (verify or environ.get("DOCKER_TLS")):
        cert_path = Path(environ.get("DOCKER_CERT_PATH") or config_dir)
        ca, cert, key = (cert_path / name for name in ("ca.pem", "cert.pem", "key.pem"))
        if verify and not _is_file(ca):
            raise SettingsError(
                f"$DOCKER_TLS_VERIFY is set but {ca} is missing: set DOCKER_CERT_PATH to the "
                "folder with ca.pem, cert.pem and key.pem (as for docker)"
            )
        tls = TlsFiles(
            verify=verify,
            ca=ca if verify else None,
            cert=cert if _is_file(cert) else None,
            key=key if _is_file(key) else None,
        )
    return EngineChoice(DEFAULT_CONTEXT, host, chosen_by, tls)


def _named_context(
    name: str, chosen_by: str, environ: Mapping[str, str], config_dir: Path
) -> EngineChoice:
    if name == DEFAULT_CONTEXT:  # not in the store: the CLI's built-in context
        return _default_context(DEFAULT_HOST, chosen_by, environ, config_dir)
    folder = context_folder(name)
    meta_file = config_dir / "contexts" / "meta" / folder / "meta.json"
    if not _is_file(meta_file):
        raise SettingsError(
            f"{chosen_by} names the Docker context {name!r}, which does not exist in "
            f"{config_dir / 'contexts'}: `docker context ls` lists yours"
            + (" (or unset DOCKER_CONTEXT)" if chosen_by == "$DOCKER_CONTEXT" else "")
        )
    endpoint = _docker_endpoint(_read_json(meta_file, f"the Docker context {name!r}"), meta_file)
    host = endpoint.get("Host")
    if not isinstance(host, str) or not host:
        raise SettingsError(f"{meta_file}: the Docker context {name!r} names no docker host")
    host = parse_host(host, f"the Docker context {name!r}:")
    tls = None
    if host.startswith("tcp://"):
        tls_dir = config_dir / "contexts" / "tls" / folder / "docker"
        ca, cert, key = (tls_dir / f for f in ("ca.pem", "cert.pem", "key.pem"))
        found = [path if _is_file(path) else None for path in (ca, cert, key)]
        skip = endpoint.get("SkipTLSVerify") is True
        if any(found) or skip:
            tls = TlsFiles(verify=not skip, ca=found[0], cert=found[1], key=found[2])
    return EngineChoice(name, host, chosen_by, tls)


def _current_context(config: Path) -> tuple[str, str]:
    """``currentContext`` of ``config.json`` ("" for none), and a warning if unreadable."""
    if not _is_file(config):
        return "", ""
    try:
        data = json.loads(config.read_bytes())
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not valid JSON"
        return "", f"cannot read {config} ({reason}): ignored, as docker does"
    current = data.get("currentContext") if isinstance(data, dict) else None
    if current is not None and not isinstance(current, str):
        return "", f"{config}: currentContext is not a name: ignored, as docker does"
    return current or "", ""


def _docker_endpoint(meta: Any, meta_file: Path) -> dict[str, Any]:
    endpoints = meta.get("Endpoints") if isinstance(meta, dict) else None
    endpoint = endpoints.get("docker") if isinstance(endpoints, dict) else None
    if not isinstance(endpoint, dict):
        raise SettingsError(f"{meta_file}: this Docker context has no docker endpoint")
    return endpoint


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise SettingsError(f"cannot read {what} at {path} ({exc.strerror})") from None
    except ValueError:
        raise SettingsError(f"{path}: {what} is not valid JSON") from None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a folder this user may not enter holds nothing we can use
        return False
