"""``deconfliction ledger verify|export|key`` on a real SQLite store with a real ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.audit import (
    Actor,
    Entry,
    HubKey,
    Ledger,
    _parallel,
    sign_submission,
    verify_bundle,
)
from deconfliction.audit._keys import KEY_FILE
from deconfliction.cli import _ledger
from deconfliction.errors import LedgerError
from deconfliction.model import Party
from deconfliction.store import open_store, sqlite_url
from tests.cli.conftest import Result, cli_subprocess

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
BLUE, RED, GREEN = UUID(int=1), UUID(int=2), UUID(int=3)
Cli = Callable[..., Result]


@dataclass
class Hub:
    data: Path
    ledger: Ledger
    entries: list[Entry]

    @property
    def db(self) -> Path:
        return self.data / "hotline.db"

    def sql(self, statement: str, *params: object) -> None:
        with sqlite3.connect(self.db) as conn:
            conn.execute(statement, params)

    def body(self, seq: int) -> bytes:
        with sqlite3.connect(self.db) as conn:
            (value,) = conn.execute("SELECT body FROM ledger WHERE seq = ?", (seq,)).fetchone()
        return bytes(value)


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    """A data directory with its hub key and six entries: odd ones by Blue about Red, even
    ones by Green alone, one minute apart from T0 + 1 min."""
    data = tmp_path / "data"
    data.mkdir()
    ledger = Ledger.open(data)
    entries = []
    with open_store(sqlite_url(data)) as store:
        with store.transaction() as tx:
            for pid, name in ((BLUE, "Blue"), (RED, "Red"), (GREEN, "Green")):
                tx.add_party(Party(pid, name, "armed_force", T0))
        for i in range(1, 7):
            actor, parties = (BLUE, [RED]) if i % 2 else (GREEN, [])
            with store.transaction() as tx:
                entries.append(
                    ledger.append(
                        tx,
                        at=T0 + timedelta(minutes=i),
                        actor=Actor(actor),
                        type="activity.filed",
                        parties=parties,
                        payload={"n": i, "title": f"activity {i}"},
                    )
                )
    return Hub(data, ledger, entries)


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _one_error(r: Result, code: int, text: str) -> None:
    assert r.code == code, r
    assert r.out == ""
    assert r.err.count("\n") == 1, r.err
    assert r.err.startswith("deconfliction: error: "), r.err
    assert text in r.err, r.err


def test_the_key_file_name_is_the_audit_layers() -> None:
    assert _ledger.KEY_FILE == KEY_FILE


# -- verify the stored ledger ------------------------------------------------------------------


def test_verify_a_good_ledger(hub: Hub, cli: Cli) -> None:
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    head = hub.entries[-1].hash.hex()
    assert r.code == 0, r.err
    assert r.out == (
        f"ledger OK: 6 entries, head seq 6 hash {head} (6 hub and 0 party signatures checked)\n"
    )
    assert r.err == ""
    r = cli("ledger", "verify", "--database-url", sqlite_url(hub.data), "--data-dir", str(hub.data))
    assert r.code == 0, r.err
    r = cli("ledger", "verify", "--data-dir", str(hub.data), "--signatures", "last")
    assert r.code == 0
    assert "(1 hub and 0 party signatures checked)" in r.out


def test_verify_shows_progress_on_long_ledgers(
    hub: Hub, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ledger, "PROGRESS_MIN", 5)
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    assert r.code == 0, r.err
    assert "verifying" in r.err
    assert "6/6" in r.err
    r = cli("ledger", "verify", "--data-dir", str(hub.data), "--quiet")
    assert r.code == 0
    assert r.err == ""


def test_verify_reads_the_data_dir_from_the_environment(
    hub: Hub, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECONFLICTION_DATA_DIR", str(hub.data))
    r = cli("ledger", "verify")
    assert r.code == 0, r.err
    assert r.out.startswith("ledger OK: 6 entries, head seq 6 ")


def test_verify_checks_party_signatures(hub: Hub, cli: Cli) -> None:
    private = Ed25519PrivateKey.generate()
    submission = {"title": "survey"}
    with open_store(sqlite_url(hub.data)) as store, store.transaction() as tx:
        hub.ledger.register_party_key(
            tx, BLUE, HubKey(private).public_key, at=T0, actor=Actor(BLUE)
        )
        sig = hub.ledger.check_submission(
            tx, BLUE, submission, sign_submission(private, submission)
        )
        hub.ledger.append(
            tx,
            at=T0,
            actor=Actor(BLUE),
            type="activity.filed",
            payload={},
            submission=submission,
            party_signature=sig,
        )
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    assert r.code == 0, r.err
    assert "ledger OK: 8 entries, head seq 8 " in r.out
    assert "(8 hub and 1 party signatures checked)" in r.out
    hub.sql("DELETE FROM party_keys")
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    _one_error(r, 1, "ledger FAILED at entry 8: party_signature: party ")


def test_one_changed_byte_of_a_body_is_named(hub: Hub, cli: Cli) -> None:
    body = hub.body(4)
    hub.sql(
        "UPDATE ledger SET body = ? WHERE seq = 4", body[:20] + bytes([body[20] ^ 1]) + body[21:]
    )
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    assert r.code == 1
    assert r.out == ""
    assert r.err == (
        "deconfliction: error: ledger FAILED at entry 4: digest: the body does not hash to "
        "the entry's digest (3 entries verified before it)\n"
    )


def test_a_changed_hub_signature_is_named(hub: Hub, cli: Cli) -> None:
    hub.sql("UPDATE ledger SET hub_sig = ? WHERE seq = 2", bytes(64))
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    _one_error(r, 1, "ledger FAILED at entry 2: hub_signature: ")
    r = cli("ledger", "verify", "--data-dir", str(hub.data), "--signatures", "last")
    assert r.code == 0, r.err  # only the last signature is checked: documented trade-off


def test_a_deleted_last_entry_is_caught(hub: Hub, cli: Cli) -> None:
    hub.sql("DELETE FROM ledger WHERE seq = 6")
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    _one_error(r, 1, "ledger FAILED at entry 6: truncated: the ledger's head is entry 6")


def test_a_deleted_middle_entry_is_named(hub: Hub, cli: Cli) -> None:
    hub.sql("DELETE FROM ledger WHERE seq = 3")
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    _one_error(r, 1, "ledger FAILED at entry 3: sequence: expected entry 3 here, found entry 4")


def test_another_hub_key_fails_at_the_first_entry(hub: Hub, cli: Cli) -> None:
    (hub.data / KEY_FILE).unlink()
    HubKey.load_or_create(hub.data)
    r = cli("ledger", "verify", "--data-dir", str(hub.data))
    _one_error(r, 1, "ledger FAILED at entry 1: hub_signature: ")


def test_verify_as_a_user_runs_it(hub: Hub) -> None:
    r = cli_subprocess("ledger", "verify", "--data-dir", str(hub.data))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ledger OK: 6 entries")
    hub.sql("DELETE FROM ledger WHERE seq = 6")
    r = cli_subprocess("ledger", "verify", "--data-dir", str(hub.data))
    assert r.returncode == 1
    assert r.stderr.startswith("deconfliction: error: ledger FAILED at entry 6: truncated")
    assert r.stderr.count("\n") == 1


def test_a_hub_made_by_admin_init_verifies(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "hub"
    assert cli("admin", "init", "--data-dir", str(data)).code == 0
    r = cli("ledger", "verify", "--data-dir", str(data))
    assert r.code == 0, r.err
    assert r.out.startswith("ledger OK: ")
    r = cli("ledger", "key", "--data-dir", str(data))
    assert r.code == 0, r.err
    assert HubKey.load(data / KEY_FILE).public_key.b64 in r.out


# -- export and verify bundles ------------------------------------------------------------------


def test_export_then_verify_the_bundle(hub: Hub, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "ledger.jsonl"
    r = cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(out))
    assert r.code == 0, r.err
    assert r.out == (
        f"exported 6 entries, seqs 1..6 (6 full, 0 redacted; the hub's view, all in full) "
        f"to {out}\n"
    )
    assert _files(tmp_path) == ["data", "ledger.jsonl"]  # no temporary file left
    assert verify_bundle(out.read_bytes(), hub.ledger.public_key).ok

    r = cli("ledger", "verify", "--bundle", str(out))
    assert r.code == 0, r.err
    head = hub.entries[-1].hash.hex()
    key_id = hub.ledger.public_key.key_id
    assert r.out.startswith(f"bundle OK: 6 entries, head seq 6 hash {head} ")
    assert "seqs 1..6 (6 full, 0 redacted; the hub's view)" in r.out
    assert f"hub key {key_id} named by the bundle: compare it" in r.out

    pem = tmp_path / "hub.pem"
    pem.write_text(hub.ledger.public_key.pem)
    for key in (str(pem), hub.ledger.public_key.b64):
        r = cli("ledger", "verify", "--bundle", str(out), "--key", key)
        assert r.code == 0, r.err
        assert r.out.rstrip().endswith(f"hub key {key_id} as given")

    other = HubKey.generate().public_key
    r = cli("ledger", "verify", "--bundle", str(out), "--key", other.b64)
    _one_error(r, 1, f"FAILED at entry 1: hub_signature: the bundle is signed by hub key {key_id}")


def test_a_changed_byte_in_a_bundle_is_named(hub: Hub, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "b.jsonl"
    assert cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(out)).code == 0
    data = out.read_bytes()
    assert data.count(b"activity 3") == 1
    out.write_bytes(data.replace(b"activity 3", b"activity 8"))
    r = cli("ledger", "verify", "--bundle", str(out))
    assert r.code == 1
    assert r.out == ""
    assert r.err == (
        f"deconfliction: error: bundle {out} FAILED at entry 3: hash: the hash is not "
        "SHA-256(seq ‖ previous hash ‖ digest): the entry's content or its hash was changed "
        "(2 entries verified before it)\n"
    )
    lines = data.splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:-2]))  # the last entry and the trailer cut off
    r = cli("ledger", "verify", "--bundle", str(out))
    _one_error(r, 1, "FAILED at entry 6: truncated: the bundle ends without its trailer")


def test_a_bundle_verifies_the_same_with_any_number_of_jobs(
    hub: Hub, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_parallel, "CHUNK_BYTES", 300)  # a chunk or two per entry
    out = tmp_path / "b.jsonl"
    assert cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(out)).code == 0
    data = out.read_bytes()
    runs = [cli("ledger", "verify", "--bundle", str(out), "--jobs", n) for n in ("1", "2")]
    assert runs[0] == runs[1]
    assert runs[0].code == 0, runs[0].err
    assert runs[0].out.startswith("bundle OK: 6 entries, head seq 6 ")
    assert runs[0].err == ""  # a small bundle shows no progress
    lines = data.splitlines(keepends=True)
    for bad in (
        data.replace(b"activity 5", b"activity 9"),
        b"".join(lines[:4] + lines[5:]),  # entry 4 deleted
        b"".join([*lines[:3], lines[4], lines[3], *lines[5:]]),  # entries 3 and 4 swapped
    ):
        out.write_bytes(bad)
        runs = [cli("ledger", "verify", "--bundle", str(out), "--jobs", n) for n in ("1", "2")]
        assert runs[0] == runs[1]
        _one_error(runs[1], 1, "FAILED at entry ")


def test_verify_shows_progress_on_large_bundles(
    hub: Hub, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "b.jsonl"
    assert cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(out)).code == 0
    monkeypatch.setattr(_ledger, "PROGRESS_MIN_BYTES", 1)
    monkeypatch.setattr(_parallel, "CHUNK_BYTES", 300)
    for jobs in ("1", "2"):
        r = cli("ledger", "verify", "--bundle", str(out), "--jobs", jobs)
        assert r.code == 0, r.err
        assert "verifying" in r.err
        assert "100%" in r.err
        r = cli("ledger", "verify", "--bundle", str(out), "--jobs", jobs, "--quiet")
        assert r.code == 0
        assert r.err == ""


def test_jobs_must_be_positive_and_for_a_bundle(hub: Hub, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "b.jsonl"
    assert cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(out)).code == 0
    _one_error(cli("ledger", "verify", "--bundle", str(out), "--jobs", "0"), 2, "--jobs: give")
    r = cli("ledger", "verify", "--data-dir", str(hub.data), "--jobs", "2")
    _one_error(r, 2, "--jobs is for --bundle")


def test_export_a_party_view_by_seq_and_by_time(hub: Hub, cli: Cli, tmp_path: Path) -> None:
    by_seq = tmp_path / "red-seq.jsonl"
    r = cli(
        "ledger", "export", "--data-dir", str(hub.data), "--out", str(by_seq),
        "--party", str(RED), "--from", "2", "--to", "4",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert r.out == (
        f"exported 3 entries, seqs 2..4 (1 full, 2 redacted; party {RED}'s view) to {by_seq}\n"
    )
    report = verify_bundle(by_seq.read_bytes(), hub.ledger.public_key)
    assert report.ok
    assert report.party == RED
    assert (report.result.first_seq, report.result.last_seq) == (2, 4)
    assert (report.result.full, report.result.redacted) == (1, 2)
    r = cli("ledger", "verify", "--bundle", str(by_seq))
    assert r.code == 0, r.err
    assert f"seqs 2..4 (1 full, 2 redacted; party {RED}'s view)" in r.out

    by_time = tmp_path / "green-time.jsonl"
    r = cli(
        "ledger", "export", "--data-dir", str(hub.data), "--out", str(by_time),
        "--party", "Green", "--from", "2026-12-01T11:04:30+01:00", "--to", "2026-12-01T10:30Z",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert f"exported 2 entries, seqs 5..6 (1 full, 1 redacted; party {GREEN}'s view)" in r.out
    assert verify_bundle(by_time.read_bytes(), hub.ledger.public_key).ok

    empty = tmp_path / "empty.jsonl"
    r = cli(
        "ledger", "export", "--data-dir", str(hub.data), "--out", str(empty),
        "--from", "2027-01-01T00:00Z",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert r.out.startswith("exported 0 entries (none in the range;")
    assert verify_bundle(empty.read_bytes(), hub.ledger.public_key).ok


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-12-01T10:00:00"], "--from: 2026-12-01T10:00:00 has no timezone"),
        (["--to", "yesterday"], "--to: 'yesterday' is neither a seq nor an ISO 8601 time"),
        (["--from", "0"], "--from: seqs start at 1"),
        (["--from", "5", "--to", "2"], "--from 5 is after --to 2"),
        (["--party", "Purple"], "--party: no party is named 'Purple'"),
        (["--party", str(UUID(int=99))], f"--party: no party {UUID(int=99)} in the store"),
    ],
)
def test_bad_export_inputs_are_one_line_and_write_nothing(
    hub: Hub, cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out" / "b.jsonl"
    out.parent.mkdir()
    r = cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(out), *args)
    _one_error(r, 2, message)
    assert _files(out.parent) == []


def test_a_failed_export_leaves_no_file(
    hub: Hub, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out" / "b.jsonl"
    out.parent.mkdir()
    out.write_bytes(b"the previous bundle\n")

    def half_then_fail(self: Ledger, tx: object, f: object, **kw: object) -> None:
        f.write(b'{"format":')  # type: ignore[attr-defined]
        raise LedgerError("the disk hiccuped")

    monkeypatch.setattr(Ledger, "export", half_then_fail)
    r = cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(out))
    _one_error(r, 2, "the disk hiccuped")
    assert _files(out.parent) == ["b.jsonl"]
    assert out.read_bytes() == b"the previous bundle\n"  # untouched


def test_missing_inputs_are_one_line(hub: Hub, cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    for cmd in (["verify"], ["key"], ["export", "--out", str(tmp_path / "x.jsonl")]):
        r = cli("ledger", *cmd, "--data-dir", str(missing))
        _one_error(r, 2, f"the data directory {missing} does not exist")
    assert not missing.exists()  # nothing created
    assert "x.jsonl" not in _files(tmp_path)

    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("ledger", "verify", "--data-dir", str(empty))
    _one_error(r, 2, f"no hub key {empty / KEY_FILE}")
    HubKey.load_or_create(empty)
    r = cli("ledger", "verify", "--data-dir", str(empty))
    _one_error(r, 2, f"no database {empty / 'hotline.db'}")
    assert _files(empty) == [KEY_FILE]  # no database created

    r = cli("ledger", "export", "--data-dir", str(hub.data), "--out", str(missing / "b.jsonl"))
    _one_error(r, 2, f"--out: the directory {missing} does not exist")
    r = cli("ledger", "verify", "--bundle", str(missing / "b.jsonl"))
    _one_error(r, 2, "No such file or directory")
    r = cli("ledger", "verify", "--bundle", str(hub.db), "--key", "not-a-key")
    _one_error(r, 2, "--key: neither a readable file nor an Ed25519 public key")
    r = cli("ledger", "verify", "--bundle", str(hub.db), "--data-dir", str(hub.data))
    _one_error(r, 2, "--bundle is verified offline")
    r = cli("ledger", "verify", "--data-dir", str(hub.data), "--key", "x")
    _one_error(r, 2, "--key is for --bundle")
    r = cli("ledger", "verify", "--bundle", str(hub.db))
    _one_error(r, 1, "FAILED at entry 1: format: ")


def test_key_prints_base64_and_pem(hub: Hub, cli: Cli) -> None:
    r = cli("ledger", "key", "--data-dir", str(hub.data))
    key = hub.ledger.public_key
    assert r.code == 0, r.err
    assert r.out == f"hub key id: {key.key_id}\nbase64: {key.b64}\n{key.pem}"
    assert r.out.endswith("-----END PUBLIC KEY-----\n")
    (hub.data / KEY_FILE).chmod(0o644)
    r = cli("ledger", "key", "--data-dir", str(hub.data))
    _one_error(r, 2, "may be read by others")
