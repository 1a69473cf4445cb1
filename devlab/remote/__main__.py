"""``python -m devlab.remote [--down | --purge]``: build (or stop) the hosts and list them."""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from dataclasses import asdict

from devlab.remote.build import ensure_remote_hosts, teardown
from devlab.remote.hosts import RemoteHostError


def main(argv: list[str] | None = None) -> int:
    """``python -m devlab.remote [--down | --purge]``: build (or stop) and list them."""
    parser = argparse.ArgumentParser(prog="python -m devlab.remote")
    parser.add_argument("--down", action="store_true", help="stop the hosts, keep their files")
    parser.add_argument("--purge", action="store_true", help="stop them and delete everything")
    options = parser.parse_args(argv)
    try:
        logging.basicConfig(level=logging.INFO, format="remote hosts: %(message)s")
        if options.down or options.purge:
            teardown(purge=options.purge)
            return 0
        started = time.monotonic()
        hosts = ensure_remote_hosts()
    except (RemoteHostError, subprocess.SubprocessError) as exc:
        print(f"remote hosts: {exc}", file=sys.stderr)
        return 1
    for host in hosts:
        print(json.dumps({**asdict(host), "ssh_url": host.ssh_url()}, default=str))
    print(f"remote hosts: ready in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
