"""A Dockerfile read the way Docker reads it, so checks can ask what an image will be.

``dockerfile-parse`` does the line work Docker's parser does (parser directives such as
``# escape=``, comments, ``\\`` continuations, instruction case); this module adds what it
leaves to its callers: builder flags, JSON versus shell form, and argv as Docker would run it.
Variables (``$VAR``) are not expanded and heredocs (``RUN <<EOF``) are not understood.
"""

from __future__ import annotations

import io
import json
import posixpath
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dockerfile_parse import DockerfileParser

DEFAULT_SHELL = ("/bin/sh", "-c")
# Instructions whose arguments Docker tries as a JSON array before the shell form.
_JSON_CAPABLE = frozenset({"RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "VOLUME", "SHELL"})
# Shell-form instructions Docker hands to the shell whole; their words are only for matching.
_SHELL_COMMANDS = frozenset({"RUN", "CMD", "ENTRYPOINT"})
# Instructions whose whole argument is one string (``WORKDIR /my dir`` is one path).
_ONE_STRING = frozenset({"WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER"})
_KEY_VALUE = frozenset({"ENV", "LABEL"})
_PROTOCOLS = frozenset({"tcp", "udp", "sctp"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction after continuations are joined.

    ``flags`` maps builder flags by name without dashes (``--chown=a:b`` is ``{"chown": "a:b"}``,
    a bare ``--link`` maps to ``""``). ``args`` is the argv: the decoded JSON array in JSON form,
    otherwise the words as Docker splits them (quote-aware words for RUN/CMD/ENTRYPOINT, which
    Docker itself hands to the shell as ``raw``). ``raw`` is the text after keyword and flags;
    ``line`` is where the instruction starts, counting from 1.
    """

    keyword: str
    flags: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    json_form: bool = False
    raw: str = ""
    line: int = 0


def parse_dockerfile(text: str) -> tuple[Instruction, ...]:
    """Every instruction of ``text`` in order; comments and blank lines are dropped."""
    text = text.removeprefix("\ufeff")  # Docker ignores a UTF-8 byte order mark
    if not text.strip():
        return ()
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
    return tuple(
        _instruction(item["instruction"], item["value"], item["startline"] + 1)
        for item in parser.structure
        if item["instruction"] != "COMMENT"
    )


def _instruction(keyword: str, value: str, line: int) -> Instruction:
    keyword = keyword.upper()
    flags, raw = _split_flags(value.strip())
    if keyword in _JSON_CAPABLE:
        argv = _json_array(raw)
        if argv is not None:
            return Instruction(keyword, flags, tuple(argv), True, raw, line)
    return Instruction(keyword, flags, _words(keyword, raw), False, raw, line)


def _split_flags(text: str) -> tuple[dict[str, str], str]:
    """Take the leading ``--name[=value]`` words off, as Docker's parser does for every keyword."""
    flags: dict[str, str] = {}
    rest = text
    while rest.startswith("--"):
        split = _first_word(rest)
        if split is None:  # an unbalanced quote: Docker fails the build, we stop reading flags
            break
        word, rest = split
        if word == "--":
            break
        name, _, flag_value = _unquote(word)[2:].partition("=")
        flags[name] = flag_value
    return flags, rest


def _first_word(text: str) -> tuple[str, str] | None:
    """The first whitespace-delimited word (quotes may hold spaces) and the text after it."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char.isspace():
            return text[:index], text[index:].lstrip()
    return None if quote else (text, "")


def _json_array(text: str) -> list[str] | None:
    """The argv of a JSON-form argument, or None when Docker would fall back to shell form."""
    if not text.startswith("["):
        return None
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    if not isinstance(decoded, list) or not all(isinstance(item, str) for item in decoded):
        return None
    return decoded


def _words(keyword: str, raw: str) -> tuple[str, ...]:
    if keyword in _ONE_STRING:
        return (raw,) if raw else ()
    if keyword in _SHELL_COMMANDS:
        return tuple(shell_words(raw))
    if keyword in _KEY_VALUE:
        return tuple(_key_values(raw))
    return tuple(_unquote(word) for word in raw.split())


def shell_words(text: str) -> list[str]:
    """Split like a POSIX shell; text a shell would reject is split on whitespace."""
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def _unquote(word: str) -> str:
    words = shell_words(word)
    return words[0] if len(words) == 1 else word


def _key_values(raw: str) -> list[str]:
    """``ENV a=1 b="x y"`` gives ``a=1``, ``b=x y``; the legacy ``ENV a x y`` gives ``a=x y``."""
    if not raw:
        return []
    name, *rest = raw.split(None, 1)
    if "=" not in name:
        return [f"{name}={rest[0] if rest else ''}"]
    return shell_words(raw)


def _stages(instrs: Iterable[Instruction]) -> list[list[Instruction]]:
    """The instructions grouped by stage, each group starting with its FROM."""
    stages: list[list[Instruction]] = []
    for instr in instrs:
        if instr.keyword == "FROM" or not stages:
            stages.append([])
        stages[-1].append(instr)
    return stages


def _stage_name(stage: Sequence[Instruction]) -> str | None:
    head = stage[0]
    if head.keyword == "FROM" and len(head.args) >= 3 and head.args[1].lower() == "as":
        return head.args[2].lower()
    return None


def _final_lineage(instrs: Iterable[Instruction]) -> list[Instruction]:
    """The final image's instructions, including stages it is built ``FROM`` by name."""
    stages = _stages(instrs)
    if not stages:
        return []
    chain = [len(stages) - 1]
    while True:
        head = stages[chain[0]][0]
        if head.keyword != "FROM" or not head.args:  # a FROM without an image names no stage
            break
        parent = head.args[0].lower()
        earlier = [i for i in range(chain[0]) if _stage_name(stages[i]) == parent]
        if not earlier:
            break
        chain.insert(0, earlier[-1])
    return [instr for i in chain for instr in stages[i] if instr.keyword != "FROM"]


def base_images(instrs: Iterable[Instruction]) -> list[str]:
    """The image references of FROM lines; earlier stage names and ``scratch`` are no images."""
    names: set[str] = set()
    bases: list[str] = []
    for stage in _stages(instrs):
        head = stage[0]
        if head.keyword != "FROM" or not head.args:
            continue
        ref = head.args[0]
        if ref.lower() not in names and ref.lower() != "scratch":
            bases.append(ref)
        name = _stage_name(stage)
        if name:
            names.add(name)
    return bases


def copies(instrs: Iterable[Instruction]) -> list[tuple[tuple[str, ...], str]]:
    """``(sources, destination)`` of every COPY and ADD that names both."""
    return [
        (instr.args[:-1], instr.args[-1])
        for instr in instrs
        if instr.keyword in {"COPY", "ADD"} and len(instr.args) >= 2
    ]


def exposed_ports(instrs: Iterable[Instruction]) -> set[str]:
    """The final image's exposed ports as Docker records them (``"80/tcp"``).

    Ranges expand to each port; a port Docker would refuse is left out.
    """
    ports: set[str] = set()
    for instr in _final_lineage(instrs):
        if instr.keyword == "EXPOSE":
            for spec in instr.args:
                ports.update(_port_spec(spec))
    return ports


def _port_spec(spec: str) -> list[str]:
    number, _, protocol = spec.partition("/")
    protocol = (protocol or "tcp").lower()
    first, _, last = number.partition("-")
    if protocol not in _PROTOCOLS or not first.isdigit() or not (last or first).isdigit():
        return []
    low, high = int(first), int(last or first)
    if not 0 < low <= high <= 65535:
        return []
    return [f"{port}/{protocol}" for port in range(low, high + 1)]


def command(instrs: Iterable[Instruction], keyword: str = "CMD") -> list[str] | None:
    """The final image's CMD (or ENTRYPOINT) as the argv Docker stores.

    Shell form becomes the current SHELL plus the raw string (``["/bin/sh", "-c", raw]``).
    None when the Dockerfile sets none and the base image's would apply.
    """
    shell: tuple[str, ...] = DEFAULT_SHELL
    argv: list[str] | None = None
    for instr in _final_lineage(instrs):
        if instr.keyword == "SHELL" and instr.json_form and instr.args:
            shell = instr.args
        elif instr.keyword == keyword.upper():
            argv = list(instr.args) if instr.json_form else [*shell, instr.raw]
    return argv


def command_words(instrs: Iterable[Instruction], keyword: str = "CMD") -> list[str] | None:
    """The words of the final CMD (or ENTRYPOINT) for matching, whatever its form."""
    last = [i for i in _final_lineage(instrs) if i.keyword == keyword.upper()]
    return list(last[-1].args) if last else None


def workdir(instrs: Iterable[Instruction]) -> str | None:
    """The final image's working directory, relative WORKDIRs resolved as Docker does."""
    current: str | None = None
    for instr in _final_lineage(instrs):
        if instr.keyword == "WORKDIR" and instr.raw:
            current = posixpath.normpath(posixpath.join("/", current or "/", instr.raw))
    return current


def runs(instrs: Iterable[Instruction]) -> list[Instruction]:
    """Every RUN instruction, in order."""
    return [instr for instr in instrs if instr.keyword == "RUN"]


def process_words(argv: Sequence[str] | None) -> list[str]:
    """The words of the program ``argv`` runs, looking through ``sh -c "..."`` and ``exec``.

    A shell-form ``CMD nginx -g "daemon off;"`` is stored as ``["/bin/sh", "-c", "nginx -g
    \"daemon off;\""]``; a check asking "does it run nginx?" wants ``["nginx", "-g",
    "daemon off;"]`` from either form.
    """
    words = list(argv or ())
    if words and posixpath.basename(words[0]) in _SHELLS and len(words) >= 3 and words[1] == "-c":
        words = shell_words(words[2])
    if words and words[0] == "exec":
        words = words[1:]
    return words
