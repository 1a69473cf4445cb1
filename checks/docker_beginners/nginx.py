"""How the tweet app's nginx must be started: in the foreground, or its container exits."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from grader import dockerfile


def runs_nginx_foreground(argv: Sequence[str] | None) -> bool:
    """True when ``argv`` starts nginx with ``-g "daemon off;"``, directly or through ``sh -c``.

    Without ``daemon off;`` nginx forks into the background and the container exits at once.
    """
    words = dockerfile.process_words(argv)
    if not words or posixpath.basename(words[0]) != "nginx":
        return False
    directives = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-g"]
    return bool(directives) and _daemon_off(directives[-1])


def _daemon_off(directives: str) -> bool:
    """True when the ``-g`` text holds a complete ``daemon off;`` directive."""
    *complete, trailing = directives.split(";")
    return not trailing.strip() and any(part.split() == ["daemon", "off"] for part in complete)
