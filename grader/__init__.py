"""The student's side of the Docker lab grader: the ``grade`` command and its pytest plugin."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("docker-lab-grader")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
