"""The engine ``docker`` would pick: -H, $DOCKER_HOST, $DOCKER_CONTEXT, config.json, default.

Each case builds a real context store (as ``docker context create`` writes it) in a
temporary DOCKER_CONFIG; tests/engine/test_engine_choice.py compares the same cases
with the real ``docker`` command.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from grader.errors import SettingsError
from grader.targets.engine_choice import (
    DEFAULT_HOST,
    EngineChoice,
    choose_engine,
    context_folder,
    docker_config_dir,
    parse_host,
)


def make_context(config_dir: Path, name: str, host: str, *, skip_tls_verify: bool = False) -> Path:
    """A context as ``docker context create NAME --docker host=HOST`` stores it."""
    folder = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    folder.mkdir(parents=True)
    meta = {
        "Name": name,
        "Metadata": {},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_tls_verify}},
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def use_context(config_dir: Path, name: str) -> None:
    """``docker context use NAME``: config.json's currentContext."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text(json.dumps({"auths": {}, "currentContext": name}))


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "docker-config"
    make_context(folder, "ctxa", "unix:///run/a.sock")
    make_context(folder, "ctxb", "unix:///run/b.sock")
    return folder


def choose(config_dir: Path, host: str | None = None, **env: str) -> EngineChoice:
    return choose_engine(
        environ={"DOCKER_CONFIG": str(config_dir), **env}, home=Path("/nohome"), host=host
    )


def test_nothing_set_is_the_default_socket(config_dir: Path) -> None:
    choice = choose(config_dir)
    assert (choice.context, choice.host) == ("default", DEFAULT_HOST)
    assert choice.host == "unix:///var/run/docker.sock"
    assert choice.chosen_by == "the default" and choice.warning == ""
    assert choice.describe() == "unix:///var/run/docker.sock (context default)"


def test_the_order_each_source_beats_the_next(config_dir: Path) -> None:
    use_context(config_dir, "ctxb")
    assert choose(config_dir).host == "unix:///run/b.sock"
    assert choose(config_dir).context == "ctxb"
    assert choose(config_dir, DOCKER_CONTEXT="ctxa").host == "unix:///run/a.sock"
    assert choose(config_dir, DOCKER_CONTEXT="ctxa").chosen_by == "$DOCKER_CONTEXT"
    with_env_host = choose(config_dir, DOCKER_CONTEXT="ctxa", DOCKER_HOST="unix:///run/h.sock")
    assert (with_env_host.context, with_env_host.host) == ("default", "unix:///run/h.sock")
    flag = choose(
        config_dir, "unix:///run/flag.sock", DOCKER_CONTEXT="ctxa", DOCKER_HOST="unix:///h"
    )
    assert (flag.context, flag.host, flag.chosen_by) == (
        "default",
        "unix:///run/flag.sock",
        "-H/--host",
    )


def test_empty_variables_count_as_unset(config_dir: Path) -> None:
    use_context(config_dir, "ctxb")
    assert choose(config_dir, DOCKER_HOST="", DOCKER_CONTEXT="").host == "unix:///run/b.sock"


def test_a_context_named_default_is_the_default_endpoint(config_dir: Path) -> None:
    use_context(config_dir, "ctxb")
    choice = choose(config_dir, DOCKER_CONTEXT="default")
    assert (choice.context, choice.host) == ("default", DEFAULT_HOST)


def test_a_missing_context_from_the_environment_is_refused(config_dir: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        choose(config_dir, DOCKER_CONTEXT="nope")
    message = str(raised.value)
    assert "$DOCKER_CONTEXT" in message and "'nope'" in message and "does not exist" in message
    assert "\n" not in message


def test_a_missing_current_context_names_the_config_file(config_dir: Path) -> None:
    use_context(config_dir, "gone")
    with pytest.raises(SettingsError, match=r"config\.json names the Docker context 'gone'"):
        choose(config_dir)


def test_docker_host_wins_over_a_missing_context(config_dir: Path) -> None:
    choice = choose(config_dir, DOCKER_CONTEXT="nope", DOCKER_HOST="unix:///run/h.sock")
    assert choice.host == "unix:///run/h.sock"


def test_docker_config_defaults_to_the_homes_dot_docker(tmp_path: Path) -> None:
    make_context(tmp_path / ".docker", "mine", "tcp://10.0.0.5:2376")
    use_context(tmp_path / ".docker", "mine")
    choice = choose_engine(environ={}, home=tmp_path)
    assert (choice.context, choice.host) == ("mine", "tcp://10.0.0.5:2376")
    assert docker_config_dir({}, None) == Path("/nonexistent/.docker")
    assert choose_engine(environ={}, home=None).host == DEFAULT_HOST


def test_an_unreadable_config_json_warns_and_takes_the_default(config_dir: Path) -> None:
    (config_dir / "config.json").write_text('{"currentContext":')
    choice = choose(config_dir)
    assert choice.host == DEFAULT_HOST
    assert "config.json" in choice.warning and "not valid JSON" in choice.warning
    (config_dir / "config.json").write_text('{"currentContext": 3}')
    assert choose(config_dir).host == DEFAULT_HOST
    assert "currentContext" in choose(config_dir).warning
    flagged = choose(config_dir, "unix:///run/flag.sock")  # docker warns whatever wins
    assert flagged.host == "unix:///run/flag.sock" and "currentContext" in flagged.warning
    (config_dir / "config.json").write_text("[]")
    assert choose(config_dir).host == DEFAULT_HOST and choose(config_dir).warning == ""


def test_a_broken_context_is_refused_in_one_line(config_dir: Path) -> None:
    folder = config_dir / "contexts" / "meta" / context_folder("ctxa")
    (folder / "meta.json").write_text("{")
    with pytest.raises(SettingsError, match="not valid JSON"):
        choose(config_dir, DOCKER_CONTEXT="ctxa")
    (folder / "meta.json").write_text(json.dumps({"Name": "ctxa", "Endpoints": {}}))
    with pytest.raises(SettingsError, match="no docker endpoint"):
        choose(config_dir, DOCKER_CONTEXT="ctxa")
    (folder / "meta.json").write_text(json.dumps({"Endpoints": {"docker": {"Host": ""}}}))
    with pytest.raises(SettingsError, match="names no docker host"):
        choose(config_dir, DOCKER_CONTEXT="ctxa")


def test_the_context_folder_is_the_sha256_of_its_name() -> None:
    # docker context create ctxa writes contexts/meta/f38a1e.../meta.json (seen with docker 28)
    assert context_folder("ctxa").startswith("f38a1edba91098e590dbe6b66a07c374")
    assert "/" not in context_folder("../../etc")


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("unix:///run/docker.sock", "unix:///run/docker.sock"),
        ("unix://", "unix:///var/run/docker.sock"),
        ("tcp://127.0.0.1", "tcp://127.0.0.1:2375"),
        ("tcp://:1", "tcp://localhost:1"),
        ("127.0.0.1:1", "tcp://127.0.0.1:1"),
        ("TCP://engine.example:2376", "tcp://engine.example:2376"),
        ("tcp://[::1]:2376", "tcp://[::1]:2376"),
        ("ssh://ada@lab-07:2222", "ssh://ada@lab-07:2222"),
        ("npipe:////./pipe/docker_engine", "npipe:////./pipe/docker_engine"),
    ],
)
def test_hosts_are_read_as_docker_reads_them(given: str, parsed: str) -> None:
    assert parse_host(given, "-H") == parsed


@pytest.mark.parametrize(
    "given",
    [
        "/tmp/docker.sock",
        "docker",
        "http://engine:2375",
        "fd://",
        "tcp://h:port",
        "ssh://",
        "tcp://h/x",
    ],
)
def test_hosts_no_client_can_dial_are_refused(given: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_host(given, "-H/--host")
    assert str(raised.value).startswith(f"-H/--host {given!r}: ")


def test_a_bare_socket_path_gets_the_fix() -> None:
    with pytest.raises(SettingsError, match=r"did you mean unix:///tmp/docker.sock\?"):
        parse_host("/tmp/docker.sock", "$DOCKER_HOST")


def test_tls_from_the_environment_for_tcp(config_dir: Path, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).write_text("x")
    host = "tcp://engine:2376"
    verified = choose(
        config_dir, DOCKER_HOST=host, DOCKER_TLS_VERIFY="0", DOCKER_CERT_PATH=str(certs)
    )
    assert verified.tls is not None and verified.tls.verify  # any non-empty value verifies
    assert (verified.tls.ca, verified.tls.cert, verified.tls.key) == (
        certs / "ca.pem",
        certs / "cert.pem",
        certs / "key.pem",
    )
    assert choose(config_dir, DOCKER_HOST=host, DOCKER_CERT_PATH=str(certs)).tls is None
    unverified = choose(config_dir, DOCKER_HOST=host, DOCKER_TLS="1", DOCKER_CERT_PATH=str(certs))
    assert unverified.tls is not None and not unverified.tls.verify and unverified.tls.ca is None
    on_unix = choose(config_dir, DOCKER_HOST="unix:///x.sock", DOCKER_TLS_VERIFY="1")
    assert on_unix.tls is None


def test_tls_verify_without_a_ca_is_refused(config_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"DOCKER_TLS_VERIFY is set but .*ca\.pem is missing"):
        choose(
            config_dir,
            DOCKER_HOST="tcp://e:2376",
            DOCKER_TLS_VERIFY="1",
            DOCKER_CERT_PATH=str(tmp_path),
        )
    # without DOCKER_CERT_PATH the certificates are looked for in the config folder
    for name in ("ca.pem", "key.pem"):
        (config_dir / name).write_text("x")
    tls = choose(config_dir, DOCKER_HOST="tcp://e:2376", DOCKER_TLS_VERIFY="1").tls
    assert tls is not None and tls.ca == config_dir / "ca.pem"
    assert tls.cert is None and tls.key == config_dir / "key.pem"


def test_tls_of_a_context_comes_from_its_store(config_dir: Path) -> None:
    make_context(config_dir, "remote", "tcp://engine:2376")
    tls_dir = config_dir / "contexts" / "tls" / context_folder("remote") / "docker"
    tls_dir.mkdir(parents=True)
    (tls_dir / "ca.pem").write_text("x")
    (tls_dir / "cert.pem").write_text("x")
    choice = choose(config_dir, DOCKER_CONTEXT="remote", DOCKER_TLS_VERIFY="1")
    assert choice.tls is not None and choice.tls.verify
    assert (choice.tls.ca, choice.tls.cert, choice.tls.key) == (
        tls_dir / "ca.pem",
        tls_dir / "cert.pem",
        None,
    )
    make_context(config_dir, "plain", "tcp://engine:2375")
    assert choose(config_dir, DOCKER_CONTEXT="plain").tls is None
    make_context(config_dir, "insecure", "tcp://engine:2376", skip_tls_verify=True)
    insecure = choose(config_dir, DOCKER_CONTEXT="insecure").tls
    assert insecure is not None and not insecure.verify


def test_the_endpoint_shown_never_carries_a_password() -> None:
    choice = EngineChoice("c", "ssh://ada:s3cret@lab-07:22", "x")
    assert choice.endpoint == "ssh://ada@lab-07:22"
    assert "s3cret" not in choice.describe()
    assert EngineChoice("c", "unix:///x.sock", "x").endpoint == "unix:///x.sock"


def test_the_context_option_beats_the_environment_and_refuses_dash_h(config_dir: Path) -> None:
    use_context(config_dir, "ctxb")
    env = {"DOCKER_CONTEXT": "ctxb", "DOCKER_HOST": "unix:///run/h.sock"}
    chosen = choose_engine(
        environ={"DOCKER_CONFIG": str(config_dir), **env}, home=None, context="ctxa"
    )
    assert (chosen.context, chosen.host, chosen.chosen_by) == (
        "ctxa",
        "unix:///run/a.sock",
        "--context",
    )
    with pytest.raises(SettingsError, match="give one of them"):
        choose_engine(environ={}, home=None, context="ctxa", host="unix:///x.sock")
    with pytest.raises(SettingsError, match="--context names the Docker context 'nope'"):
        choose_engine(environ={"DOCKER_CONFIG": str(config_dir)}, home=None, context="nope")
