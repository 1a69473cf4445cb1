"""The Docker beginners' lab's own settings: whose images, and where the sources are.

Each field is a ``grade`` option (``--dockerid``), a ``grade.toml`` key and, where it
names one, an environment variable; ``grader.settings`` decides the precedence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from grader import Lab, setting


def _docker_id(value: str) -> str | None:
    """A Docker ID is one word: it becomes the first part of an image name."""
    if "/" in value or any(ch.isspace() for ch in value):
        return "a Docker ID without spaces or slashes"
    return None


@dataclass(frozen=True)
class BeginnersSettings:
    dockerid: str | None = setting(
        env="DOCKERID", help="Your Docker ID.", metavar="NAME", must_be=_docker_id, reported=True
    )
    tweet_app: Path = setting(
        default="~/linux_tweet_app", help="The linux_tweet_app folder.", metavar="DIR"
    )
    hello_dir: Path | None = setting(
        help="The folder hello:v0.1 was built from [default: read /app out of the image].",
        metavar="DIR",
    )


#: What every check of this lab receives as ``lab``.
DockerLab: TypeAlias = Lab[BeginnersSettings]
