"""Settings: TOML file, then DECONFLICTION_* environment, then flags; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconfliction.api import Settings, load_settings
from deconfliction.errors import InvalidInput


def test_defaults_are_sane() -> None:
    s = Settings()
    assert (s.host, s.port, s.max_body_bytes) == ("127.0.0.1", 8000, 2 * 1024 * 1024)
    assert s.effective_database_url().startswith("sqlite:///")
    assert s.effective_database_url().endswith("/data/hotline.db")


def test_file_then_env_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text('port = 9001\nhost = "0.0.0.0"\nheartbeat_s = 5\n', encoding="utf-8")
    assert load_settings(cfg).port == 9001
    monkeypatch.setenv("DECONFLICTION_PORT", "9002")
    s = load_settings(cfg)
    assert (s.port, s.host, s.heartbeat_s) == (9002, "0.0.0.0", 5.0)
    s = load_settings(cfg, port=9003, host=None)
    assert (s.port, s.host) == (9003, "0.0.0.0")
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", "postgresql+psycopg://hub@/hotline")
    assert load_settings(None).effective_database_url() == "postgresql+psycopg://hub@/hotline"


def test_bad_config_files_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("port = ", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_settings(bad)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('host = "h\xf4te"\n'.encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"latin\.toml is not UTF-8 text"):
        load_settings(latin)
    from deconfliction.api import load_policy
    from deconfliction.errors import InvalidPolicy

    with pytest.raises(InvalidPolicy, match=r"latin\.toml is not UTF-8 text"):
        load_policy(Settings(policy=latin))


def test_bus_settings_and_the_bus_they_select(monkeypatch: pytest.MonkeyPatch) -> None:
    from deconfliction.api import open_bus
    from deconfliction.bus import InProcessBus, NatsBus

    s = Settings()
    assert s.bus_url is None
    assert s.node_name  # the host name, made a valid JetStream name
    assert "." not in s.node_name
    assert isinstance(open_bus(s), InProcessBus)
    monkeypatch.setenv("DECONFLICTION_BUS_URL", "nats://10.0.0.1:4222,nats://10.0.0.2:4222")
    monkeypatch.setenv("DECONFLICTION_NODE_NAME", "hub-a")
    s = load_settings(None, bus_lease_s=5)
    bus = open_bus(s)  # not started: nothing connects
    assert isinstance(bus, NatsBus)
    assert bus.url == ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]
    assert (bus.node_name, bus.stream, bus.subject) == (
        "hub-a",
        "DECONFLICTION",
        "deconfliction.events",
    )
    for bad in ({"bus_url": "http://x"}, {"node_name": "hub.a"}, {"bus_stream": "a b"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Settings.model_validate(bad)


def test_without_nats_py_the_embedded_hub_works_and_a_bus_url_is_one_clear_error() -> None:
    import subprocess
    import sys

    code = """
import sys
sys.modules["nats"] = None  # as if nats-py were not installed
from deconfliction.api import Settings, create_app, open_bus
from deconfliction.bus import InProcessBus
from deconfliction.errors import InvalidInput
assert isinstance(open_bus(Settings()), InProcessBus)
create_app(Settings())
try:
    open_bus(Settings(bus_url="nats://127.0.0.1:4222"))
except InvalidInput as exc:
    print(exc)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert "pip install 'deconfliction[nats]'" in r.stdout
