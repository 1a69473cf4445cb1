"""`python -m devlab.standins [--force] [NAME...]`: build the stand-in images if stale."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from docker.errors import DockerException

from devlab.standins.build import STANDINS, StandinError, ensure_standins


def main(argv: list[str] | None = None) -> int:
    """Build what is stale and say how long it took."""
    parser = argparse.ArgumentParser(prog="python -m devlab.standins", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(STANDINS))
    parser.add_argument("--force", action="store_true", help="rebuild even if current")
    parser.add_argument("-v", "--verbose", action="store_true", help="show build steps")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(STANDINS))
    if unknown:
        parser.error(f"unknown stand-in(s): {', '.join(unknown)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="standins: %(message)s",
        stream=sys.stdout,
    )
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("docker").setLevel(logging.WARNING)
    started = time.monotonic()
    try:
        ensure_standins(force=args.force, names=args.names or None)
    except (StandinError, DockerException) as exc:
        print(f"standins: {exc}", file=sys.stderr)
        return 1
    logging.getLogger("devlab.standins").info("done in %.1f s", time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
