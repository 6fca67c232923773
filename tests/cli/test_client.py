"""Client configuration precedence (flags > env > file) and one-line errors, against a real hub."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from deconfliction.cli._client import (
    DEFAULT_URL,
    ClientConfig,
    HubClient,
    client_config_path,
    problem_line,
    resolve_config,
)
from deconfliction.cli._errors import Refused, Unreachable, UsageError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_flags_win_over_env_over_file(tmp_path: Path) -> None:
    f = tmp_path / "client.toml"
    f.write_text('url = "http://file:1"\ntoken = "file-token"\n')
    env = {"DECONFLICTION_URL": "http://env:2", "DECONFLICTION_TOKEN": "env-token"}
    cfg = resolve_config(url="http://flag:3", token="flag-token", env=env, path=f)
    assert (cfg.url, cfg.token) == ("http://flag:3", "flag-token")
    assert (cfg.url_source, cfg.token_source) == ("--url", "--token")
    cfg = resolve_config(url=None, token=None, env=env, path=f)
    assert (cfg.url, cfg.token) == ("http://env:2", "env-token")
    cfg = resolve_config(url=None, token=None, env={}, path=f)
    assert (cfg.url, cfg.token, cfg.url_source) == ("http://file:1", "file-token", str(f))
    cfg = resolve_config(url=None, token=None, env={}, path=tmp_path / "missing.toml")
    assert (cfg.url, cfg.token) == (DEFAULT_URL, None)


def test_config_path_follows_the_environment(tmp_path: Path) -> None:
    assert client_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "deconfliction" / "client.toml"
    )
    assert client_config_path({"DECONFLICTION_CLIENT_CONFIG": "/x/c.toml"}) == Path("/x/c.toml")
    assert client_config_path({}).parts[-3:] == (".config", "deconfliction", "client.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("url = ", "not valid TOML"),
        ('urll = "http://x"', "unknown key 'urll'"),
        ("token = 3", "token must be a string"),
        ('url = "ftp://x"', "must start with http:// or https://"),
    ],
)
def test_bad_client_config_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "client.toml"
    f.write_text(text)
    with pytest.raises(UsageError, match=message):
        resolve_config(url=None, token=None, env={}, path=f)


def test_problem_line_is_one_line() -> None:
    r = httpx.Response(
        422,
        json={
            "type": "x",
            "title": "Invalid input",
            "status": 422,
            "detail": "the request does not match its schema",
            "errors": [{"field": "kind", "reason": "bad\nvalue"}],
        },
    )
    assert problem_line(r) == (
        "422 Invalid input: the request does not match its schema: kind: bad value"
    )
    r = httpx.Response(
        409,
        json={
            "title": "Version conflict",
            "detail": "a: b",
            "errors": [{"field": "a", "reason": "b"}],
        },
    )
    assert problem_line(r) == "409 Version conflict: a: b"
    assert problem_line(httpx.Response(502, text="<html>")) == "502 Bad Gateway"


def test_unreachable_hub_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with HubClient(ClientConfig(url, "t")) as c, pytest.raises(Unreachable) as exc:
        c.get("/v1/me")
    assert str(exc.value) == f"cannot reach {url}: connection refused"
    assert exc.value.exit_code == 3


def test_refusals_carry_the_status(hub) -> None:  # type: ignore[no-untyped-def]
    with HubClient(ClientConfig(hub.url, "not-a-token")) as c, pytest.raises(Refused) as exc:
        c.get("/v1/me")
    assert exc.value.status == 401
    assert str(exc.value).startswith("401 Unauthorized: ")
    with HubClient(ClientConfig(hub.url, hub.tokens["Blue"])) as c:
        assert c.get("/v1/me")["party"]["name"] == "Blue"
        assert c.party_id("green") == hub.parties["Green"]
        with pytest.raises(UsageError, match="no party"):
            c.party_id("Purple")


def test_precedence_end_to_end(hub, cli, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dead = f"http://127.0.0.1:{_free_port()}"
    f = tmp_path / "client.toml"
    f.write_text(f'url = "{hub.url}"\ntoken = "{hub.tokens["Green"]}"\n')
    monkeypatch.setenv("DECONFLICTION_CLIENT_CONFIG", str(f))
    r = cli("whoami", "--json")
    assert r.code == 0, r.err
    assert r.json()["party"]["name"] == "Green"  # type: ignore[index]
    # the environment overrides the file ...
    monkeypatch.setenv("DECONFLICTION_TOKEN", hub.tokens["Red"])
    assert cli("whoami", "--json").json()["party"]["name"] == "Red"  # type: ignore[index]
    monkeypatch.setenv("DECONFLICTION_URL", dead)
    r = cli("whoami")
    assert (r.code, r.err) == (
        3,
        f"deconfliction: error: cannot reach {dead}: connection refused\n",
    )
    # ... and flags override the environment
    r = cli("whoami", "--url", hub.url, "--token", hub.tokens["Civil"])
    assert r.code == 0
    assert r.out.startswith("Civil (air_navigation_service")
    assert "url from --url, token from --token" in r.out
    monkeypatch.setenv("DECONFLICTION_TOKEN", "dh_wrong")
    r = cli("whoami", "--url", hub.url)
    assert r.code == 1
    assert r.err.count("\n") == 1
    assert r.err.startswith("deconfliction: error: 401 Unauthorized: ")
