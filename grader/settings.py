"""Where each setting comes from, decided in one place, for the runner's settings and a lab's.

Settings are declared as frozen dataclasses whose fields are made with :func:`setting`:
the grader declares its own (:class:`RunSettings`), each lab declares its own (the Docker
beginners' lab: ``dockerid``, ``tweet_app``, ``hello_dir``). The field's type says how a
value is read: ``str`` a non-empty word, ``Path`` a path (``~`` and relative paths
resolved), ``float`` a number of seconds.

Precedence, highest first: command-line option, environment variable, ``grade.toml`` in
the working directory, the field's default. A bad value's error names the place it came
from, so a student knows what to fix.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from grader.errors import SettingsError

CONFIG_FILE_NAME = "grade.toml"
MAX_SECONDS = 3600.0
_META = "grade.setting"

T = TypeVar("T")
#: Says what is wrong with a value ("a Docker ID without slashes"), or None when it is fine.
Validator = Callable[[str], str | None]


@dataclass(frozen=True)
class SettingInfo:
    """How a setting is found and explained: its environment variable, help and metavar."""

    env: str | None = None
    help: str = ""
    metavar: str = "VALUE"
    must_be: Validator | None = None
    reported: bool = False


def setting(
    *,
    default: object = None,
    env: str | None = None,
    help: str = "",
    metavar: str = "VALUE",
    must_be: Validator | None = None,
    reported: bool = False,
) -> Any:
    """A settings field: ``dockerid: str | None = setting(env="DOCKERID", help=...)``.

    A ``Path`` default may start with ``~``: it is resolved against the user's home.
    ``must_be`` refuses a bad value with a phrase ("a Docker ID without slashes");
    ``reported`` settings travel in the report as a property of their name.
    """
    return dataclasses.field(
        default=default, metadata={_META: SettingInfo(env, help, metavar, must_be, reported)}
    )


@dataclass(frozen=True)
class SettingField:
    """One declared setting: its name, how to read it, and its declaration."""

    name: str
    kind: type  # str, Path or float
    optional: bool
    default: object
    info: SettingInfo

    @property
    def option(self) -> str:
        """The command-line option of this setting (``tweet_app`` → ``--tweet-app``)."""
        return "--" + self.name.replace("_", "-")


def fields_of(settings_class: type) -> list[SettingField]:
    """The declared settings of a settings dataclass, in declaration order."""
    hints = typing.get_type_hints(settings_class)
    found = []
    for item in dataclasses.fields(settings_class):
        info = item.metadata.get(_META)
        if not isinstance(info, SettingInfo):
            raise TypeError(f"{settings_class.__name__}.{item.name} is not made with setting()")
        kind, optional = _kind(hints[item.name])
        found.append(SettingField(item.name, kind, optional, item.default, info))
    return found


def _kind(hint: Any) -> tuple[type, bool]:
    args = typing.get_args(hint)
    # ``X | None`` and ``Optional[X]`` alike; a union of two kinds is refused below
    optional = typing.get_origin(hint) in (types.UnionType, typing.Union) and type(None) in args
    if optional:
        kinds = [arg for arg in args if arg is not type(None)]
        hint = kinds[0] if len(kinds) == 1 else hint
    if hint not in (str, Path, float):
        raise TypeError(f"a setting is a str, a Path or a float (seconds), not {hint!r}")
    return hint, optional


@dataclass(frozen=True)
class RunSettings:
    """What every grading run needs, whichever the lab."""

    lab: str | None = setting(help="The lab to grade (an installed lab's name).", metavar="NAME")
    rubric: Path | None = setting(
        help="A TOML file whose [points] override the checks' points.", metavar="FILE"
    )
    check_timeout: float = setting(
        default=30.0, help="Seconds one check may take.", metavar="SECONDS"
    )
    run_timeout: float = setting(
        default=180.0, help="Seconds the whole run may take.", metavar="SECONDS"
    )


@dataclass(frozen=True)
class ConfigFile:
    """``grade.toml`` of the working directory, read once (empty when there is none)."""

    path: Path
    values: Mapping[str, Any]

    @classmethod
    def read(cls, cwd: Path) -> ConfigFile:
        path = cwd / CONFIG_FILE_NAME
        try:
            present = path.is_file()
        except OSError:  # a working directory this user may not read has no grade.toml for us
            present = False
        if not present:
            return cls(path, {})
        try:
            with path.open("rb") as handle:
                return cls(path, tomllib.load(handle))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML ({exc})") from None
        except UnicodeDecodeError:
            raise SettingsError(f"{path}: not valid TOML (not UTF-8 text)") from None
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read it ({exc.strerror})") from None

    def refuse_unknown(self, *settings_classes: type) -> None:
        """Fail on a key no settings class declares (a typo must not be ignored silently)."""
        refuse_unknown(self.values, str(self.path), *settings_classes)


def refuse_unknown(names: Iterable[str], source: str, *settings_classes: type) -> None:
    """Fail on a name that no settings class declares, naming where it came from."""
    known = sorted({f.name for cls in settings_classes for f in fields_of(cls)})
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SettingsError(f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(known)})")


def resolve(
    settings_class: type[T],
    *,
    cli: Mapping[str, object | None],
    environ: Mapping[str, str],
    config: ConfigFile,
    home: Path,
    base: Path | None = None,
) -> T:
    """Build ``settings_class`` from the command line, the environment, ``grade.toml`` and
    the defaults, in that order.

    Relative paths are relative to ``base``: ``grade.toml``'s folder (the working
    directory) unless told otherwise (the remote user's home, grading over SSH).
    """
    cwd = config.path.parent if base is None else base
    chosen: dict[str, object] = {}
    for field in fields_of(settings_class):
        env = field.info.env
        if cli.get(field.name) is not None:
            value, source = cli[field.name], field.option
        elif env and environ.get(env):
            value, source = environ[env], f"${env}"
        elif field.name in config.values:
            value, source = config.values[field.name], str(config.path)
        elif field.default is not None:
            value, source = field.default, "default"
        else:
            continue
        chosen[field.name] = _coerce(field, value, source, cwd, home)
    return settings_class(**chosen)


def _coerce(field: SettingField, value: object, source: str, base: Path, home: Path) -> object:
    name = field.name
    if field.kind is float:
        return _seconds(name, value, source)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{source}: {name} must be a non-empty string, not {value!r}")
    text = value.strip()
    problem = field.info.must_be(text) if field.info.must_be else None
    if problem:
        raise SettingsError(f"{source}: {name} must be {problem}, not {value!r}")
    if field.kind is Path:
        path = home / text[2:] if text == "~" or text.startswith("~/") else Path(text)
        return path if path.is_absolute() else base / path
    return text


def _seconds(name: str, value: object, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SettingsError(f"{source}: {name} must be a number of seconds, not {value!r}")
    try:
        seconds = float(value)
    except ValueError:
        raise SettingsError(
            f"{source}: {name} must be a number of seconds, not {value!r}"
        ) from None
    if not 0 < seconds <= MAX_SECONDS:
        raise SettingsError(
            f"{source}: {name} must be between 0 and {MAX_SECONDS:g} seconds, not {value!r}"
        )
    return seconds


def parse_assignments(pairs: Iterable[str], source: str) -> dict[str, str]:
    """``["dockerid=ada", ...]`` (pytest's ``--lab-set``) → ``{"dockerid": "ada"}``."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise SettingsError(f"{source}: expected NAME=VALUE, not {pair!r}")
        values[name.strip()] = value
    return values


def reported_values(settings: object) -> dict[str, str]:
    """The settings declared ``reported`` that have a value, as report properties."""
    return {
        field.name: str(value)
        for field in fields_of(type(settings))
        if field.info.reported and (value := getattr(settings, field.name)) is not None
    }


def working_directory() -> Path:
    """The folder ``grade`` runs in, where ``grade.toml`` may be.

    A student may have deleted it from another terminal while their shell still
    stands in it: that is one line with the fix, not a traceback.
    """
    try:
        return Path.cwd()
    except OSError as exc:
        raise SettingsError(
            "the folder this terminal is in no longer exists (or cannot be read: "
            f"{exc.strerror}): cd to another folder (cd ~) and run grade again"
        ) from None


def user_home(environ: Mapping[str, str] | None = None) -> Path | None:
    """The user's home: ``$HOME``, else the account's; None when there is neither."""
    environ = os.environ if environ is None else environ
    if environ.get("HOME"):
        return Path(environ["HOME"])
    try:
        return Path.home()
    except (RuntimeError, KeyError, OSError):
        return None


def usable_home(environ: Mapping[str, str] | None = None) -> Path:
    """The user's home, which grading reads (settings' ``~``, the Docker CLI's config) and
    writes (the outbox); one line with the fix when there is none or it cannot be read."""
    home = user_home(environ)
    if home is None:
        raise SettingsError("cannot tell your home folder: set HOME and run grade again")
    try:
        home.stat()
        readable = home.is_dir() and os.access(home, os.R_OK | os.X_OK)
    except OSError:
        readable = False
    if not readable:
        raise SettingsError(
            f"cannot read your home folder {home}: give it back to yourself "
            "(chmod u+rwx ~) or set HOME to your home folder, then run grade again"
        )
    return home
