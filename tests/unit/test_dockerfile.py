"""Dockerfiles read the way Docker reads them: the lab's own and the awkward ones students write."""

from __future__ import annotations

import pytest

from checks.docker_beginners.nginx import runs_nginx_foreground
from grader.dockerfile import (
    Instruction,
    base_images,
    command,
    command_words,
    copies,
    exposed_ports,
    parse_dockerfile,
    runs,
    workdir,
)

TWEET_APP = """\
FROM nginx:latest

COPY index.html /usr/share/nginx/html
COPY linux.png /usr/share/nginx/html

EXPOSE 80 443

CMD ["nginx", "-g", "daemon off;"]
"""

# Today's upstream clone: a pinned base, and an EXPOSE line ending in a space and a tab.
TWEET_APP_UPSTREAM = TWEET_APP.replace("nginx:latest", "nginx:1.23.0").replace(
    "EXPOSE 80 443\n", "EXPOSE 80 443 \t\n"
)

HELLO = """\
FROM alpine
RUN apk update && apk add nodejs
COPY . /app
WORKDIR /app
CMD ["node","index.js"]
"""


def test_tweet_app() -> None:
    instrs = parse_dockerfile(TWEET_APP)
    assert [i.keyword for i in instrs] == ["FROM", "COPY", "COPY", "EXPOSE", "CMD"]
    assert [i.line for i in instrs] == [1, 3, 4, 6, 8]
    assert base_images(instrs) == ["nginx:latest"]
    assert copies(instrs) == [
        (("index.html",), "/usr/share/nginx/html"),
        (("linux.png",), "/usr/share/nginx/html"),
    ]
    assert exposed_ports(instrs) == {"80/tcp", "443/tcp"}
    assert command(instrs) == ["nginx", "-g", "daemon off;"]
    assert runs_nginx_foreground(command(instrs))
    assert workdir(instrs) is None
    assert runs(instrs) == []


def test_tweet_app_upstream_clone() -> None:
    instrs = parse_dockerfile(TWEET_APP_UPSTREAM)
    assert base_images(instrs) == ["nginx:1.23.0"]
    assert exposed_ports(instrs) == {"80/tcp", "443/tcp"}
    expose = instrs[3]
    assert expose.args == ("80", "443")
    assert runs_nginx_foreground(command(instrs))


def test_hello_app() -> None:
    instrs = parse_dockerfile(HELLO)
    assert base_images(instrs) == ["alpine"]
    (run,) = runs(instrs)
    assert run.raw == "apk update && apk add nodejs"
    assert run.args == ("apk", "update", "&&", "apk", "add", "nodejs")
    assert not run.json_form
    assert copies(instrs) == [((".",), "/app")]
    assert workdir(instrs) == "/app"
    assert command(instrs) == ["node", "index.js"]
    assert command_words(instrs) == ["node", "index.js"]
    assert exposed_ports(instrs) == set()


def test_keywords_in_any_case() -> None:
    instrs = parse_dockerfile("from nginx\nCopy a b\nexPose 80\ncmd nginx\n")
    assert [i.keyword for i in instrs] == ["FROM", "COPY", "EXPOSE", "CMD"]
    assert base_images(instrs) == ["nginx"]
    assert copies(instrs) == [(("a",), "b")]


def test_comments_and_blank_lines_are_dropped() -> None:
    text = "# a comment\n\n   \nFROM alpine\n  # indented comment\nRUN echo hi # not a comment\n"
    instrs = parse_dockerfile(text)
    assert [(i.keyword, i.line) for i in instrs] == [("FROM", 4), ("RUN", 6)]
    assert instrs[1].raw == "echo hi # not a comment"


def test_backslash_continuations_join_like_docker() -> None:
    text = "FROM alpine\nRUN apk update && \\\n    # comment inside\n    apk add nodejs\n"
    (_, run) = parse_dockerfile(text)
    assert run.line == 2
    assert run.raw == "apk update &&     apk add nodejs"
    assert run.args == ("apk", "update", "&&", "apk", "add", "nodejs")


def test_escape_directive_changes_the_continuation_character() -> None:
    text = "# escape=`\nFROM alpine\nRUN echo one `\n  two\nCOPY a b\n"
    instrs = parse_dockerfile(text)
    assert [i.keyword for i in instrs] == ["FROM", "RUN", "COPY"]
    assert instrs[1].args == ("echo", "one", "two")
    assert instrs[2].line == 5


def test_escape_directive_makes_backslash_literal() -> None:
    text = "# escape=`\nFROM windows\nRUN dir c:\\\nWORKDIR c:\\app\n"
    instrs = parse_dockerfile(text)
    assert [i.keyword for i in instrs] == ["FROM", "RUN", "WORKDIR"]
    assert instrs[1].raw == "dir c:\\"


def test_crlf_line_endings() -> None:
    instrs = parse_dockerfile('FROM alpine\r\nEXPOSE 80\r\nCMD ["sh"]\r\n')
    assert exposed_ports(instrs) == {"80/tcp"}
    assert command(instrs) == ["sh"]


def test_byte_order_mark_is_ignored() -> None:
    assert parse_dockerfile("\ufeffFROM alpine\n")[0].keyword == "FROM"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "  \t \n"])
def test_empty_file(text: str) -> None:
    instrs = parse_dockerfile(text)
    assert instrs == ()
    assert base_images(instrs) == []
    assert copies(instrs) == []
    assert exposed_ports(instrs) == set()
    assert command(instrs) is None
    assert command_words(instrs) is None
    assert workdir(instrs) is None


def test_shell_form_cmd_runs_through_sh() -> None:
    instrs = parse_dockerfile('FROM nginx\nCMD nginx -g "daemon off;"\n')
    cmd = instrs[1]
    assert not cmd.json_form
    assert cmd.raw == 'nginx -g "daemon off;"'
    assert cmd.args == ("nginx", "-g", "daemon off;")
    assert command(instrs) == ["/bin/sh", "-c", 'nginx -g "daemon off;"']
    assert command_words(instrs) == ["nginx", "-g", "daemon off;"]


@pytest.mark.parametrize(
    "bad", ["[nginx, -g]", "['nginx']", '["nginx", 1]', '["nginx"', '{"a": "b"}', "[]x"]
)
def test_malformed_json_is_shell_form(bad: str) -> None:
    instrs = parse_dockerfile(f"FROM nginx\nCMD {bad}\n")
    assert not instrs[1].json_form
    assert command(instrs) == ["/bin/sh", "-c", bad]


def test_json_form_details() -> None:
    instrs = parse_dockerfile('FROM a\nENTRYPOINT [ "a b", "c\\"d" ]\nCMD []\n')
    assert instrs[1].json_form
    assert instrs[1].args == ("a b", 'c"d')
    assert command(instrs, "ENTRYPOINT") == ["a b", 'c"d']
    assert command(instrs) == []


def test_json_only_where_docker_accepts_it() -> None:
    (_, expose) = parse_dockerfile('FROM a\nEXPOSE ["80"]\n')
    assert not expose.json_form


def test_copy_and_add_json_form_and_flags() -> None:
    text = (
        "FROM alpine AS build\n"
        'COPY --chown=app:app ["my file.txt", "b", "/dest/"]\n'
        "ADD --chmod=644 https://example.org/x.tgz /opt/\n"
        "FROM alpine\n"
        "COPY --from=build --link /out /app\n"
    )
    instrs = parse_dockerfile(text)
    assert instrs[1].flags == {"chown": "app:app"}
    assert instrs[1].json_form
    assert instrs[2].flags == {"chmod": "644"}
    assert instrs[4].flags == {"from": "build", "link": ""}
    assert copies(instrs) == [
        (("my file.txt", "b"), "/dest/"),
        (("https://example.org/x.tgz",), "/opt/"),
        (("/out",), "/app"),
    ]


def test_copy_with_one_argument_is_not_a_copy() -> None:
    assert copies(parse_dockerfile("FROM a\nCOPY onlyone\n")) == []


def test_flags_with_quotes_and_double_dash() -> None:
    (_, run, frm) = parse_dockerfile(
        'FROM a\nRUN --mount="type=cache,target=/c" -- --not-a-flag\n'
        "FROM --platform=linux/amd64 b\n"
    )
    assert run.flags == {"mount": "type=cache,target=/c"}
    assert run.raw == "--not-a-flag"
    assert frm.flags == {"platform": "linux/amd64"}
    assert frm.args == ("b",)


def test_unbalanced_quote_in_flag_stops_flag_reading() -> None:
    (_, run) = parse_dockerfile('FROM a\nRUN --mount="x echo\n')
    assert run.flags == {}
    assert run.raw == '--mount="x echo'


def test_shell_words_fall_back_on_unbalanced_quotes() -> None:
    (_, run) = parse_dockerfile("FROM a\nRUN echo \"it's\n")
    assert run.args == ("echo", "\"it's")


def test_base_images_skip_stage_names() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n"
        "FROM build AS test\n"
        "FROM scratch\n"
        "FROM nginx:1.23.0 as final\n"
        "FROM BUILD\n"
    )
    assert base_images(parse_dockerfile(text)) == ["golang:1.22", "nginx:1.23.0"]


def test_a_later_stage_name_does_not_hide_an_earlier_image() -> None:
    text = "FROM node AS a\nFROM a AS node\n"
    assert base_images(parse_dockerfile(text)) == ["node"]


def test_final_stage_decides_cmd_ports_and_workdir() -> None:
    text = (
        'FROM alpine AS build\nWORKDIR /src\nEXPOSE 9999\nCMD ["build"]\n'
        "FROM nginx\nCOPY --from=build /src /usr/share/nginx/html\nEXPOSE 80\n"
    )
    instrs = parse_dockerfile(text)
    assert command(instrs) is None  # nginx's own CMD applies
    assert exposed_ports(instrs) == {"80/tcp"}
    assert workdir(instrs) is None


def test_final_stage_inherits_from_a_named_stage() -> None:
    text = (
        'FROM alpine AS base\nWORKDIR /app\nEXPOSE 80\nCMD ["node", "index.js"]\n'
        "FROM base\nWORKDIR lib\n"
    )
    instrs = parse_dockerfile(text)
    assert command(instrs) == ["node", "index.js"]
    assert exposed_ports(instrs) == {"80/tcp"}
    assert workdir(instrs) == "/app/lib"


def test_shell_instruction_changes_shell_form() -> None:
    text = 'FROM a\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD echo hi\n'
    assert command(parse_dockerfile(text)) == ["/bin/bash", "-o", "pipefail", "-c", "echo hi"]


def test_last_cmd_wins() -> None:
    instrs = parse_dockerfile('FROM a\nCMD ["one"]\nCMD two three\n')
    assert command(instrs) == ["/bin/sh", "-c", "two three"]
    assert command_words(instrs) == ["two", "three"]


@pytest.mark.parametrize(
    ("line", "ports"),
    [
        ("EXPOSE 80", {"80/tcp"}),
        ("EXPOSE 80/tcp", {"80/tcp"}),
        ("EXPOSE 80/udp", {"80/udp"}),
        ("EXPOSE 80/UDP 53/sctp", {"80/udp", "53/sctp"}),
        ("EXPOSE 80 443", {"80/tcp", "443/tcp"}),
        ("EXPOSE 80 443 \t", {"80/tcp", "443/tcp"}),
        ("EXPOSE\t80\t443/tcp  ", {"80/tcp", "443/tcp"}),
        ("EXPOSE 8000-8002", {"8000/tcp", "8001/tcp", "8002/tcp"}),
        ("EXPOSE 80/http 0 70000 9-8 x", set()),
        ('EXPOSE "80"', {"80/tcp"}),
    ],
)
def test_exposed_ports(line: str, ports: set[str]) -> None:
    assert exposed_ports(parse_dockerfile(f"FROM a\n{line}\n")) == ports


def test_exposed_ports_accumulate() -> None:
    text = "FROM a\nEXPOSE 80\nEXPOSE 443\n"
    assert exposed_ports(parse_dockerfile(text)) == {"80/tcp", "443/tcp"}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["WORKDIR /app"], "/app"),
        (["WORKDIR /app", "WORKDIR src"], "/app/src"),
        (["WORKDIR app"], "/app"),
        (["WORKDIR /a/b/", "WORKDIR ../c"], "/a/c"),
        (["WORKDIR /my dir"], "/my dir"),
    ],
)
def test_workdir(lines: list[str], expected: str) -> None:
    assert workdir(parse_dockerfile("FROM a\n" + "\n".join(lines) + "\n")) == expected


def test_env_and_label_words() -> None:
    (_, env, legacy, label) = parse_dockerfile(
        'FROM a\nENV A=1 B="x y"\nENV NAME\tsome value\nLABEL maintainer="me <m@e>"\n'
    )
    assert env.args == ("A=1", "B=x y")
    assert legacy.args == ("NAME=some value",)
    assert label.args == ("maintainer=me <m@e>",)


def test_instruction_without_arguments() -> None:
    (_, cmd) = parse_dockerfile("FROM a\nCMD\n")
    assert cmd == Instruction(keyword="CMD", args=(), raw="", line=2)


def test_instruction_is_frozen() -> None:
    (instr,) = parse_dockerfile("FROM a\n")
    with pytest.raises(AttributeError):
        instr.keyword = "RUN"  # type: ignore[misc]


@pytest.mark.parametrize(
    "argv",
    [
        ["nginx", "-g", "daemon off;"],
        ["/usr/sbin/nginx", "-g", "daemon off;"],
        ["/bin/sh", "-c", 'nginx -g "daemon off;"'],
        ["/bin/sh", "-c", "nginx -g 'daemon off;'"],
        ["/bin/sh", "-c", "exec nginx -g 'daemon off;'"],
        ["nginx", "-g", "pid /tmp/n.pid; daemon  off;"],
        ["nginx", "-c", "/etc/nginx/nginx.conf", "-g", "daemon off; "],
        ["bash", "-c", "nginx -g 'daemon off;'"],
    ],
)
def test_runs_nginx_foreground(argv: list[str]) -> None:
    assert runs_nginx_foreground(argv)


@pytest.mark.parametrize(
    "argv",
    [
        None,
        [],
        ["nginx"],
        ["nginx", "-g", "daemon on;"],
        ["nginx", "-g", "daemon off"],
        ["nginx", "-g"],
        ["nginx", "-g", "daemon off; worker_processes"],
        ["/bin/sh", "-c", "nginx"],
        ["/bin/sh", "-c"],
        ["apache2", "-g", "daemon off;"],
        ["nginx-debug-wrapper", "-g", "daemon off;"],
        ["echo", "nginx", "-g", "daemon off;"],
    ],
)
def test_runs_nginx_in_background_or_not_at_all(argv: list[str] | None) -> None:
    assert not runs_nginx_foreground(argv)


def test_lab_shell_form_variants_through_the_parser() -> None:
    for cmd in ('CMD nginx -g "daemon off;"', "CMD nginx -g 'daemon off;'"):
        assert runs_nginx_foreground(command(parse_dockerfile(f"FROM nginx\n{cmd}\n")))
    assert not runs_nginx_foreground(command(parse_dockerfile('FROM nginx\nCMD ["nginx"]\n')))


# Decisions the checks rest on, each on the input that tells them apart.


def test_an_arg_before_from_is_no_stage_and_no_base() -> None:
    text = 'ARG TAG=latest\nFROM nginx:$TAG\nEXPOSE 80\nCMD ["nginx", "-g", "daemon off;"]\n'
    instrs = parse_dockerfile(text)
    assert base_images(instrs) == ["nginx:$TAG"]
    assert exposed_ports(instrs) == {"80/tcp"}
    assert command(instrs) == ["nginx", "-g", "daemon off;"]


def test_a_named_final_stage_built_on_an_earlier_one_inherits_it() -> None:
    text = (
        "FROM nginx AS base\nEXPOSE 80\n"
        "FROM alpine AS tools\nEXPOSE 9999\n"
        'FROM base AS final\nCMD ["nginx", "-g", "daemon off;"]\n'
    )
    instrs = parse_dockerfile(text)
    assert base_images(instrs) == ["nginx", "alpine"]
    assert exposed_ports(instrs) == {"80/tcp"}
    assert command(instrs) == ["nginx", "-g", "daemon off;"]


def test_a_dockerfile_without_from_starting_with_a_bare_instruction() -> None:
    instrs = parse_dockerfile("EXPOSE\nCMD two\n")
    assert base_images(instrs) == []
    assert command(instrs) == ["/bin/sh", "-c", "two"]
    assert exposed_ports(instrs) == set()


def test_variables_are_not_expanded() -> None:
    instrs = parse_dockerfile("FROM a\nENV PORT=80\nEXPOSE $PORT\nWORKDIR /$PORT\n")
    assert instrs[2].args == ("$PORT",)
    assert exposed_ports(instrs) == set()
    assert workdir(instrs) == "/$PORT"


def test_json_form_run_keeps_its_raw_text() -> None:
    (_, run) = parse_dockerfile('FROM a\nRUN ["apk", "add", "nodejs"]\n')
    assert run == Instruction(
        "RUN", {}, ("apk", "add", "nodejs"), True, '["apk", "add", "nodejs"]', 2
    )
    assert runs(parse_dockerfile('FROM a\nRUN ["apk", "add", "nodejs"]\n')) == [run]


def test_a_hash_inside_a_shell_command_is_a_word() -> None:
    (_, run) = parse_dockerfile("FROM a\nRUN echo hi # not a comment\n")
    assert run.args == ("echo", "hi", "#", "not", "a", "comment")


def test_flags_with_nothing_after_them() -> None:
    (_, run) = parse_dockerfile("FROM a\nRUN --network=none\n")
    assert run.flags == {"network": "none"}
    assert (run.raw, run.args) == ("", ())


def test_a_flag_value_may_hold_any_letter() -> None:
    (_, copy) = parse_dockerfile("FROM a\nCOPY --chown=Xavier:staff a b\n")
    assert copy.flags == {"chown": "Xavier:staff"}
    assert copy.args == ("a", "b")


def test_one_string_instructions() -> None:
    (_, user, empty) = parse_dockerfile("FROM a\nUSER app user\nUSER\n")
    assert user.args == ("app user",)
    assert empty.args == ()


def test_a_legacy_env_without_a_value() -> None:
    (_, env) = parse_dockerfile("FROM a\nENV NAME\n")
    assert env.args == ("NAME=",)


@pytest.mark.parametrize(
    ("line", "ports"),
    [
        ("EXPOSE 1", {"1/tcp"}),
        ("EXPOSE 65535", {"65535/tcp"}),
        ("EXPOSE 65536", set()),
        ("EXPOSE x-80 80-x", set()),
        ("EXPOSE 65534-65536", set()),
    ],
)
def test_exposed_port_edges(line: str, ports: set[str]) -> None:
    assert exposed_ports(parse_dockerfile(f"FROM a\n{line}\n")) == ports


def test_a_from_without_an_image_names_no_base_and_no_parent() -> None:
    instrs = parse_dockerfile("FROM\nEXPOSE 80\nFROM\nCMD two\n")
    assert base_images(instrs) == []
    assert exposed_ports(instrs) == set()
    assert command(instrs) == ["/bin/sh", "-c", "two"]
