"""The deployment files against the code and against real processes.

No Docker daemon runs here, so the image is not built and the compose file is not run:
instead the Dockerfile and ``deploy/compose.yaml`` are parsed and held to the code (lock
file, extras, settings, flags), and what they would run is run without containers — the
image's command with its environment and health check, two nodes on one PostgreSQL and one
data directory, the backup procedure of docs/deployment.md. The systemd units go through
``systemd-analyze`` and the Caddyfile through ``caddy validate`` when those are installed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from websockets.sync.client import connect

from deconfliction.api import Settings, load_settings
from deconfliction.cli import main
from deconfliction.model import Policy
from tests.api._hub import data_dir, free_port
from tests.pgcluster import PgCluster

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
CLI = str(Path(sys.executable).parent / "deconfliction")
"""The installed console script: what the image's ENTRYPOINT runs."""


# --- Dockerfile ------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments out."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        word, _, args = (pending + line).partition(" ")
        out.append((word.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for word, args in _instructions():
        if word == "FROM":
            m = re.fullmatch(r"(\S+) AS (\w+)", args, re.IGNORECASE)
            assert m, f"every stage is named: FROM {args}"
            current = stages.setdefault(m.group(2), [("FROM", m.group(1))])
        elif current is not None:
            current.append((word, args))
    return stages


def _one(stage: list[tuple[str, str]], word: str) -> str:
    found = [args for w, args in stage if w == word]
    assert len(found) == 1, f"{word}: {found}"
    return found[0]


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for w, args in stage:
        if w == "ENV":
            env |= dict(item.split("=", 1) for item in shlex.split(args))
    return env


def _healthcheck_command() -> list[str]:
    args = _one(_stages()["runtime"], "HEALTHCHECK")
    return list(json.loads(args.split(" CMD ", 1)[1]))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    assert m, spec
    return _normalise(m.group(0))


def test_the_image_builds_in_two_stages_on_the_agreed_base() -> None:
    first = _instructions()[0]
    assert first == ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm")
    stages = _stages()
    assert list(stages) == ["build", "runtime"]
    for stage in stages.values():
        assert stage[0] == ("FROM", "${PYTHON_IMAGE}")
    copies = [args for w, args in stages["runtime"] if w == "COPY"]
    assert copies == ["--from=build /opt/deconfliction /opt/deconfliction"]


def test_the_image_installs_the_locked_dependencies_with_existing_extras() -> None:
    build = _stages()["build"]
    installs = [shlex.split(a) for w, a in build if w == "RUN" and "pip install" in a]
    assert len(installs) == 1
    argv = installs[0]
    argv = argv[argv.index("install") + 1 : argv.index("&&") if "&&" in argv else None]
    assert argv[argv.index("-c") + 1] == "requirements/lock.txt"
    targets = [a for a in argv if a.startswith(".[")]
    assert len(targets) == 1, argv
    spec = re.fullmatch(r"\.\[([a-z,_-]+)\]", targets[0])
    assert spec, targets[0]
    extras = set(spec.group(1).split(","))

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    defined = set(pyproject["project"]["optional-dependencies"])
    assert "postgres" in extras
    assert extras <= defined, extras - defined
    assert not extras & {"dev", "bench"}, "test and benchmark tools stay out of the image"
    assert "COPY" in {w for w, _ in build}
    assert "requirements/lock.txt requirements/lock.txt" in [a for w, a in build if w == "COPY"]

    # the lock pins everything the image installs (pyproject's own extras; pending ones
    # are pinned when they are defined and `make lock` runs)
    pins = {
        _normalise(line.split("==", 1)[0])
        for line in (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    wanted = list(pyproject["project"]["dependencies"])
    for extra in extras & defined:
        wanted += pyproject["project"]["optional-dependencies"][extra]
    missing = {_requirement_name(spec) for spec in wanted} - pins
    assert not missing, f"not pinned in requirements/lock.txt: {missing}"


def test_the_build_context_keeps_what_the_build_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [p.strip() for p in ignore if p.strip() and not p.startswith("#")]
    assert patterns[0] == "*", "everything not named is left out of the context"
    kept = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for w, args in _stages()["build"]:
        if w == "COPY":
            for source in shlex.split(args)[:-1]:
                assert source.rstrip("/") in kept, f"COPY {source}: excluded by .dockerignore"
                assert (ROOT / source).exists(), source


def test_the_runtime_stage_runs_serve_unprivileged_with_valid_settings() -> None:
    runtime = _stages()["runtime"]
    user = _one(runtime, "USER")
    assert user.split(":")[0] not in ("0", "root")
    assert json.loads(_one(runtime, "VOLUME")) == ["/data"]
    assert {"8000", "8087", "8089"} <= set(_one(runtime, "EXPOSE").split())
    assert json.loads(_one(runtime, "ENTRYPOINT")) == ["deconfliction"]
    cmd = json.loads(_one(runtime, "CMD"))
    assert cmd[0] == "serve"
    # the command's flags are serve's (an unknown flag or a bad value exits 2 before --help)
    try:
        code = main([*cmd, "--help"])
    except SystemExit as exc:
        code = exc.code
    assert code == 0
    env = _env(runtime)
    settings = {
        k.removeprefix("DECONFLICTION_").lower(): v
        for k, v in env.items()
        if k.startswith("DECONFLICTION_")
    }
    assert set(settings) <= set(Settings.model_fields)
    s = Settings.model_validate(settings)
    assert (s.host, s.port, str(s.data_dir), s.log_format, s.progress) == (
        "0.0.0.0",
        8000,
        "/data",
        "json",
        False,
    )
    assert env["PATH"].startswith("/opt/deconfliction/bin:")
    assert "/data" in _one(runtime, "RUN"), "the data directory is made for the user"


# --- running what the image runs -------------------------------------------------------------


def _hub_env(data: Path, port: int, **more: str) -> dict[str, str]:
    """The image's environment, on loopback and a temporary data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECONFLICTION_")}
    env |= {k: v for k, v in _env(_stages()["runtime"]).items() if k.startswith("DECONFLICTION_")}
    env |= {
        "DECONFLICTION_HOST": "127.0.0.1",
        "DECONFLICTION_PORT": str(port),
        "DECONFLICTION_DATA_DIR": str(data),
    }
    return env | more


def _healthy(env: dict[str, str]) -> bool:
    cmd = _healthcheck_command()
    assert cmd[0] == "python"
    done = subprocess.run(
        [sys.executable, *cmd[1:]], env=env, capture_output=True, timeout=30, check=False
    )
    return done.returncode == 0


@contextmanager
def _serve(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``deconfliction serve --log-level info``: the image's ENTRYPOINT and CMD."""
    cmd = json.loads(_one(_stages()["runtime"], "CMD"))
    with log.open("ab") as out:
        proc = subprocess.Popen([CLI, *cmd], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_healthy(proc: subprocess.Popen[bytes], env: dict[str, str], log: Path) -> None:
    """Until ``/readyz`` answers 200, then the image's health check must pass too."""
    url = f"http://127.0.0.1:{env['DECONFLICTION_PORT']}/readyz"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the hub exited:\n{log.read_text(errors='replace')[-3000:]}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                assert _healthy(env), "ready, but the image's health check fails"
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready in 120 s:\n{log.read_text(errors='replace')[-3000:]}")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def _add_party(url: str, admin: str, name: str) -> None:
    r = httpx.post(
        f"{url}/v1/parties",
        json={"name": name, "kind": "armed_force"},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text


def test_one_node_health_check_admin_init_and_the_documented_backup() -> None:
    with data_dir("deploy-one") as tmp:
        data, backup, port = tmp / "data", tmp / "backup", free_port()
        env = _hub_env(data, port)
        assert not _healthy(env), "nothing listens yet: the health check must fail"
        with _serve(env, tmp / "hub.log") as proc:
            _wait_healthy(proc, env, tmp / "hub.log")
            init = _cli(env, "admin", "init", "--json")
            assert init.returncode == 0, init.stderr
            admin = json.loads(init.stdout)["token"]
            _add_party(f"http://127.0.0.1:{port}", admin, "Blue")

            # docs/deployment.md, "Backups", SQLite: the online backup, while the hub runs
            doc = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
            snippet = re.search(r"python -c '([^']+)'", doc)
            assert snippet, "the backup one-liner is not in docs/deployment.md"
            backup.mkdir(mode=0o700)
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    snippet.group(1),
                    data / "hotline.db",
                    backup / "hotline.db",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            shutil.copy2(data / "ledger-key.pem", backup / "ledger-key.pem")
        assert not _healthy(env), "the hub stopped: the health check must fail again"
        assert stat.S_IMODE((data / "ledger-key.pem").stat().st_mode) == 0o600
        verify = _cli(env | {"DECONFLICTION_DATA_DIR": str(backup)}, "ledger", "verify")
        assert verify.returncode == 0, verify.stderr
        assert verify.stdout.startswith("ledger OK:"), verify.stdout


@dataclass
class Nodes:
    """Two running hub nodes of one deployment (deploy/compose.yaml without Docker)."""

    urls: list[str]
    envs: list[dict[str, str]]
    procs: list[subprocess.Popen[bytes]]
    data: Path
    admin: str


@pytest.fixture(scope="module")
def nodes(pg_cluster: PgCluster) -> Iterator[Nodes]:
    """Two nodes started at once on an empty PostgreSQL database and an empty shared data
    directory (as the compose file's first start), then ``admin init`` through one."""
    url = pg_cluster.create_database()  # empty: the nodes migrate it
    hub_env = _env_file(DEPLOY / "env" / "hub.env.example")
    assert hub_env["DECONFLICTION_DATABASE_URL"].startswith("postgresql+psycopg://")
    with data_dir("deploy-two") as tmp:
        data = tmp / "data"  # does not exist yet, as an empty volume's first use
        envs, logs = [], []
        for name in ("hub-1", "hub-2"):
            envs.append(
                _hub_env(
                    data,
                    free_port(),
                    DECONFLICTION_DATABASE_URL=url,
                    DECONFLICTION_POLICY=str(DEPLOY / "config" / "policy.toml"),
                    DECONFLICTION_NODE_NAME=name,
                    DECONFLICTION_HEARTBEAT_S="1",
                )
            )
            logs.append(tmp / f"{name}.log")
        with _serve(envs[0], logs[0]) as p1, _serve(envs[1], logs[1]) as p2:
            for proc, env, log in zip((p1, p2), envs, logs, strict=True):
                _wait_healthy(proc, env, log)
            init = _cli(envs[0], "admin", "init", "--json")
            assert init.returncode == 0, init.stderr
            urls = [f"http://127.0.0.1:{env['DECONFLICTION_PORT']}" for env in envs]
            yield Nodes(urls, envs, [p1, p2], data, json.loads(init.stdout)["token"])


def test_two_nodes_share_one_key_and_write_one_chain(nodes: Nodes) -> None:
    """Both migrate the empty database (one after the other), agree on one ledger key,
    both write, and the one chain they wrote verifies with that key."""
    keys = [httpx.get(f"{u}/v1/ledger/key", timeout=10).json()["key_id"] for u in nodes.urls]
    assert keys[0] == keys[1], "the nodes sign with different keys"
    _add_party(nodes.urls[0], nodes.admin, "Blue")
    _add_party(nodes.urls[1], nodes.admin, "Red")
    for u in nodes.urls:
        r = httpx.get(f"{u}/v1/parties", headers={"Authorization": f"Bearer {nodes.admin}"})
        assert {"Blue", "Red"} <= {p["name"] for p in r.json()}
    assert sorted(p.name for p in nodes.data.iterdir()) == ["ledger-key.pem"]
    assert stat.S_IMODE((nodes.data / "ledger-key.pem").stat().st_mode) == 0o600
    verify = _cli(nodes.envs[0], "ledger", "verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("ledger OK:"), verify.stdout


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_caddy_proxies_the_nodes_and_their_streams(nodes: Nodes, tmp_path: Path) -> None:
    """deploy/Caddyfile in front of the two nodes (plain HTTP on loopback here, so no
    certificate is needed): requests and a WebSocket stream pass through, and with one
    node gone every request is still answered by the other."""
    port = free_port()
    config = tmp_path / "Caddyfile"
    # no admin endpoint (port 2019 may be another's), then the deployment's own file
    config.write_text(f"{{\n\tadmin off\n}}\nimport {DEPLOY / 'Caddyfile'}\n", encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "DECONFLICTION_SITE": f"http://127.0.0.1:{port}",
        "DECONFLICTION_UPSTREAMS": " ".join(u.removeprefix("http://") for u in nodes.urls),
    }
    log = tmp_path / "caddy.log"
    with log.open("wb") as out:
        caddy = subprocess.Popen(
            ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    proxy = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert caddy.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{proxy}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        r = httpx.get(f"{proxy}/v1/me", headers={"Authorization": f"Bearer {nodes.admin}"})
        assert r.status_code == 200, r.text
        assert r.headers["strict-transport-security"] == "max-age=31536000"
        ws = f"ws://127.0.0.1:{port}/v1/stream"
        with connect(ws, additional_headers={"Authorization": f"Bearer {nodes.admin}"}) as c:
            seen = [json.loads(c.recv(timeout=10))["type"] for _ in range(2)]
            assert "heartbeat" in seen, seen  # every heartbeat_s (1 s) through the proxy
        # one node gone: the proxy tries the other (lb_try_duration), nothing fails
        nodes.procs[1].terminate()
        nodes.procs[1].wait(timeout=20)
        for _ in range(10):
            assert httpx.get(f"{proxy}/readyz", timeout=10).status_code == 200
    finally:
        caddy.terminate()
        caddy.wait(timeout=20)


# --- compose ---------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


HUBS = ("hub-1", "hub-2")


def test_compose_has_two_hubs_postgresql_nats_and_a_proxy_on_pinned_images() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "nats", *HUBS, "proxy"}
    for name, svc in services.items():
        image = svc["image"]
        _repo, _, tag = image.partition(":")
        assert re.match(r"\d+\.\d+(\.\d+)?", tag), f"{name}: pin a version, not {image!r}"
    assert services["postgres"]["image"].startswith("postgres:15.")
    assert services["nats"]["image"].startswith("nats:2.")
    assert "--jetstream" in services["nats"]["command"]
    assert services["proxy"]["image"].startswith("caddy:2.")
    for hub in HUBS:
        assert services[hub]["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert (DEPLOY / services[hub]["build"]["context"] / "Dockerfile").is_file()


def test_compose_waits_for_health_in_order() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        test = svc["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
        assert len(test) > 1, name
    for hub in HUBS:
        deps = services[hub]["depends_on"]
        assert set(deps) == {"postgres", "nats"}
        assert services[hub]["healthcheck"]["test"] == ["CMD", *_healthcheck_command()]
    assert set(services["proxy"]["depends_on"]) == set(HUBS)
    for svc in services.values():
        for dep, how in svc.get("depends_on", {}).items():
            assert how == {"condition": "service_healthy"}
            assert "healthcheck" in services[dep]


def test_compose_shares_the_key_volume_and_keeps_secrets_in_env_files() -> None:
    doc = _compose()
    services = doc["services"]
    names = set()
    for hub in HUBS:
        svc = services[hub]
        assert "hub-data:/data" in svc["volumes"]
        assert svc["env_file"] == ["env/hub.env"]
        assert svc["read_only"] is True
        assert svc["cap_drop"] == ["ALL"]
        names.add(svc["environment"]["DECONFLICTION_NODE_NAME"])
    assert len(names) == len(HUBS), "node names must differ"
    assert {"hub-data", "pg-data", "nats-data"} <= set(doc["volumes"])
    assert services["postgres"]["env_file"] == ["env/postgres.env"]
    for svc in services.values():
        for key in svc.get("environment", {}):
            assert not re.search(r"PASSWORD|SECRET|TOKEN|DATABASE_URL", key), key
        for port in svc.get("ports", []):
            assert port.startswith(("127.0.0.1:", "${PROXY_BIND:-127.0.0.1}:")), port
    assert "*.env" in (DEPLOY / "env" / ".gitignore").read_text(encoding="utf-8").split()
    for path in ("env/hub.env", "env/postgres.env"):
        assert (DEPLOY / f"{path}.example").is_file(), f"{path}.example is missing"


def test_the_env_examples_agree_on_the_database() -> None:
    hub = _env_file(DEPLOY / "env" / "hub.env.example")
    pg = _env_file(DEPLOY / "env" / "postgres.env.example")
    m = re.fullmatch(
        r"postgresql\+psycopg://([^:]+):([^@]+)@postgres:5432/(\w+)",
        hub["DECONFLICTION_DATABASE_URL"],
    )
    assert m, hub["DECONFLICTION_DATABASE_URL"]
    assert m.groups() == (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
    assert hub["DECONFLICTION_BUS_URL"] == "nats://nats:4222"
    assert Path(hub["DECONFLICTION_POLICY"]).name == "policy.toml"
    Policy.from_toml((DEPLOY / "config" / "policy.toml").read_text(encoding="utf-8"))


def test_every_variable_the_deployment_sets_is_a_setting() -> None:
    known = set(Settings.model_fields)
    files = [ROOT / "Dockerfile", *DEPLOY.rglob("*")]
    seen = set()
    for path in files:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for name in re.findall(r"\bDECONFLICTION_([A-Z0-9_]+)\b", text):
                seen.add(name)
    # DECONFLICTION_SITE and _UPSTREAMS are the Caddyfile's own placeholders
    settings = {n.lower() for n in seen} - {"site", "upstreams"}
    assert settings - known == set(), f"not settings: {settings - known}"
    assert {"database_url", "bus_url", "node_name", "data_dir", "policy"} <= settings


# --- systemd ---------------------------------------------------------------------------------

UNITS = ("deconfliction.service", "deconfliction@.service")


def _unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


@pytest.mark.parametrize("name", UNITS)
def test_the_units_are_hardened_and_run_serve(name: str) -> None:
    unit = _unit(name)
    for key, value in {
        "DynamicUser": "yes",
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "StateDirectory": "deconfliction",
        "ProtectHome": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert unit.get(key) == [value], (key, unit.get(key))
    assert unit["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert "DECONFLICTION_DATA_DIR=%S/deconfliction" in unit["Environment"]
    argv = shlex.split(unit["ExecStart"][0])
    assert argv[:2] == ["/opt/deconfliction/bin/deconfliction", "serve"]
    try:
        code = main([*argv[1:], "--help"])
    except SystemExit as exc:
        code = exc.code
    assert code == 0


def test_the_systemd_examples_are_valid() -> None:
    s = load_settings(SYSTEMD / "hub.toml")
    assert (s.host, s.policy) == ("127.0.0.1", Path("/etc/deconfliction/policy.toml"))
    Policy.from_toml((SYSTEMD / "policy.toml").read_text(encoding="utf-8"))
    for example in ("hub.env.example", "node.env.example"):
        for key in _env_file(SYSTEMD / example):
            setting = key.removeprefix("DECONFLICTION_").lower()
            assert setting in set(Settings.model_fields), key


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verifies_the_units(name: str, tmp_path: Path) -> None:
    """``systemd-analyze verify`` (unknown keys, bad values, a missing ExecStart binary:
    it runs the installed command in place of /opt's) and the offline security score."""
    text = (SYSTEMD / name).read_text(encoding="utf-8")
    unit = tmp_path / name
    unit.write_text(text.replace("/opt/deconfliction/bin/deconfliction", CLI), encoding="utf-8")
    target = tmp_path / name.replace("@.", "@1.")
    if target != unit:
        shutil.copy(unit, target)
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    assert not verify.stdout + verify.stderr, "systemd-analyze verify warned"
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", security.stdout)
    assert m, security.stdout[-500:] + security.stderr
    assert float(m.group(1)) <= 2.0, security.stdout


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_caddy_validates_the_caddyfile(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    done = subprocess.run(
        ["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Valid configuration" in done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("nats-server") is None, reason="nats-server is not installed")
def test_the_nats_command_runs_jetstream_and_its_health_check_answers(tmp_path: Path) -> None:
    """The compose file's NATS arguments on Debian's nats-server (2.9; the compose file
    pins 2.10), on loopback ports and a temporary store: JetStream runs on that store and
    the health check URL answers 200. (Only 2.10 makes ``js-enabled-only`` fail when
    JetStream is off, so that half is not checked here.)"""
    svc = _compose()["services"]["nats"]
    url = next(a for a in svc["healthcheck"]["test"] if a.startswith("http://"))
    client, monitor, store = free_port(), free_port(), tmp_path / "js"
    args = []
    for arg in svc["command"]:
        if arg.startswith("--store_dir="):
            arg = f"--store_dir={store}"
        elif arg.startswith("--http_port="):
            arg = f"--http_port={monitor}"
        args.append(arg)
    assert "--jetstream" in args
    log = tmp_path / "nats.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["nats-server", "-a", "127.0.0.1", "-p", str(client), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        check = url.replace("127.0.0.1:8222", f"127.0.0.1:{monitor}")
        assert check != url, url
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                status = httpx.get(check, timeout=2).status_code
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.1)
        assert status == 200
        jsz = httpx.get(f"http://127.0.0.1:{monitor}/jsz", timeout=5).json()
        assert not jsz.get("disabled", False), jsz
        assert Path(jsz["config"]["store_dir"]).parent == store
    finally:
        proc.terminate()
        proc.wait(timeout=10)
