"""How each step of the Docker lab is spoiled, from a solved lab, and what must fail with it.

``grade lab selftest docker_beginners -H ENGINE`` types each spoiler's commands, grades,
and expects exactly ``fails`` to fail; then ``undo`` puts the lab back (one line where a
student would fix it, rather than doing the task again). These were the engine tests'
spoiled steps (``tests/engine/test_spoiled_task*.py`` keeps those that need a ``grade``
option or the engine's API).
"""

from __future__ import annotations

from checks.docker_beginners.solution import (
    BUILD_HELLO,
    BUILD_TWEET_APP,
    CLONE_TWEET_APP,
    HELLO,
    HELLO_DOCKERFILE,
    MYSQL_PASSWORD,
    MYSQL_READY,
    RUN_ALPINE,
    RUN_MYDB,
    RUN_TWEET_APP,
    RUN_UBUNTU_INTERACTIVE,
    WRITE_HELLO,
)
from grader import Files, Spoiler, Step


def remove_runs_of(image: str) -> Step:
    """Remove the containers made from exactly ``image`` (not from images built on it)."""
    return Step(
        "docker container ls --all --format '{{.ID}} {{.Image}}' "
        f"| awk '$2 == \"{image}\" {{print $1}}' | xargs -r docker container rm --force"
    )


def replace_mydb(command: str) -> tuple[Step, ...]:
    return (Step("docker container rm --force mydb"), Step(command))


MYDB = {"mydb.running", "mydb.image", "mydb.password", "mydb.detached", "mydb.version"}
RESTORE_MYDB = (*replace_mydb(RUN_MYDB.command), MYSQL_READY)
RESTORE_ALPINE = (remove_runs_of("alpine"), RUN_ALPINE)
RESTORE_TWEET = (Step("docker container rm --force linux_tweet_app"), RUN_TWEET_APP)
RESTORE_HELLO = (WRITE_HELLO, BUILD_HELLO)
KEEP_FIGLET = Step("docker image tag ourfiglet spoiled:figlet")
PUT_FIGLET_BACK = (Step("docker image tag spoiled:figlet ourfiglet"),
                   Step("docker image rm spoiled:figlet"))  # fmt: skip
ALTER_ROOT_PASSWORD = (
    'mysql --user=root --password=\\"$MYSQL_ROOT_PASSWORD\\" --execute=\\"'
    "ALTER USER 'root'@'localhost' IDENTIFIED BY 'changed'; "
    "ALTER USER 'root'@'%' IDENTIFIED BY 'changed'\\\""
)
FIGLET_DOCKERFILE = "FROM ubuntu\nRUN apt-get update && apt-get install -y figlet\n"
UBUNTU_NODE_DOCKERFILE = (
    "FROM ubuntu\nRUN apt-get update && apt-get install -y nodejs\n"
    'COPY . /app\nWORKDIR /app\nCMD ["node","index.js"]\n'
)


def spoiler(name: str, fails: set[str], *commands: Step | Files, undo: tuple[Step | Files, ...]
            ) -> Spoiler:  # fmt: skip
    return Spoiler(name, tuple(commands), frozenset(fails), undo)


TASK1 = (
    spoiler("alpine container removed", {"alpine.hostname"},
            remove_runs_of("alpine"), undo=(RUN_ALPINE,)),
    spoiler("hostname run from ubuntu", {"alpine.hostname"},
            remove_runs_of("alpine"),
            Step("docker container run --name spoiled-host ubuntu hostname"),
            undo=(Step("docker container rm spoiled-host"), RUN_ALPINE)),
    spoiler("alpine ran something that failed", {"alpine.hostname"},
            remove_runs_of("alpine"), Step("docker container run alpine sh -c 'exit 3' || true"),
            undo=RESTORE_ALPINE),
    spoiler("hostname run from an image built on alpine", {"alpine.hostname"},
            remove_runs_of("alpine"),
            Step("docker container run --name spoiled-hello hello:v0.1 hostname"),
            undo=(Step("docker container rm spoiled-hello"), RUN_ALPINE)),
    spoiler("interactive run pushed out of the event history", {"ubuntu.interactive"},
            Step("for i in $(seq 150); do docker image tag alpine spoiled-flood:x "
                 "&& docker image rm spoiled-flood:x; done >/dev/null"),
            undo=(RUN_UBUNTU_INTERACTIVE,)),
    spoiler("mydb stopped", {"mydb.running", "mydb.version"},
            Step("docker container stop mydb"),
            undo=(Step("docker container start mydb"), MYSQL_READY)),
    spoiler("mydb without a password", {"mydb.running", "mydb.password", "mydb.version"},
            *replace_mydb("docker container run --detach --name mydb mysql:latest"),
            Step("docker container wait mydb"),
            undo=RESTORE_MYDB),
    spoiler("mydb blocked by a port conflict", {"mydb.running", "mydb.version"},
            *replace_mydb("docker container run --detach --name mydb --publish 80:3306 "
                          f"-e MYSQL_ROOT_PASSWORD={MYSQL_PASSWORD} mysql:latest || true"),
            undo=RESTORE_MYDB),
    spoiler("mydb from another mysql image", {"mydb.image"},
            Step("printf 'FROM mysql:latest\\nLABEL org.example.version=8.0\\n' "
                 "| docker image build -q -t mysql:8.0 -"),
            *replace_mydb(RUN_MYDB.command.replace("mysql:latest", "mysql:8.0")), MYSQL_READY,
            undo=(*RESTORE_MYDB, Step("docker image rm mysql:8.0"))),
    spoiler("mydb with an empty password allowed", {"mydb.password"},
            *replace_mydb("docker container run --detach --name mydb "
                          "-e MYSQL_ALLOW_EMPTY_PASSWORD=yes mysql:latest"), MYSQL_READY,
            undo=RESTORE_MYDB),
    spoiler("mydb started attached", {"mydb.detached"},
            Step("docker container rm --force mydb"),
            Step(f"docker container run --name mydb -e MYSQL_ROOT_PASSWORD={MYSQL_PASSWORD} "
                 "mysql:latest >/dev/null 2>&1 & attached=$!; until [ \"$(docker container "
                 "inspect -f '{{.State.Running}}' mydb 2>/dev/null)\" = true ]; do sleep 0.5; "
                 "done; kill -9 $attached"),
            MYSQL_READY,
            undo=RESTORE_MYDB),
    spoiler("mysql refuses the root password", {"mydb.version"},
            Step(f'docker exec mydb sh -c "{ALTER_ROOT_PASSWORD}"'),
            undo=RESTORE_MYDB),
    spoiler("mydb renamed mydb2", MYDB,
            Step("docker container rename mydb mydb2"),
            undo=(Step("docker container rename mydb2 mydb"),)),
)  # fmt: skip

TASK2 = (
    spoiler("Dockerfile missing instructions", {"tweet.dockerfile"},
            Files("~/linux_tweet_app", {"Dockerfile": "from nginx:latest\ncopy index.html "
                  '/usr/share/nginx/html\n# EXPOSE 80 443\nCMD ["nginx"]\n'}),
            undo=(CLONE_TWEET_APP,)),
    spoiler("no tweet app folder", {"tweet.dockerfile", "tweet.serves"},
            Step("mv ~/linux_tweet_app ~/spoiled-tweet-app"),
            undo=(Step("mv ~/spoiled-tweet-app ~/linux_tweet_app"),)),
    spoiler("image not built from the Dockerfile", {"tweet.image"},
            Step("docker image tag nginx:latest $DOCKERID/linux_tweet_app:2.0"),
            Step("docker image rm --force $DOCKERID/linux_tweet_app:1.0"),
            undo=(BUILD_TWEET_APP, Step("docker image rm $DOCKERID/linux_tweet_app:2.0"))),
    spoiler("published on another port", {"tweet.published", "tweet.serves"},
            Step("docker container rm --force linux_tweet_app"),
            Step(RUN_TWEET_APP.command.replace("80:80", "8080:80")),
            undo=RESTORE_TWEET),
    spoiler("port 80 already taken", {"tweet.published", "tweet.serves"},
            Step("docker container rm --force linux_tweet_app"),
            Step("docker container run --detach --publish 80:80 --name spoiled-web nginx:latest"),
            Step(f"{RUN_TWEET_APP.command} || true"),
            undo=(Step("docker container rm --force spoiled-web"), *RESTORE_TWEET)),
    spoiler("served page changed in the container", {"tweet.serves"},
            Step("docker exec linux_tweet_app sh -c "
                 "'echo defaced > /usr/share/nginx/html/index.html'"),
            undo=RESTORE_TWEET),
    spoiler("tweet app container removed", {"tweet.published", "tweet.serves"},
            Step("docker container rm --force linux_tweet_app"),
            undo=(RUN_TWEET_APP,)),
)  # fmt: skip

TASK3 = (
    spoiler("ourfiglet missing", {"figlet.image", "figlet.committed", "figlet.runs"},
            KEEP_FIGLET, Step("docker image rm ourfiglet"),
            undo=PUT_FIGLET_BACK),
    spoiler("ourfiglet built from a Dockerfile", {"figlet.committed"},
            KEEP_FIGLET, Files("~/spoiled-figlet", {"Dockerfile": FIGLET_DOCKERFILE}),
            Step("docker image build --tag ourfiglet .", cwd="~/spoiled-figlet"),
            undo=(*PUT_FIGLET_BACK, Step("rm -r ~/spoiled-figlet"))),
    spoiler("ourfiglet committed without figlet", {"figlet.runs"},
            KEEP_FIGLET, Step("docker container run --name spoiled-plain ubuntu touch /notes.txt"),
            Step("docker image tag \"$(docker container commit spoiled-plain)\" ourfiglet"),
            undo=(*PUT_FIGLET_BACK, Step("docker container rm spoiled-plain"))),
    spoiler("ourfiglet committed from alpine", {"figlet.committed", "figlet.runs"},
            KEEP_FIGLET, Step("docker container run --name spoiled-alpine alpine true"),
            Step("docker image tag \"$(docker container commit spoiled-alpine)\" ourfiglet"),
            undo=(*PUT_FIGLET_BACK, Step("docker container rm spoiled-alpine"))),
)  # fmt: skip

TASK4 = (
    spoiler("hello prints something else", {"hello.dockerfile", "hello.runs"},
            Files(HELLO, {"index.js": 'console.log("hello world");\n'}), BUILD_HELLO,
            undo=RESTORE_HELLO),
    spoiler("hello built without WORKDIR", {"hello.dockerfile", "hello.runs"},
            Files(HELLO, {"Dockerfile": HELLO_DOCKERFILE.replace("WORKDIR /app\n", "")}),
            BUILD_HELLO,
            undo=RESTORE_HELLO),
    spoiler("hello built on ubuntu", {"hello.dockerfile", "hello.image"},
            Files(HELLO, {"Dockerfile": UBUNTU_NODE_DOCKERFILE}), BUILD_HELLO,
            undo=RESTORE_HELLO),
    spoiler("hello:v0.1 missing", {"hello.dockerfile", "hello.image", "hello.runs"},
            Step("docker image tag hello:v0.1 spoiled:hello"), Step("docker image rm hello:v0.1"),
            undo=(Step("docker image tag spoiled:hello hello:v0.1"),
                  Step("docker image rm spoiled:hello"))),
)  # fmt: skip

SPOILERS = (*TASK1, *TASK2, *TASK3, *TASK4)
