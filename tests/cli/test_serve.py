"""``deconfliction serve`` and ``policy show``; settings precedence (file < env < flags)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import httpx

from deconfliction.model import DEFAULT_POLICY_TOML
from tests.cli.conftest import cli_subprocess, start_serve, stop


def test_serve_on_an_empty_store_hints_at_admin_init(tmp_path: Path) -> None:
    proc, url, lines = start_serve(tmp_path / "d")
    try:
        assert lines[0] == (
            f"the hub has no parties yet: run `deconfliction admin init --data-dir {tmp_path / 'd'}` "
            "for the first admin token"
        )
        assert (
            lines[1] == f"serving on {url} (console: {url}/, API docs: {url}/docs); Ctrl-C to stop"
        )
        assert httpx.get(f"{url}/docs").status_code == 200
    finally:
        stop(proc)


def test_serve_after_init_says_nothing_about_init(tmp_path: Path) -> None:
    assert cli_subprocess("admin", "init", "--data-dir", str(tmp_path)).returncode == 0
    policy = tmp_path / "policy.toml"
    policy.write_text("[defaults]\nmin_lead_time_min = 5\n")
    proc, url, lines = start_serve(tmp_path, "--policy", str(policy))
    try:
        assert lines == [
            f"serving on {url} (console: {url}/, API docs: {url}/docs); Ctrl-C to stop"
        ]
    finally:
        stop(proc)


def test_port_in_use_and_bad_policy_are_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = cli_subprocess("serve", "--port", str(port), "--data-dir", str(tmp_path))
    assert r.returncode == 3
    assert (
        r.stderr
        == f"deconfliction: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
    bad = tmp_path / "policy.toml"
    bad.write_text("[defaults]\nmin_lead_time_minutes = 5\n")
    r = cli_subprocess("serve", "--port", "0", "--data-dir", str(tmp_path), "--policy", str(bad))
    assert r.returncode == 2
    assert r.stderr.startswith("deconfliction: error: defaults.min_lead_time_minutes: unknown key")
    assert r.stderr.count("\n") == 1
    r = cli_subprocess("serve", "--port", "http")
    assert r.returncode == 2
    assert (
        r.stderr
        == "deconfliction serve: error: argument --port: invalid int value: 'http' (see --help)\n"
    )


def test_settings_file_then_env_then_flags(tmp_path: Path, cli: Any, monkeypatch: Any) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text(f'data_dir = "{tmp_path / "file"}"\n')
    monkeypatch.setenv("DECONFLICTION_DATA_DIR", str(tmp_path / "env"))
    assert (
        cli("admin", "init", "--config", str(cfg), "--data-dir", str(tmp_path / "flag")).code == 0
    )
    assert cli("admin", "init", "--config", str(cfg)).code == 0
    monkeypatch.delenv("DECONFLICTION_DATA_DIR")
    assert cli("admin", "init", "--config", str(cfg)).code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["env", "file", "flag"]


def test_policy_show(cli: Any) -> None:
    r = cli("policy", "show")
    assert r.code == 0
    assert r.out == DEFAULT_POLICY_TOML
    assert "min_lead_time_min = 2880" in r.out


def test_environment_is_not_needed() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICTION_")}
    r = cli_subprocess("--version", env=env)
    assert r.returncode == 0
    assert r.stdout.startswith("deconfliction ")


def test_serve_with_a_bus_url_joins_the_nats_bus(tmp_path: Path, nats_server: Any) -> None:
    extra = ("--bus-url", nats_server.url, "--node-name", "cli-node")
    proc, url, _ = start_serve(tmp_path, *extra)
    try:
        bus = httpx.get(f"{url}/readyz", timeout=5).json()["bus"]
        assert (bus["node"], bus["connected"]) == ("cli-node", True)
    finally:
        stop(proc)
