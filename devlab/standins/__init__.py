"""Local stand-ins for the lab's images (alpine, ubuntu, nginx, mysql), built from Debian."""

from devlab.standins.build import (
    BASE_IMAGE,
    STANDINS,
    StandinError,
    ensure_standins,
)

__all__ = ["BASE_IMAGE", "STANDINS", "StandinError", "ensure_standins"]
