"""Where settings come from: command line, then environment, then grade.toml, then defaults."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import pytest

from checks.docker_beginners.settings import BeginnersSettings
from grader import setting
from grader.errors import SettingsError
from grader.run.runner import load_point_overrides
from grader.settings import (
    ConfigFile,
    RunSettings,
    SettingField,
    SettingInfo,
    fields_of,
    parse_assignments,
    reported_values,
    resolve,
)

HOME = Path("/home/ada")


def settings_of(
    tmp_path: Path,
    cli: dict[str, object | None] | None = None,
    environ: dict[str, str] | None = None,
    kind: type = BeginnersSettings,
) -> Any:
    """Resolve ``kind`` as ``grade`` does, unknown keys of grade.toml refused."""
    config = ConfigFile.read(tmp_path)
    config.refuse_unknown(RunSettings, BeginnersSettings)
    return resolve(kind, cli=cli or {}, environ=environ or {}, config=config, home=HOME)


def test_defaults(tmp_path: Path) -> None:
    settings = settings_of(tmp_path)
    assert settings.dockerid is None
    assert settings.tweet_app == Path("/home/ada/linux_tweet_app")
    assert settings.hello_dir is None
    run = settings_of(tmp_path, kind=RunSettings)
    assert run.check_timeout == 30.0
    assert run.run_timeout == 180.0
    assert run.rubric is None and run.lab is None


def test_command_line_beats_environment_beats_file(tmp_path: Path) -> None:
    (tmp_path / "grade.toml").write_text('dockerid = "file"\ntweet_app = "~/tweet"\n')
    assert settings_of(tmp_path).dockerid == "file"
    assert settings_of(tmp_path).tweet_app == Path("/home/ada/tweet")
    assert settings_of(tmp_path, environ={"DOCKERID": "env"}).dockerid == "env"
    assert settings_of(tmp_path, {"dockerid": "cli"}, {"DOCKERID": "env"}).dockerid == "cli"


def test_relative_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    assert settings_of(tmp_path, {"hello_dir": "hello"}).hello_dir == tmp_path / "hello"


def test_valid_run_settings_are_read_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "grade.toml").write_text(
        'check_timeout = 5\nrun_timeout = "90.5"\nrubric = "points.toml"\n'
        'lab = "docker_beginners"\n'
    )
    run = settings_of(tmp_path, kind=RunSettings)
    assert run.check_timeout == 5.0
    assert run.run_timeout == 90.5
    assert run.rubric == tmp_path / "points.toml"
    assert run.lab == "docker_beginners"


def test_the_command_line_sets_a_timeout_too(tmp_path: Path) -> None:
    (tmp_path / "grade.toml").write_text("check_timeout = 5\n")
    assert settings_of(tmp_path, {"check_timeout": "7"}, kind=RunSettings).check_timeout == 7.0


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("dockerid = 3", "grade.toml: dockerid must be a non-empty string, not 3"),
        ('dockerid = "a/b"', "grade.toml: dockerid must be a Docker ID without spaces"),
        ("check_timeout = -1", "grade.toml: check_timeout must be between 0 and 3600"),
        ("check_timeout = 3601", "grade.toml: check_timeout must be between 0 and 3600"),
        ('check_timeout = "soon"', "grade.toml: check_timeout must be a number of seconds"),
        ("check_timeout = true", "grade.toml: check_timeout must be a number of seconds"),
        ("run_timeout = [1]", "grade.toml: run_timeout must be a number of seconds"),
        ("colour = true", "grade.toml: unknown setting 'colour'"),
        ("dockerid = ", "grade.toml: not valid TOML"),
    ],
)
def test_a_bad_value_names_where_it_came_from(tmp_path: Path, content: str, error: str) -> None:
    (tmp_path / "grade.toml").write_text(content)
    with pytest.raises(SettingsError) as raised:
        settings_of(tmp_path)
        settings_of(tmp_path, kind=RunSettings)
    assert error in str(raised.value)
    assert str(tmp_path) in str(raised.value)


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^\$DOCKERID: dockerid must be a Docker ID"):
        settings_of(tmp_path, environ={"DOCKERID": "two words"})


def test_a_bad_option_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^--run-timeout: run_timeout must be between"):
        settings_of(tmp_path, {"run_timeout": "0"}, kind=RunSettings)


@pytest.mark.parametrize(
    "content", ["points = 3\n", '[points]\n"a.b" = -1\n', '[points]\n"a.b" = true\n']
)
def test_a_bad_rubric_file_is_a_settings_error(tmp_path: Path, content: str) -> None:
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(content)
    with pytest.raises(SettingsError, match=r"\[points\] must map check ids to whole numbers"):
        load_point_overrides(rubric)


def test_point_overrides_are_read(tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[points]\n"alpine.hostname" = 3\n"mydb.image" = 0\n')
    assert load_point_overrides(rubric) == {"alpine.hostname": 3, "mydb.image": 0}
    assert load_point_overrides(None) == {}


def test_only_settings_declared_reported_go_into_the_report(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, {"dockerid": "ada", "hello_dir": "/x"})
    assert reported_values(settings) == {"dockerid": "ada"}
    assert reported_values(settings_of(tmp_path)) == {}


def test_lab_set_assignments(tmp_path: Path) -> None:
    assert parse_assignments(["dockerid=ada", "tweet_app=a=b"], "--lab-set") == {
        "dockerid": "ada",
        "tweet_app": "a=b",
    }
    with pytest.raises(SettingsError, match=r"^--lab-set: expected NAME=VALUE, not 'ada'"):
        parse_assignments(["ada"], "--lab-set")


def test_a_setting_must_be_declared_with_a_known_type() -> None:
    @dataclass(frozen=True)
    class Odd:
        count: int = setting(default=1)

    @dataclass(frozen=True)
    class Bare:
        name: str = "x"

    with pytest.raises(TypeError, match="a str, a Path or a float"):
        fields_of(Odd)
    with pytest.raises(TypeError, match="is not made with setting"):
        fields_of(Bare)


# Each decision of the settings layer, asserted whole.


def test_a_setting_declared_bare_has_the_documented_defaults() -> None:
    @dataclass(frozen=True)
    class Bare:
        name: str | None = setting()

    (field,) = fields_of(Bare)
    assert field == SettingField("name", str, True, None, SettingInfo())
    assert SettingInfo() == SettingInfo(None, "", "VALUE", None, False)


def test_a_settings_declaration_is_kept_whole() -> None:
    def no_spaces(value: str) -> str | None:
        return "one word" if " " in value else None

    @dataclass(frozen=True)
    class Full:
        where: Path = setting(
            default="~/x",
            env="WHERE",
            help="Where.",
            metavar="DIR",
            must_be=no_spaces,
            reported=True,
        )

    (field,) = fields_of(Full)
    assert field == SettingField(
        "where", Path, False, "~/x", SettingInfo("WHERE", "Where.", "DIR", no_spaces, True)
    )
    assert field.option == "--where"


def test_optional_is_read_from_the_type() -> None:
    optional = {field.name: field.optional for field in fields_of(BeginnersSettings)}
    assert optional == {"dockerid": True, "tweet_app": False, "hello_dir": True}


def test_optional_may_be_spelled_with_typing() -> None:
    @dataclass(frozen=True)
    class Old:
        name: Optional[str] = setting()  # noqa: UP045 (a lab may still write it so)
        where: Union[Path, None] = setting()  # noqa: UP007

    assert [(f.kind, f.optional) for f in fields_of(Old)] == [(str, True), (Path, True)]


@dataclass(frozen=True)
class StrOrPath:
    value: str | Path = setting()


@dataclass(frozen=True)
class StrOrPathOrNone:
    value: str | Path | None = setting()


@dataclass(frozen=True)
class IntOrNone:
    value: int | None = setting()


@pytest.mark.parametrize("declared", [StrOrPath, StrOrPathOrNone, IntOrNone])
def test_a_union_of_two_kinds_is_refused_by_name(declared: type) -> None:
    with pytest.raises(TypeError, match="a setting is a str, a Path or a float"):
        fields_of(declared)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("run_timeout = false", "run_timeout must be a number of seconds, not False"),
        ("check_timeout = true", "check_timeout must be a number of seconds, not True"),
        ("check_timeout = nan", "check_timeout must be between 0 and 3600 seconds, not nan"),
        ("check_timeout = inf", "check_timeout must be between 0 and 3600 seconds, not inf"),
        ("check_timeout = 0", "check_timeout must be between 0 and 3600 seconds, not 0"),
        ("rubric = true", "rubric must be a non-empty string, not True"),
        ('lab = "  "', "lab must be a non-empty string, not '  '"),
    ],
)
def test_no_bool_nan_or_blank_passes_for_a_run_setting(
    tmp_path: Path, content: str, error: str
) -> None:
    (tmp_path / "grade.toml").write_text(content + "\n")
    with pytest.raises(SettingsError) as raised:
        settings_of(tmp_path, kind=RunSettings)
    assert str(raised.value) == f"{tmp_path / 'grade.toml'}: {error}"


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), ("3600", 3600.0), (" 12 ", 12.0)])
def test_timeouts_at_the_edges(tmp_path: Path, value: str, seconds: float) -> None:
    run = settings_of(tmp_path, {"check_timeout": value, "run_timeout": value}, kind=RunSettings)
    assert (run.check_timeout, run.run_timeout) == (seconds, seconds)


def test_a_home_alone_is_the_home(tmp_path: Path) -> None:
    assert settings_of(tmp_path, {"tweet_app": "~"}).tweet_app == HOME
    assert settings_of(tmp_path, {"tweet_app": " ~/a "}).tweet_app == HOME / "a"
    assert settings_of(tmp_path, {"tweet_app": "~a"}).tweet_app == tmp_path / "~a"
    assert settings_of(tmp_path, {"tweet_app": "/srv/app"}).tweet_app == Path("/srv/app")


def test_relative_paths_follow_the_base_when_one_is_given(tmp_path: Path) -> None:
    config = ConfigFile.read(tmp_path)
    remote = Path("/home/student")
    settings = resolve(
        BeginnersSettings,
        cli={"hello_dir": "hello"},
        environ={},
        config=config,
        home=HOME,
        base=remote,
    )
    assert settings.hello_dir == remote / "hello"
    assert settings.tweet_app == HOME / "linux_tweet_app"


def test_a_bad_default_names_the_default() -> None:
    @dataclass(frozen=True)
    class Slow:
        wait: float = setting(default=-1.0)

    with pytest.raises(SettingsError, match=r"^default: wait must be between 0 and 3600"):
        resolve(Slow, cli={}, environ={}, config=ConfigFile(Path("grade.toml"), {}), home=HOME)


def test_an_unknown_key_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "grade.toml").write_text("colour = true\n")
    with pytest.raises(SettingsError) as raised:
        settings_of(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'grade.toml'}: unknown setting 'colour' (known: check_timeout, dockerid, "
        "hello_dir, lab, rubric, run_timeout, tweet_app)"
    )


def test_a_working_directory_that_cannot_be_looked_into_has_no_grade_toml(
    tmp_path: Path,
) -> None:
    unreachable = tmp_path / ("x" * 300)  # stat fails with ENAMETOOLONG, not ENOENT
    assert ConfigFile.read(unreachable).values == {}


def test_a_grade_toml_that_cannot_be_read_is_a_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "grade.toml").write_text('lab = "x"\n')

    def broken_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(Path, "open", broken_open)
    with pytest.raises(SettingsError) as raised:
        ConfigFile.read(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'grade.toml'}: cannot read it (Input/output error)"
