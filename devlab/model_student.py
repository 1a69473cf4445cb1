"""A model student who does the lab with the commands of STEPS.md, verbatim.

The lines and files are the lab's declared solution (``checks.docker_beginners.solution``,
what ``grade lab selftest`` types too); this student adds what tests need of them: the
ids a step printed, single steps to redo after a spoiled one.

Each step is typed into ``bash`` as a student would (``$DOCKERID`` and ``~``
expand in their shell); the interactive steps run under a pseudo-terminal with
pexpect. Tests spoil single steps by calling the steps they want, or other
commands, on the same engine.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from checks.docker_beginners import solution
from checks.docker_beginners.solution import (
    HELLO_DOCKERFILE,
    HELLO_INDEX_JS,
    MYSQL_PASSWORD,
    TWEET_DOCKERFILE,
    TWEET_INDEX_HTML,
    tiny_png,
)
from grader import Files, Step

__all__ = [
    "DOCKERID",
    "HELLO_DOCKERFILE",
    "HELLO_INDEX_JS",
    "MYSQL_PASSWORD",
    "TWEET_DOCKERFILE",
    "TWEET_INDEX_HTML",
    "ModelStudent",
    "tiny_png",
]

DOCKERID = "modelstudent"
PROMPT = r"[#$] $"

#: ``docker`` as a command word in a typed line (not ``$DOCKERID``, not a path part).
DOCKER_WORD = re.compile(r"(?<![\w/$.-])docker(?=\s)")


@dataclass
class ModelStudent:
    """A student's shell: a home folder, ``$DOCKERID``, and a log of what was typed.

    ``docker_host`` (a ``DOCKER_HOST`` value) points the student's ``docker`` at another
    engine than the default one, as on the suite's remote lab hosts. ``cli`` is the engine
    command the student types in place of ``docker`` (``podman``: the lab's lines with that
    one word changed), and ``cli_env`` what that command needs in the environment.
    """

    home: Path
    dockerid: str = DOCKERID
    typed: list[str] = field(default_factory=list)
    interactive_run_at: float = 0.0
    docker_host: str | None = None
    cli: str = "docker"
    cli_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
        env.update(HOME=str(self.home), DOCKERID=self.dockerid, TERM="xterm")
        if self.docker_host is not None:
            env["DOCKER_HOST"] = self.docker_host
        env.update(self.cli_env)
        return env

    def as_typed(self, command: str) -> str:
        """The lab's line as this student types it: ``docker`` becomes ``cli``."""
        return command if self.cli == "docker" else DOCKER_WORD.sub(self.cli, command)

    @property
    def tweet_app(self) -> Path:
        return self.home / "linux_tweet_app"

    @property
    def hello_dir(self) -> Path:
        return self.home / "hello"

    # -- typing -----------------------------------------------------------------
    def sh(self, command: str, *, cwd: Path | None = None, timeout: float = 600) -> str:
        """Type one command line into bash; fail loudly if it fails."""
        command = self.as_typed(command)
        self.typed.append(command)
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd or self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command!r} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout

    def interactive(self, command: str, lines: list[str], *, timeout: float = 300) -> str:
        """Run ``command`` under a pseudo-terminal and type ``lines`` at its shell prompt."""
        import pexpect  # a dev tool: the unit tier reads this module's files on a student install

        command = self.as_typed(command)
        self.typed.append(command)
        child = pexpect.spawn(
            "bash",
            ["-c", command],
            env=self.env,
            cwd=str(self.home),
            encoding="utf-8",
            timeout=timeout,
            dimensions=(40, 120),
        )
        try:
            for line in lines:
                child.expect(PROMPT)
                child.sendline(line)
            child.expect(pexpect.EOF)
        finally:
            child.close()
        if child.exitstatus not in (0, None):
            raise RuntimeError(f"{command!r} exited with {child.exitstatus}: {child.before}")
        return child.before or ""

    def path(self, folder: str) -> Path:
        """A declared folder (``~/hello``) in this student's home."""
        return self.home / folder.removeprefix("~").lstrip("/")

    def do(self, action: Step | Files) -> str:
        """One declared action of the lab's solution, typed (or written) as declared."""
        if isinstance(action, Files):
            folder = self.path(action.folder)
            folder.mkdir(parents=True, exist_ok=True)
            for name, content in action.files.items():
                target = folder / name
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content)
            return ""
        if action.interactive:
            return self.interactive(action.command, list(action.typed))
        if action.wait:
            deadline = time.monotonic() + action.wait
            while True:
                try:
                    return self.sh(action.command, cwd=self.path(action.cwd))
                except RuntimeError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        return self.sh(action.command, cwd=self.path(action.cwd))

    # -- Task 1 -------------------------------------------------------------------
    def step_1_1(self) -> None:
        self.do(solution.RUN_ALPINE)

    def step_1_2(self) -> None:
        self.interactive_run_at = time.time()
        self.do(solution.RUN_UBUNTU_INTERACTIVE)

    def step_1_3(self) -> None:
        self.do(solution.RUN_MYDB)
        self.wait_for_mysql()

    def step_1_4_to_1_6(self) -> None:
        for step in solution.INSPECT_MYDB:
            self.do(step)

    def wait_for_mysql(self, timeout: float = 120) -> None:
        """Wait until the server in mydb listens on its port (it takes a while).

        Reads the log rather than polling with ``docker exec``: every exec adds
        events to the engine's short history, which holds step 1.2's evidence.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logs = subprocess.run(
                [self.cli, "container", "logs", "mydb"],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            if "port: 3306" in logs.stdout + logs.stderr:
                return
            time.sleep(0.5)
        raise RuntimeError("mysql in mydb did not come up")

    # -- Task 2 -------------------------------------------------------------------
    def clone_tweet_app(self) -> None:
        """What ``git clone`` of dockersamples/linux_tweet_app would give (no network here)."""
        self.do(solution.CLONE_TWEET_APP)

    def step_2_2(self) -> None:
        self.sh("cd ~/linux_tweet_app; cat Dockerfile")
        self.do(solution.BUILD_TWEET_APP)

    def step_2_3(self) -> None:
        self.do(solution.RUN_TWEET_APP)

    # -- Task 3 -------------------------------------------------------------------
    def step_3_1(self) -> str:
        """Install figlet in an ubuntu container; returns that container's id."""
        self.do(solution.INSTALL_FIGLET)
        return self.sh("docker container ls -a --latest --quiet --no-trunc").strip()

    def step_3_3(self, container_id: str) -> str:
        """Step 3.3 with the ids typed out, as the lab's text has it (the declared solution
        does it in one line); returns the committed image's id."""
        self.sh("docker container ls -a")
        self.sh(f"docker container diff {container_id}")
        image_id = self.sh(f"docker container commit {container_id}").strip()
        self.sh(f"docker image tag {image_id} ourfiglet")
        return image_id

    def step_3_4(self) -> str:
        return self.do(solution.RUN_FIGLET)

    # -- Task 4 -------------------------------------------------------------------
    def write_hello(self) -> None:
        self.do(solution.WRITE_HELLO)

    def step_4_1(self) -> None:
        self.do(solution.BUILD_HELLO)

    def step_4_2(self) -> str:
        return self.do(solution.RUN_HELLO)

    # -- all ----------------------------------------------------------------------
    def do_the_lab(self) -> None:
        """Every step of STEPS.md in order, stopping before 2.4 (graders check 2.3 running)."""
        self.step_1_1()
        self.step_1_2()
        self.step_1_3()
        self.step_1_4_to_1_6()
        self.clone_tweet_app()
        self.step_2_2()
        self.step_2_3()
        self.step_3_3(self.step_3_1())
        self.step_3_4()
        self.write_hello()
        self.step_4_1()
        self.step_4_2()
