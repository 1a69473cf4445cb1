"""Image references parse and compare the way Docker resolves them."""

from __future__ import annotations

import pytest

from grader.imageref import (
    ImageRef,
    effective_tag,
    is_repository,
    parse_image_ref,
    same_repository,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "path", "tag", "digest", "familiar"),
    [
        ("mysql", "docker.io", "library/mysql", None, None, "mysql"),
        ("mysql:latest", "docker.io", "library/mysql", "latest", None, "mysql"),
        ("mysql:8.0", "docker.io", "library/mysql", "8.0", None, "mysql"),
        ("docker.io/library/mysql:latest", "docker.io", "library/mysql", "latest", None, "mysql"),
        ("index.docker.io/library/mysql", "docker.io", "library/mysql", None, None, "mysql"),
        ("docker.io/mysql", "docker.io", "library/mysql", None, None, "mysql"),
        (f"mysql@{DIGEST}", "docker.io", "library/mysql", None, DIGEST, "mysql"),
        (f"mysql:8.0@{DIGEST}", "docker.io", "library/mysql", "8.0", DIGEST, "mysql"),
        ("localhost:5000/x/y:tag", "localhost:5000", "x/y", "tag", None, "localhost:5000/x/y"),
        ("localhost:5000/x", "localhost:5000", "x", None, None, "localhost:5000/x"),
        (
            "dockerid/linux_tweet_app:1.0",
            "docker.io",
            "dockerid/linux_tweet_app",
            "1.0",
            None,
            "dockerid/linux_tweet_app",
        ),
        ("localhost/ourfiglet", "localhost", "ourfiglet", None, None, "localhost/ourfiglet"),
        ("ourfiglet", "docker.io", "library/ourfiglet", None, None, "ourfiglet"),
        ("hello:v0.1", "docker.io", "library/hello", "v0.1", None, "hello"),
        ("ghcr.io/org/app:v1-rc_2", "ghcr.io", "org/app", "v1-rc_2", None, "ghcr.io/org/app"),
        ("quay.io/a/b/c", "quay.io", "a/b/c", None, None, "quay.io/a/b/c"),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None, "[::1]:5000/app"),
        ("Registry/app", "Registry", "app", None, None, "Registry/app"),
        ("docker.io/library/a/b", "docker.io", "library/a/b", None, None, "library/a/b"),
        ("my-app__x.y:1", "docker.io", "library/my-app__x.y", "1", None, "my-app__x.y"),
        ("a---b", "docker.io", "library/a---b", None, None, "a---b"),
    ],
)
def test_parse(
    text: str, registry: str, path: str, tag: str | None, digest: str | None, familiar: str
) -> None:
    ref = parse_image_ref(text)
    assert ref == ImageRef(registry=registry, path=path, tag=tag, digest=digest)
    assert ref.familiar_name == familiar


@pytest.mark.parametrize(
    "text",
    [
        "",
        " mysql",
        "mysql ",
        "MySQL",
        "dockerid/Linux_tweet_app",
        "mysql:",
        "mysql:-bad",
        "mysql:" + "a" * 129,
        "mysql@sha256:abc",
        "mysql@sha256:" + "AB" * 32,
        "mysql@md5:" + "ab" * 16,
        "mysql@",
        "/mysql",
        "mysql/",
        "a//b",
        "-mysql",
        "mysql_",
        "a..b",
        "a___b",
        "ab" * 32,
        "bad_host:5000/x",
        "a/" + "b" * 260,
        "my sql",
    ],
)
def test_junk_raises(text: str) -> None:
    with pytest.raises(ValueError, match="invalid image reference"):
        parse_image_ref(text)


def test_not_a_string_raises() -> None:
    with pytest.raises(ValueError):
        parse_image_ref(None)  # type: ignore[arg-type]


def test_str_is_the_familiar_form() -> None:
    assert str(parse_image_ref("docker.io/library/mysql:8.0")) == "mysql:8.0"
    assert str(parse_image_ref(f"index.docker.io/library/mysql@{DIGEST}")) == f"mysql@{DIGEST}"
    assert str(parse_image_ref("localhost/ourfiglet")) == "localhost/ourfiglet"
    assert parse_image_ref("mysql").name == "docker.io/library/mysql"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("docker.io/library/mysql", "mysql", True),
        ("index.docker.io/library/mysql:5.7", "mysql:latest", True),
        (f"mysql@{DIGEST}", "mysql:8.0", True),
        ("mysql", "mariadb", False),
        ("localhost/mysql", "mysql", False),
        ("dockerid/linux_tweet_app:1.0", "docker.io/dockerid/linux_tweet_app", True),
        ("localhost:5000/x/y", "x/y", False),
    ],
)
def test_same_repository(a: str, b: str, same: bool) -> None:
    assert same_repository(a, b) is same
    assert same_repository(parse_image_ref(a), b) is same


@pytest.mark.parametrize(
    "ref",
    [
        "ourfiglet",
        "ourfiglet:latest",
        "localhost/ourfiglet:latest",
        "docker.io/library/ourfiglet",
        "index.docker.io/library/ourfiglet:1",
        f"ourfiglet@{DIGEST}",
    ],
)
def test_is_repository_accepts(ref: str) -> None:
    assert is_repository(ref, "ourfiglet")
    assert is_repository(parse_image_ref(ref), "ourfiglet:latest")


@pytest.mark.parametrize(
    "ref",
    ["ourfiglet2", "me/ourfiglet", "localhost:5000/ourfiglet", "quay.io/ourfiglet", "Bad Ref"],
)
def test_is_repository_rejects(ref: str) -> None:
    assert not is_repository(ref, "ourfiglet")


def test_is_repository_localhost_can_be_refused() -> None:
    assert not is_repository("localhost/ourfiglet", "ourfiglet", also_localhost=False)
    assert is_repository("ourfiglet", "ourfiglet", also_localhost=False)


def test_is_repository_with_namespaced_name() -> None:
    assert is_repository("localhost/dockerid/linux_tweet_app:1.0", "dockerid/linux_tweet_app")
    assert not is_repository("localhost/linux_tweet_app", "dockerid/linux_tweet_app")
    assert not is_repository("localhost/ourfiglet", "localhost:5000/ourfiglet")


def test_is_repository_with_bad_wanted_name() -> None:
    assert not is_repository("ourfiglet", "Our Figlet")


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("mysql", "latest"),
        ("mysql:8.0", "8.0"),
        (f"mysql@{DIGEST}", None),
        (f"mysql:8.0@{DIGEST}", "8.0"),
        ("localhost:5000/x", "latest"),
    ],
)
def test_effective_tag(text: str, tag: str | None) -> None:
    assert effective_tag(text) == tag
    assert parse_image_ref(text).effective_tag == tag


def test_ref_is_frozen_and_hashable() -> None:
    ref = parse_image_ref("mysql")
    with pytest.raises(AttributeError):
        ref.tag = "x"  # type: ignore[misc]
    assert {ref, parse_image_ref("docker.io/library/mysql")} == {ref}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty or surrounded by spaces"),
        (" mysql", "empty or surrounded by spaces"),
        ("MySQL", "'MySQL' must be lowercase"),
        ("my$sql", "'my$sql' is not valid"),
        (f"mysql@foo@{DIGEST}", f"bad digest 'foo@{DIGEST}'"),
        ("example.com/a:x/b", "'a:x' is not valid"),
        ("a/" + "b" * 244, "name longer than 255 characters"),
    ],
)
def test_junk_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_image_ref(text)
    assert str(raised.value).startswith("invalid image reference ")
    assert str(raised.value).endswith(problem)


def test_a_name_of_exactly_255_characters_is_accepted() -> None:
    path = "a/" + "b" * 243  # docker.io/ + 245 = 255
    assert len(parse_image_ref(path).name) == 255


@pytest.mark.parametrize("thing", [5, b"mysql", ["mysql"]])
def test_anything_but_text_is_no_reference(thing: object) -> None:
    with pytest.raises(ValueError, match="empty or surrounded by spaces"):
        parse_image_ref(thing)  # type: ignore[arg-type]
