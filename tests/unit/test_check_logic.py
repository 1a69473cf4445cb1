"""The checks' pure logic: reading the lab's Dockerfiles and the figlet banner, no engine."""

from __future__ import annotations

from checks.docker_beginners.test_task2_tweet_app import _copies_into_html
from checks.docker_beginners.test_task2_tweet_app import _dockerfile_problems as tweet_problems
from checks.docker_beginners.test_task3_figlet import HELLO_BANNER
from checks.docker_beginners.test_task4_hello import _dockerfile_problems as hello_problems
from checks.docker_beginners.test_task4_hello import _runs_node_index
from devlab.model_student import HELLO_DOCKERFILE, TWEET_DOCKERFILE
from grader.dockerfile import parse_dockerfile

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


def test_tweet_files_may_be_named_by_path_and_copied_to_their_own_names() -> None:
    by_path = (
        "FROM nginx\nCOPY static/index.html ./img/linux.png /usr/share/nginx/html/\n"
        'EXPOSE 80\nCMD ["nginx", "-g", "daemon off;"]\n'
    )
    assert tweet_problems(parse_dockerfile(by_path)) == []
    to_files = (
        "FROM nginx\nCOPY index.html /usr/share/nginx/html/index.html\n"
        "COPY linux.png /usr/share/nginx/html/linux.png\n"
        'EXPOSE 80\nCMD ["nginx", "-g", "daemon off;"]\n'
    )
    assert tweet_problems(parse_dockerfile(to_files)) == []


def test_tweet_files_copied_elsewhere_and_no_cmd() -> None:
    text = "FROM nginx:1.23.0\nCOPY index.html linux.png /usr/share/nginx/\nEXPOSE 80/tcp\n"
    assert tweet_problems(parse_dockerfile(text)) == [
        "no COPY of index.html into /usr/share/nginx/html",
        "no COPY of linux.png into /usr/share/nginx/html",
        'no CMD (it should run nginx -g "daemon off;")',
    ]


def test_every_missing_hello_instruction_is_named() -> None:
    assert hello_problems(parse_dockerfile("")) == [
        "FROM (none), not alpine",
        "no RUN apk add nodejs",
        "no COPY . /app",
        "no WORKDIR /app",
        "CMD does not run node index.js",
    ]


def test_hello_must_copy_the_whole_folder_into_app() -> None:
    only_script = HELLO_DOCKERFILE.replace("COPY . /app", "COPY index.js /app")
    assert hello_problems(parse_dockerfile(only_script)) == ["no COPY . /app"]
    with_slash = HELLO_DOCKERFILE.replace("COPY . /app", "COPY . /app/")
    assert hello_problems(parse_dockerfile(with_slash)) == []


def test_node_index_by_path_but_not_as_one_word() -> None:
    assert _runs_node_index(["/usr/bin/node", "/app/index.js"])
    assert not _runs_node_index(["/usr/bin/env", "FOO=1", "node index.js"])
    assert not _runs_node_index(["/bin/sh", "-c", "node other.js"])


def test_a_history_entry_of_a_copy_into_the_html_folder() -> None:
    assert _copies_into_html("COPY file:4a9e3c in /usr/share/nginx/html ")
    assert _copies_into_html("COPY index.html /usr/share/nginx/html # buildkit")
    assert not _copies_into_html("ADD index.html /usr/share/nginx/html")
    assert not _copies_into_html("COPY . /app # buildkit")


def test_a_name_one_letter_off_is_not_the_name() -> None:
    tweet = (
        "FROM nginx\nCOPY index.htmlX /usr/share/nginx/html\n"
        "COPY linux.png /usr/share/nginx/htmlX\n"
        'EXPOSE 80\nCMD ["nginx", "-g", "daemon off;"]\n'
    )
    assert tweet_problems(parse_dockerfile(tweet)) == [
        "no COPY of index.html into /usr/share/nginx/html",
        "no COPY of linux.png into /usr/share/nginx/html",
    ]
    hello = HELLO_DOCKERFILE.replace("COPY . /app", "COPY . /appX").replace(
        "WORKDIR /app", "WORKDIR /appX"
    )
    assert hello_problems(parse_dockerfile(hello)) == ["no COPY . /app", "no WORKDIR /app"]
