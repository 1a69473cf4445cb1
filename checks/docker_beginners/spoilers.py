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
    'mysql --user=root --password=\\"\\$MYSQL_ROOT_PASSWORD\\" --execute=\\"'
    "ALTER USER 'root'@'localhost' IDENTIFIED BY 'changed'; "
    "ALTER USER 'root'@'%' IDENTIFIED BY 'changed'\\\""
)
FIGLET_DOCKERFILE = "FROM ubuntu\nRUN apt-get update && apt-get install -y figlet\n"
UBUNTU_NODE_DOCKERFILE = (
    "FROM ubuntu\nRUN apt-get update && apt-get install -y nodejs\n"
    'COPY . /app\nWORKDIR /app\nCMD ["node","index.js"]\n'
)


#: 300 engine events (150 tags, then one rm of them all): Docker remembers its last 256.
FLOOD_EVENTS = Step(
    "for i in $(seq 150); do docker image tag alpine spoiled-flood:$i; done "
    "&& docker image rm $(seq -f spoiled-flood:%g 150) >/dev/null"
)


def spoiler(name: str, fails: set[str], *commands: Step | Files, undo: tuple[Step | Files, ...],
            **says: str) -> Spoiler:  # fmt: skip
    """A spoiler; ``says``: what a failing check's message must hold (``mydb_running=...``
    for ``mydb.running``)."""
    messages = {check.replace("_", ".", 1): text for check, text in says.items()}
    return Spoiler(name, tuple(commands), frozenset(fails), undo, messages)


TASK1 = (
    spoiler("alpine container removed", {"alpine.hostname"},
            remove_runs_of("alpine"), undo=(RUN_ALPINE,),
            alpine_hostname="found no container of the alpine image"),
    spoiler("hostname run from ubuntu", {"alpine.hostname"},
            remove_runs_of("alpine"),
            Step("docker container run --name spoiled-host ubuntu hostname"),
            undo=(Step("docker container rm spoiled-host"), RUN_ALPINE),
            alpine_hostname="from image ubuntu, not alpine"),
    spoiler("alpine ran something that failed", {"alpine.hostname"},
            remove_runs_of("alpine"), Step("docker container run alpine sh -c 'exit 3' || true"),
            undo=RESTORE_ALPINE,
            alpine_hostname="ran 'sh -c exit 3'"),
    spoiler("hostname run from an image built on alpine", {"alpine.hostname"},
            remove_runs_of("alpine"),
            Step("docker container run --name spoiled-hello hello:v0.1 hostname"),
            undo=(Step("docker container rm spoiled-hello"), RUN_ALPINE),
            alpine_hostname="ran hostname, but from image hello:v0.1, not alpine"),
    spoiler("interactive run pushed out of the event history", {"ubuntu.interactive"},
            FLOOD_EVENTS,
            undo=(RUN_UBUNTU_INTERACTIVE,),
            ubuntu_interactive="only reaches back to"),
    spoiler("interactive run without a terminal", {"ubuntu.interactive"},
            FLOOD_EVENTS,
            Step("docker container run --rm ubuntu bash"),
            undo=(RUN_UBUNTU_INTERACTIVE,),
            ubuntu_interactive="without a terminal"),
    spoiler("mydb stopped", {"mydb.running", "mydb.version"},
            Step("docker container stop mydb"),
            undo=(Step("docker container start mydb"), MYSQL_READY),
            mydb_running="mydb is exited", mydb_version="mydb is exited, so mysql cannot be asked"),
    spoiler("mydb without a password", {"mydb.running", "mydb.password", "mydb.version"},
            *replace_mydb("docker container run --detach --name mydb mysql:latest"),
            Step("docker container wait mydb"),
            undo=RESTORE_MYDB,
            mydb_running="stops at once when MYSQL_ROOT_PASSWORD is not set",
            mydb_password="no MYSQL_ROOT_PASSWORD"),
    spoiler("mydb blocked by a port conflict", {"mydb.running", "mydb.version"},
            *replace_mydb("docker container run --detach --name mydb --publish 80:3306 "
                          f"-e MYSQL_ROOT_PASSWORD={MYSQL_PASSWORD} mysql:latest || true"),
            undo=RESTORE_MYDB,
            mydb_running="was created but is not running"),
    spoiler("mydb from another mysql image", {"mydb.image"},
            Step("printf 'FROM mysql:latest\\nLABEL org.example.version=8.0\\n' "
                 "| docker image build -q -t mysql:8.0 -"),
            *replace_mydb(RUN_MYDB.command.replace("mysql:latest", "mysql:8.0")), MYSQL_READY,
            undo=(*RESTORE_MYDB, Step("docker image rm mysql:8.0")),
            mydb_image="created from mysql:8.0, not mysql:latest"),
    spoiler("mydb with an empty password allowed", {"mydb.password"},
            *replace_mydb("docker container run --detach --name mydb "
                          "-e MYSQL_ALLOW_EMPTY_PASSWORD=yes mysql:latest"), MYSQL_READY,
            undo=RESTORE_MYDB,
            mydb_password="sets MYSQL_ALLOW_EMPTY_PASSWORD instead of MYSQL_ROOT_PASSWORD"),
    spoiler("mydb started attached", {"mydb.detached"},
            Step("docker container rm --force mydb"),
            Step(f"docker container run --name mydb -e MYSQL_ROOT_PASSWORD={MYSQL_PASSWORD} "
                 "mysql:latest >/dev/null 2>&1 & attached=$!; until [ \"$(docker container "
                 "inspect -f '{{.State.Running}}' mydb 2>/dev/null)\" = true ]; do sleep 0.5; "
                 "done; kill -9 $attached"),
            MYSQL_READY,
            undo=RESTORE_MYDB,
            mydb_detached="mydb was started attached (stdout, stderr), not with --detach"),
    spoiler("mysql refuses the root password", {"mydb.version"},
            Step(f'docker exec mydb sh -c "{ALTER_ROOT_PASSWORD}"'),
            undo=RESTORE_MYDB,
            mydb_version="the server did not answer a query with the root password"),
    spoiler("mydb renamed mydb2", MYDB,
            Step("docker container rename mydb mydb2"),
            undo=(Step("docker container rename mydb2 mydb"),),
            mydb_running="found no container named mydb"),
)  # fmt: skip

TASK2 = (
    spoiler("Dockerfile missing instructions", {"tweet.dockerfile"},
            Files("~/linux_tweet_app", {"Dockerfile": "from nginx:latest\ncopy index.html "
                  '/usr/share/nginx/html\n# EXPOSE 80 443\nCMD ["nginx"]\n'}),
            undo=(CLONE_TWEET_APP,),
            tweet_dockerfile="no COPY of linux.png"),
    spoiler("no tweet app folder", {"tweet.dockerfile", "tweet.serves"},
            Step("mv ~/linux_tweet_app ~/spoiled-tweet-app"),
            undo=(Step("mv ~/spoiled-tweet-app ~/linux_tweet_app"),),
            tweet_dockerfile="found no Dockerfile at", tweet_serves="cannot compare the page"),
    spoiler("image not built from the Dockerfile", {"tweet.image"},
            Step("docker image tag nginx:latest $DOCKERID/linux_tweet_app:2.0"),
            Step("docker image rm --force $DOCKERID/linux_tweet_app:1.0"),
            undo=(BUILD_TWEET_APP, Step("docker image rm $DOCKERID/linux_tweet_app:2.0")),
            tweet_image="was not built from your Dockerfile"),
    spoiler("published on another port", {"tweet.published", "tweet.serves"},
            Step("docker container rm --force linux_tweet_app"),
            Step(RUN_TWEET_APP.command.replace("80:80", "8080:80")),
            undo=RESTORE_TWEET,
            tweet_published="on host port 8080, not 80", tweet_serves="nothing answers at"),
    spoiler("port 80 already taken", {"tweet.published", "tweet.serves"},
            Step("docker container rm --force linux_tweet_app"),
            Step("docker container run --detach --publish 80:80 --name spoiled-web nginx:latest"),
            Step(f"{RUN_TWEET_APP.command} || true"),
            undo=(Step("docker container rm --force spoiled-web"), *RESTORE_TWEET),
            tweet_published="was created but is not running",
            tweet_serves="does not serve your index.html"),
    spoiler("served page changed in the container", {"tweet.serves"},
            Step("docker exec linux_tweet_app sh -c "
                 "'echo defaced > /usr/share/nginx/html/index.html'"),
            undo=RESTORE_TWEET,
            tweet_serves="does not serve your index.html"),
    spoiler("tweet app container removed", {"tweet.published", "tweet.serves"},
            Step("docker container rm --force linux_tweet_app"),
            undo=(RUN_TWEET_APP,),
            tweet_published="found no container of the tweet app image"),
)  # fmt: skip

TASK3 = (
    spoiler("ourfiglet missing", {"figlet.image", "figlet.committed", "figlet.runs"},
            KEEP_FIGLET, Step("docker image rm ourfiglet"),
            undo=PUT_FIGLET_BACK,
            figlet_image="found no image tagged ourfiglet"),
    spoiler("ourfiglet built from a Dockerfile", {"figlet.committed"},
            KEEP_FIGLET, Files("~/spoiled-figlet", {"Dockerfile": FIGLET_DOCKERFILE}),
            Step("docker image build --tag ourfiglet .", cwd="~/spoiled-figlet"),
            undo=(*PUT_FIGLET_BACK, Step("rm -r ~/spoiled-figlet")),
            figlet_committed="not committed from a container"),
    spoiler("ourfiglet committed without figlet", {"figlet.runs"},
            KEEP_FIGLET, Step("docker container run --name spoiled-plain ubuntu touch /notes.txt"),
            Step("docker image tag \"$(docker container commit spoiled-plain)\" ourfiglet"),
            undo=(*PUT_FIGLET_BACK, Step("docker container rm spoiled-plain")),
            figlet_runs="exited with code 127"),
    spoiler("ourfiglet committed from alpine", {"figlet.committed", "figlet.runs"},
            KEEP_FIGLET, Step("docker container run --name spoiled-alpine alpine true"),
            Step("docker image tag \"$(docker container commit spoiled-alpine)\" ourfiglet"),
            undo=(*PUT_FIGLET_BACK, Step("docker container rm spoiled-alpine")),
            figlet_committed="ubuntu"),
)  # fmt: skip

TASK4 = (
    spoiler("hello prints something else", {"hello.dockerfile", "hello.runs"},
            Files(HELLO, {"index.js": 'console.log("hello world");\n'}), BUILD_HELLO,
            undo=RESTORE_HELLO,
            hello_dockerfile='index.js does not print "hello from " + the hostname',
            hello_runs="printed 'hello world'"),
    spoiler("hello built without WORKDIR", {"hello.dockerfile", "hello.image", "hello.runs"},
            Files(HELLO, {"Dockerfile": HELLO_DOCKERFILE.replace("WORKDIR /app\n", "")}),
            BUILD_HELLO,
            undo=RESTORE_HELLO,
            hello_dockerfile="no WORKDIR /app",
            hello_image="its working directory is /, not /app"),
    spoiler("hello built on ubuntu", {"hello.dockerfile", "hello.image"},
            Files(HELLO, {"Dockerfile": UBUNTU_NODE_DOCKERFILE}), BUILD_HELLO,
            undo=RESTORE_HELLO,
            hello_image="not built on the local alpine image"),
    spoiler("hello:v0.1 missing", {"hello.dockerfile", "hello.image", "hello.runs"},
            Step("docker image tag hello:v0.1 spoiled:hello"), Step("docker image rm hello:v0.1"),
            undo=(Step("docker image tag spoiled:hello hello:v0.1"),
                  Step("docker image rm spoiled:hello")),
            hello_image="found no image hello:v0.1"),
)  # fmt: skip

SPOILERS = (*TASK1, *TASK2, *TASK3, *TASK4)
