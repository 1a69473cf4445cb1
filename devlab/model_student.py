"""A model student who does the lab with the commands of STEPS.md, verbatim.

Each step is typed into ``bash`` as a student would (``$DOCKERID`` and ``~``
expand in their shell); the interactive steps run under a pseudo-terminal with
pexpect. Tests spoil single steps by calling the steps they want, or other
commands, on the same engine.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

DOCKERID = "modelstudent"
MYSQL_PASSWORD = "my-secret-pw"
PROMPT = r"[#$] $"

TWEET_INDEX_HTML = """<!DOCTYPE html>
<html>
<head><title>Linux Tweet App!</title></head>
<body>
  <h1>Linux Tweet App!</h1>
  <img src="linux.png" alt="Tux">
  <p>Tweet about the Docker lab from a container.</p>
</body>
</html>
"""

TWEET_DOCKERFILE = """FROM nginx:latest

COPY index.html /usr/share/nginx/html
COPY linux.png /usr/share/nginx/html

EXPOSE 80 443

CMD ["nginx", "-g", "daemon off;"]
"""

HELLO_INDEX_JS = """var os = require("os");
var hostname = os.hostname();
console.log("hello from " + hostname);
"""

HELLO_DOCKERFILE = """FROM alpine
RUN apk update && apk add nodejs
COPY . /app
WORKDIR /app
CMD ["node","index.js"]
"""


def tiny_png() -> bytes:
    """A small valid PNG (a 2x2 penguin-grey square) standing in for linux.png."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x40\x40\x40" * 2 + b"\x00" + b"\xf0\xc0\x00" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


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

    # -- Task 1 -------------------------------------------------------------------
    def step_1_1(self) -> None:
        self.sh("docker container run alpine hostname")

    def step_1_2(self) -> None:
        self.interactive_run_at = time.time()
        self.interactive(
            "docker container run --interactive --tty --rm ubuntu bash",
            ["ls /", "ps aux", "cat /etc/issue", "exit"],
        )

    def step_1_3(self) -> None:
        self.sh(
            "docker container run --detach --name mydb -e MYSQL_ROOT_PASSWORD=my-secret-pw "
            "mysql:latest"
        )
        self.wait_for_mysql()

    def step_1_4_to_1_6(self) -> None:
        self.sh("docker container ls")
        self.sh("docker container logs mydb")
        self.sh("docker container top mydb")
        self.interactive(
            "docker exec -it mydb mysql --user=root --password=$MYSQL_ROOT_PASSWORD --version", []
        )
        self.interactive("docker exec -it mydb sh", ["exit"])

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
        self.tweet_app.mkdir(parents=True, exist_ok=True)
        (self.tweet_app / "index.html").write_text(TWEET_INDEX_HTML)
        (self.tweet_app / "linux.png").write_bytes(tiny_png())
        (self.tweet_app / "Dockerfile").write_text(TWEET_DOCKERFILE)

    def step_2_2(self) -> None:
        self.sh("cd ~/linux_tweet_app; cat Dockerfile")
        self.sh("docker image build --tag $DOCKERID/linux_tweet_app:1.0 .", cwd=self.tweet_app)

    def step_2_3(self) -> None:
        self.sh(
            "docker container run --detach --publish 80:80 --name linux_tweet_app "
            "$DOCKERID/linux_tweet_app:1.0"
        )

    # -- Task 3 -------------------------------------------------------------------
    def step_3_1(self) -> str:
        """Install figlet in an ubuntu container; returns that container's id."""
        self.interactive(
            "docker container run -ti ubuntu bash",
            ["apt-get update", "apt-get install -y figlet", 'figlet "hello docker"', "exit"],
        )
        return self.sh("docker container ls -a --latest --quiet --no-trunc").strip()

    def step_3_3(self, container_id: str) -> str:
        self.sh("docker container ls -a")
        self.sh(f"docker container diff {container_id}")
        image_id = self.sh(f"docker container commit {container_id}").strip()
        self.sh(f"docker image tag {image_id} ourfiglet")
        return image_id

    def step_3_4(self) -> str:
        return self.sh("docker container run ourfiglet figlet hello")

    # -- Task 4 -------------------------------------------------------------------
    def write_hello(self) -> None:
        self.hello_dir.mkdir(parents=True, exist_ok=True)
        (self.hello_dir / "index.js").write_text(HELLO_INDEX_JS)
        (self.hello_dir / "Dockerfile").write_text(HELLO_DOCKERFILE)

    def step_4_1(self) -> None:
        self.sh("docker image build -t hello:v0.1 .", cwd=self.hello_dir)

    def step_4_2(self) -> str:
        return self.sh("docker container run hello:v0.1")

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
