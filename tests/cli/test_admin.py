"""``deconfliction admin ...``: init on a local store; parties and tokens over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import cli_subprocess


def test_init_once_then_refuses_politely(tmp_path: Path, cli: Any) -> None:
    r = cli("admin", "init", "--data-dir", str(tmp_path))
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("created the admin party 'Hub administration'")
    secret = lines[2].strip()
    assert secret.startswith("dh_")
    assert lines[3] == f"use it:  export DECONFLICTION_TOKEN={secret}"
    r = cli("admin", "init", "--data-dir", str(tmp_path))
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith(
        "deconfliction: error: the hub already has parties, so admin init did nothing"
    )
    assert r.err.count("\n") == 1


def test_init_reads_the_settings_file(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text(f'data_dir = "{tmp_path / "from-config"}"\n')
    r = cli_subprocess("admin", "init", "--config", str(cfg), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["party"]["kind"] == "other"
    assert (tmp_path / "from-config" / "hotline.db").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("port = 99999\n")
    r = cli_subprocess("admin", "init", "--config", str(bad))
    assert r.returncode == 2
    assert (
        r.stderr
        == "deconfliction: error: setting port: Input should be less than or equal to 65535\n"
    )


def test_parties(as_party: Any) -> None:
    r = as_party(
        "admin",
        "admin",
        "party",
        "add",
        "Relief Air",
        "--kind",
        "uas_operator",
        "--contact",
        "ops@relief.example",
        "--language",
        "fr",
        "--language",
        "en",
    )
    assert r.code == 0, r.err
    assert r.out.startswith("added party 'Relief Air' (uas_operator): ")
    r = as_party("Blue", "admin", "party", "list")
    assert r.code == 0
    assert any("Relief Air" in line and "fr,en" in line for line in r.out.splitlines())
    # only an admin adds parties; a duplicate name is refused
    r = as_party("Blue", "admin", "party", "add", "X", "--kind", "other")
    assert (r.code, r.err.split(":")[:3]) == (1, ["deconfliction", " error", " 403 Forbidden"])
    r = as_party("admin", "admin", "party", "add", "relief air", "--kind", "other")
    assert r.code == 1
    assert "already exists" in r.err
    r = as_party("admin", "admin", "party", "add", "Y")
    assert r.code == 2
    assert r.err == (
        "deconfliction admin party add: error: the following arguments are required: --kind (see --help)\n"
    )


def test_tokens_create_list_revoke(as_party: Any, hub: Any, cli: Any) -> None:
    r = as_party(
        "admin",
        "admin",
        "token",
        "create",
        "green",
        "--role",
        "observer",
        "--label",
        "duty desk",
        "--json",
    )
    assert r.code == 0, r.err
    t = r.json()
    assert (t["role"], t["label"], t["party_id"]) == ("observer", "duty desk", hub.parties["Green"])
    r = as_party("admin", "admin", "token", "list", hub.parties["Green"])
    assert any(
        t["id"] in line and "observer" in line and "duty desk" in line
        for line in r.out.splitlines()
    )
    assert t["secret"] not in r.out
    # the token works, an observer cannot file, then it is revoked
    r = cli("whoami", "--url", hub.url, "--token", t["secret"])
    assert "role observer" in r.out
    r = cli(
        "activity",
        "file",
        str(Path(__file__).resolve().parents[2] / "examples/demo/blue-exercise.geojson"),
        "--url",
        hub.url,
        "--token",
        t["secret"],
    )
    assert r.code == 1
    assert "403 Forbidden" in r.err
    r = as_party("admin", "admin", "token", "revoke", t["id"])
    assert r.code == 0
    assert r.out.startswith(f"revoked token {t['id']} (observer) at ")
    r = cli("whoami", "--url", hub.url, "--token", t["secret"])
    assert r.code == 1
    assert r.err == "deconfliction: error: 401 Unauthorized: the token is unknown or revoked\n"
    r = as_party("admin", "admin", "token", "create", "Nobody")
    assert (r.code, r.err) == (2, "deconfliction: error: no party with the id or name 'Nobody'\n")
