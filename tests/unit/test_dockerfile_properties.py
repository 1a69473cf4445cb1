"""Properties of the Dockerfile reader on random text (Hypothesis; bounded in conftest.py).

A student's Dockerfile can hold anything: the reader and every helper a check calls must
give an answer for it, never an exception, and what they answer keeps Docker's rules.
"""

from __future__ import annotations

import json
import re
import shlex

from hypothesis import given
from hypothesis import strategies as st

from checks.docker_beginners.nginx import runs_nginx_foreground
from checks.docker_beginners.test_task2_tweet_app import _dockerfile_problems as tweet_problems
from checks.docker_beginners.test_task4_hello import _dockerfile_problems as hello_problems
from grader import dockerfile
from grader.dockerfile import parse_dockerfile

PIECES = st.sampled_from(
    [
        "FROM", "from", "RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "EXPOSE", "WORKDIR", "SHELL",
        "ENV", "LABEL", "ARG", "USER", "AS", "--from=a", "--chown=x:y", "--", "[", "]", '"',
        "'", "\\", "\n", "\r\n", " ", "\t", "#", "# escape=`\n", "`", "$X", "80", "80/udp",
        "1-65535", "nginx", "alpine", "/app", "..", "-g", "daemon off;", '["a", "b"]', "{}",
        "\ufeff", "=", "a=b", "<<EOF\n", "index.html", "/usr/share/nginx/html",
    ]
)  # fmt: skip
DOCKERFILES = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=40).map("".join))
PORT = re.compile(r"[1-9][0-9]{0,4}/(tcp|udp|sctp)")


@given(DOCKERFILES)
def test_any_text_reads_without_an_exception_and_keeps_docker_rules(text: str) -> None:
    instrs = parse_dockerfile(text)
    lines = [instr.line for instr in instrs]
    assert lines == sorted(lines) and all(line >= 1 for line in lines)
    for instr in instrs:
        assert instr.keyword == instr.keyword.upper() and instr.keyword != "COMMENT"
        assert all(isinstance(arg, str) for arg in instr.args)
        assert not instr.json_form or instr.keyword in dockerfile._JSON_CAPABLE
    for port in dockerfile.exposed_ports(instrs):
        assert PORT.fullmatch(port) and 0 < int(port.split("/")[0]) <= 65535
    cmd = dockerfile.command(instrs)
    assert cmd is None or all(isinstance(word, str) for word in cmd)
    dockerfile.command(instrs, "ENTRYPOINT")
    dockerfile.command_words(instrs)
    assert (dockerfile.workdir(instrs) or "/").startswith("/")
    dockerfile.base_images(instrs)
    dockerfile.copies(instrs)
    dockerfile.runs(instrs)
    runs_nginx_foreground(cmd)
    assert all(isinstance(problem, str) for problem in tweet_problems(instrs))
    assert all(isinstance(problem, str) for problem in hello_problems(instrs))


WORDS = st.lists(
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12),
    min_size=1,
    max_size=5,
)


@given(st.sampled_from(["RUN", "CMD", "ENTRYPOINT"]), WORDS)
def test_an_argv_written_in_json_form_reads_back(keyword: str, argv: list[str]) -> None:
    (_, instr) = parse_dockerfile(f"FROM a\n{keyword} {json.dumps(argv)}\n")
    assert instr.json_form and instr.args == tuple(argv)
    if keyword != "RUN":
        assert (
            dockerfile.command(parse_dockerfile(f"FROM a\n{keyword} {json.dumps(argv)}\n"), keyword)
            == argv
        )


@given(WORDS.filter(lambda words: not words[0].startswith(("[", "-"))))
def test_a_shell_form_command_reads_back_as_its_words(words: list[str]) -> None:
    line = shlex.join(words)
    instrs = parse_dockerfile(f"FROM a\nCMD {line}\n")
    assert dockerfile.command_words(instrs) == words
    assert dockerfile.command(instrs) == ["/bin/sh", "-c", line]
