"""The checks' pure logic: reading the lab's Dockerfiles and the figlet banner, no engine."""

from __future__ import annotations

from checks.docker_beginners.test_task2_tweet_app import _dockerfile_problems as tweet_problems
from checks.docker_beginners.test_task3_figlet import HELLO_BANNER
from checks.docker_beginners.test_task4_hello import _dockerfile_problems as hello_problems
from checks.docker_beginners.test_task4_hello import _runs_node_index
from grader.dockerfile import parse_dockerfile
from tests.lab.model_student import HELLO_DOCKERFILE, TWEET_DOCKERFILE

UPSTREAM_TWEET = """FROM nginx:1.23.0

COPY index.html /usr/share/nginx/html
COPY linux.png /usr/share/nginx/html

EXPOSE 80 443 \t

CMD ["nginx", "-g", "daemon off;"]
"""


def test_the_lab_dockerfiles_have_no_problems() -> None:
    assert tweet_problems(parse_dockerfile(TWEET_DOCKERFILE)) == []
    assert tweet_problems(parse_dockerfile(UPSTREAM_TWEET)) == []
    assert hello_problems(parse_dockerfile(HELLO_DOCKERFILE)) == []


def test_every_wrong_instruction_is_named() -> None:
    problems = tweet_problems(parse_dockerfile("FROM ubuntu\nCOPY index.html /tmp/\nCMD nginx\n"))
    assert problems == [
        "FROM ubuntu, not nginx",
        "no COPY of index.html into /usr/share/nginx/html",
        "no COPY of linux.png into /usr/share/nginx/html",
        "no EXPOSE 80",
        "CMD ['/bin/sh', '-c', 'nginx'] does not run nginx -g \"daemon off;\"",
    ]
    assert tweet_problems(parse_dockerfile(""))[0] == "no FROM"


def test_hello_dockerfile_variants() -> None:
    assert (
        hello_problems(
            parse_dockerfile(
                HELLO_DOCKERFILE.replace("apk add nodejs", "apk add --no-cache nodejs")
            )
        )
        == []
    )
    broken = HELLO_DOCKERFILE.replace("WORKDIR /app\n", "").replace("FROM alpine", "FROM ubuntu")
    assert hello_problems(parse_dockerfile(broken)) == [
        "FROM ubuntu, not alpine",
        "no WORKDIR /app",
    ]
    assert _runs_node_index(["node", "index.js"])
    assert _runs_node_index(["/bin/sh", "-c", "node index.js"])
    assert not _runs_node_index(["node", "/app/other.js"])


def test_the_banner_is_figlets_hello() -> None:
    assert len(HELLO_BANNER) == 5
    assert HELLO_BANNER[-1] == "|_| |_|\\___|_|_|\\___/"
