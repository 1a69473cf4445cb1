"""The Docker lab solved, as a student types it: each task's lines, and what it leaves behind.

The workshop's model student (``devlab.model_student``) types these same lines and writes
these same files; ``grade reset TASK`` removes a task's objects, ``grade finish`` all of
them, ``grade start`` checks the preflight. The files are what a student gets or writes:
the clone of ``dockersamples/linux_tweet_app`` (a stand-in page, as the workshop has no
network) and task 4's two files typed from the lab's text.
"""

from __future__ import annotations

import struct
import zlib

from grader import Files, LabTask, Objects, Preflight, Step

MYSQL_PASSWORD = "my-secret-pw"

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


# -- Task 1 -----------------------------------------------------------------------------
RUN_ALPINE = Step("docker container run alpine hostname")
RUN_UBUNTU_INTERACTIVE = Step(
    "docker container run --interactive --tty --rm ubuntu bash",
    typed=("ls /", "ps aux", "cat /etc/issue", "exit"),
    fleeting=True,  # --rm: only the engine's events remember it
)
RUN_MYDB = Step(
    f"docker container run --detach --name mydb -e MYSQL_ROOT_PASSWORD={MYSQL_PASSWORD} "
    "mysql:latest"
)
#: What the student waits for before step 1.4: the server listening (its log says so).
MYSQL_READY = Step("docker container logs mydb 2>&1 | grep -q 'port: 3306'", wait=120)
INSPECT_MYDB = (
    Step("docker container ls"),
    Step("docker container logs mydb"),
    Step("docker container top mydb"),
    Step(
        "docker exec -it mydb mysql --user=root --password=$MYSQL_ROOT_PASSWORD --version", tty=True
    ),
    Step("docker exec -it mydb sh", typed=("exit",)),
)

# -- Task 2 -----------------------------------------------------------------------------
TWEET_APP = "~/linux_tweet_app"
CLONE_TWEET_APP = Files(
    TWEET_APP,
    {"index.html": TWEET_INDEX_HTML, "linux.png": tiny_png(), "Dockerfile": TWEET_DOCKERFILE},
    how="git clone https://github.com/dockersamples/linux_tweet_app",
)
BUILD_TWEET_APP = Step("docker image build --tag $DOCKERID/linux_tweet_app:1.0 .", cwd=TWEET_APP)
RUN_TWEET_APP = Step(
    "docker container run --detach --publish 80:80 --name linux_tweet_app "
    "$DOCKERID/linux_tweet_app:1.0"
)

# -- Task 3 -----------------------------------------------------------------------------
INSTALL_FIGLET = Step(
    "docker container run -ti ubuntu bash",
    typed=("apt-get update", "apt-get install -y figlet", 'figlet "hello docker"', "exit"),
)
#: Steps 3.2 and 3.3 in one line: the latest container (3.1's) committed, its image tagged.
COMMIT_FIGLET = Step(
    'docker image tag "$(docker container commit "$(docker container ls --all --latest --quiet)")"'
    " ourfiglet"
)
RUN_FIGLET = Step("docker container run ourfiglet figlet hello")

# -- Task 4 -----------------------------------------------------------------------------
HELLO = "~/hello"
WRITE_HELLO = Files(
    HELLO,
    {"index.js": HELLO_INDEX_JS, "Dockerfile": HELLO_DOCKERFILE},
    how="type index.js and Dockerfile from the lab's text",
)
BUILD_HELLO = Step("docker image build -t hello:v0.1 .", cwd=HELLO)
RUN_HELLO = Step("docker container run hello:v0.1")

TASKS = (
    LabTask(
        "task1",
        solution=(RUN_ALPINE, RUN_UBUNTU_INTERACTIVE, RUN_MYDB, MYSQL_READY, *INSPECT_MYDB),
        objects=Objects(containers=("mydb",), runs=(("alpine", "hostname"),)),
    ),
    LabTask(
        "task2",
        solution=(CLONE_TWEET_APP, Step("cat Dockerfile", cwd=TWEET_APP), BUILD_TWEET_APP,
                  RUN_TWEET_APP),
        objects=Objects(
            containers=("linux_tweet_app",),
            images=("$DOCKERID/linux_tweet_app", "linux_tweet_app"),
            files=(TWEET_APP,),
        ),
    ),
    LabTask(
        "task3",
        solution=(INSTALL_FIGLET, Step("docker container ls -a"), COMMIT_FIGLET, RUN_FIGLET),
        objects=Objects(runs=(("ubuntu", "bash"),), images=("ourfiglet",)),
    ),
    LabTask(
        "task4",
        solution=(WRITE_HELLO, BUILD_HELLO, RUN_HELLO),
        objects=Objects(images=("hello:v0.1",), files=(HELLO,)),
    ),
)  # fmt: skip

PREFLIGHT = Preflight(
    ports=(80,),
    images=("alpine", "ubuntu", "mysql:latest", "nginx:latest"),
    settings=("dockerid",),
    disk_mb=2048,  # mysql, nginx, ubuntu with figlet, three builds
)
