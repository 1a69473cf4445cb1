"""Where each setting comes from, decided in one place.

Precedence, highest first: command-line option, environment variable,
``grade.toml`` in the working directory, built-in default. A bad value's error
names the place it came from, so a student knows what to fix.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import SettingsError

CONFIG_FILE_NAME = "grade.toml"
DEFAULT_CHECK_TIMEOUT = 30.0
DEFAULT_RUN_TIMEOUT = 180.0


@dataclass(frozen=True)
class Settings:
    """Everything a grading run needs to know besides the Docker engine."""

    dockerid: str | None
    tweet_app: Path
    hello_dir: Path | None
    rubric_file: Path | None
    check_timeout: float
    run_timeout: float


#: setting name -> (environment variable or None, kind)
_SETTINGS: dict[str, tuple[str | None, str]] = {
    "dockerid": ("DOCKERID", "name"),
    "tweet_app": (None, "path"),
    "hello_dir": (None, "path"),
    "rubric": (None, "path"),
    "check_timeout": (None, "seconds"),
    "run_timeout": (None, "seconds"),
}


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read it ({exc.strerror})") from None
    unknown = sorted(set(data) - set(_SETTINGS))
    if unknown:
        known = ", ".join(sorted(_SETTINGS))
        raise SettingsError(f"{path}: unknown setting {unknown[0]!r} (known: {known})")
    return data


def _coerce(name: str, value: object, source: str, base: Path, home: Path) -> object:
    kind = _SETTINGS[name][1]
    if kind == "seconds":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise SettingsError(f"{source}: {name} must be a number of seconds, not {value!r}")
        try:
            seconds = float(value)
        except ValueError:
            raise SettingsError(
                f"{source}: {name} must be a number of seconds, not {value!r}"
            ) from None
        if not 0 < seconds <= 3600:
            raise SettingsError(
                f"{source}: {name} must be between 0 and 3600 seconds, not {value!r}"
            )
        return seconds
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{source}: {name} must be a non-empty string, not {value!r}")
    if kind == "path":
        text = value.strip()
        path = home / text[2:] if text == "~" or text.startswith("~/") else Path(text)
        return path if path.is_absolute() else base / path
    if "/" in value or any(ch.isspace() for ch in value):
        raise SettingsError(
            f"{source}: {name} must be a Docker ID without spaces or slashes, not {value!r}"
        )
    return value.strip()


def resolve_settings(
    *,
    cli: Mapping[str, object | None],
    environ: Mapping[str, str],
    cwd: Path,
    home: Path,
) -> Settings:
    """Merge the command line, the environment and ``grade.toml`` into :class:`Settings`."""
    config_path = cwd / CONFIG_FILE_NAME
    try:
        present = config_path.is_file()
    except OSError:  # a working directory this user may not read has no grade.toml for us
        present = False
    from_file = _read_config_file(config_path) if present else {}
    chosen: dict[str, object] = {}
    for name, (env_var, _kind) in _SETTINGS.items():
        if cli.get(name) is not None:
            chosen[name] = _coerce(name, cli[name], f"--{name.replace('_', '-')}", cwd, home)
        elif env_var and environ.get(env_var):
            chosen[name] = _coerce(name, environ[env_var], f"${env_var}", cwd, home)
        elif name in from_file:
            chosen[name] = _coerce(name, from_file[name], str(config_path), cwd, home)
    return Settings(
        dockerid=chosen.get("dockerid"),  # type: ignore[arg-type]
        tweet_app=chosen.get("tweet_app", home / "linux_tweet_app"),  # type: ignore[arg-type]
        hello_dir=chosen.get("hello_dir"),  # type: ignore[arg-type]
        rubric_file=chosen.get("rubric"),  # type: ignore[arg-type]
        check_timeout=chosen.get("check_timeout", DEFAULT_CHECK_TIMEOUT),  # type: ignore[arg-type]
        run_timeout=chosen.get("run_timeout", DEFAULT_RUN_TIMEOUT),  # type: ignore[arg-type]
    )
