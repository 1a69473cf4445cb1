"""Typing a lab's declared actions into a student's shell: ``bash -c`` for a line, a
terminal (pexpect) for an interactive one, files written for :class:`Files`.

``grade lab selftest`` types the solution and the spoilers with it, in a home of its
own, with ``docker`` pointed at the engine the author named.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GradingError
from grader.labtools.declared import Action, Files, Step

PROMPT = r"[#$] $"


class StepFailed(GradingError):
    """A declared line failed: the lab's solution or spoiler is wrong, or the engine is."""


@dataclass
class Shell:
    """A student's shell: its home, its environment, and what it typed."""

    home: Path
    env: Mapping[str, str]
    typed: list[str] = field(default_factory=list)
    timeout: float = 600

    def path(self, folder: str) -> Path:
        return (
            self.home / folder.removeprefix("~").lstrip("/")
            if folder.startswith("~")
            else Path(folder)
        )

    def do(self, action: Action) -> None:
        """Type (or write) one declared action; :class:`StepFailed` when it fails."""
        if isinstance(action, Files):
            folder = self.path(action.folder)
            folder.mkdir(parents=True, exist_ok=True)
            for name, content in action.files.items():
                data = content if isinstance(content, bytes) else content.encode()
                (folder / name).write_bytes(data)
            return
        self.typed.append(action.command)
        if action.interactive:
            self._interactive(action)
            return
        deadline = time.monotonic() + action.wait
        while True:
            done = subprocess.run(
                ["bash", "-c", action.command], cwd=self.path(action.cwd), env=dict(self.env),
                capture_output=True, text=True, timeout=self.timeout, check=False,
            )  # fmt: skip
            if done.returncode == 0:
                return
            if time.monotonic() >= deadline:
                why = (done.stderr.strip().splitlines() or ["no message"])[-1][:200]
                raise StepFailed(f"{action.command!r} exited with {done.returncode}: {why}")
            time.sleep(0.5)

    def _interactive(self, step: Step) -> None:
        try:
            import pexpect
        except ImportError:
            raise GradingError(
                "typing the lab's interactive steps needs pexpect: pip install pexpect"
            ) from None
        child = pexpect.spawn(
            "bash", ["-c", step.command], env=dict(self.env), cwd=str(self.path(step.cwd)),
            encoding="utf-8", timeout=self.timeout, dimensions=(40, 120),
        )  # fmt: skip
        try:
            for line in step.typed:
                child.expect(PROMPT)
                child.sendline(line)
            child.expect(pexpect.EOF)
        except pexpect.ExceptionPexpect as exc:
            raise StepFailed(
                f"{step.command!r}: {type(exc).__name__} typing {step.typed}"
            ) from None
        finally:
            child.close()
        if child.exitstatus not in (0, None):
            raise StepFailed(f"{step.command!r} exited with {child.exitstatus}")
