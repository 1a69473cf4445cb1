"""Where settings come from: command line, then environment, then grade.toml, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.errors import SettingsError
from grader.settings import DEFAULT_CHECK_TIMEOUT, resolve_settings

NO_CLI: dict[str, object | None] = {}


def resolve(tmp_path: Path, cli=NO_CLI, environ=None):  # type: ignore[no-untyped-def]
    return resolve_settings(cli=cli, environ=environ or {}, cwd=tmp_path, home=Path("/home/ada"))


def test_defaults(tmp_path: Path) -> None:
    settings = resolve(tmp_path)
    assert settings.dockerid is None
    assert settings.tweet_app == Path("/home/ada/linux_tweet_app")
    assert settings.hello_dir is None
    assert settings.check_timeout == DEFAULT_CHECK_TIMEOUT


def test_command_line_beats_environment_beats_file(tmp_path: Path) -> None:
    (tmp_path / "grade.toml").write_text('dockerid = "file"\ntweet_app = "~/tweet"\n')
    assert resolve(tmp_path).dockerid == "file"
    assert resolve(tmp_path).tweet_app == Path("/home/ada/tweet")
    assert resolve(tmp_path, environ={"DOCKERID": "env"}).dockerid == "env"
    assert resolve(tmp_path, {"dockerid": "cli"}, {"DOCKERID": "env"}).dockerid == "cli"


def test_relative_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    assert resolve(tmp_path, {"hello_dir": "hello"}).hello_dir == tmp_path / "hello"


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("dockerid = 3", "grade.toml: dockerid must be a non-empty string, not 3"),
        ('dockerid = "a/b"', "grade.toml: dockerid must be a Docker ID without spaces"),
        ("check_timeout = -1", "grade.toml: check_timeout must be between 0 and 3600"),
        ('check_timeout = "soon"', "grade.toml: check_timeout must be a number of seconds"),
        ("colour = true", "grade.toml: unknown setting 'colour'"),
        ("dockerid = ", "grade.toml: not valid TOML"),
    ],
)
def test_a_bad_value_names_where_it_came_from(tmp_path: Path, content: str, error: str) -> None:
    (tmp_path / "grade.toml").write_text(content)
    with pytest.raises(SettingsError) as raised:
        resolve(tmp_path)
    assert error in str(raised.value)
    assert str(tmp_path) in str(raised.value)


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^\$DOCKERID: dockerid must be a Docker ID"):
        resolve(tmp_path, environ={"DOCKERID": "two words"})


@pytest.mark.parametrize(
    "content", ["points = 3\n", '[points]\n"a.b" = -1\n', '[points]\n"a.b" = true\n']
)
def test_a_bad_rubric_file_is_a_settings_error(tmp_path: Path, content: str) -> None:
    from grader.runner import load_points

    rubric = tmp_path / "rubric.toml"
    rubric.write_text(content)
    with pytest.raises(SettingsError, match=r"\[points\] must map check ids to whole numbers"):
        load_points(rubric)
