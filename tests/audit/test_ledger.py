"""The ledger on a real SQLite store: appends in the caller's transaction, party views,
party keys, and tampering with stored rows."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from uuid import UUID

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.audit import (
    KEY_REGISTERED,
    Actor,
    Entry,
    Fault,
    HubKey,
    Ledger,
    Redacted,
    sign_submission,
    verify,
    verify_bundle,
)
from deconfliction.errors import InvalidSignature, NotFound
from deconfliction.store import (
    IntegrityViolation,
    SqlStore,
    StoreError,
    append_ledger_row,
    ledger_head_row,
    ledger_rows,
)
from tests.audit.conftest import BLUE, GREEN, RED, T0


def _fill(store: SqlStore, ledger: Ledger, n: int) -> list[Entry]:
    out = []
    for i in range(1, n + 1):
        actor, parties = (BLUE, [RED]) if i % 2 else (GREEN, [])
        with store.transaction() as tx:
            out.append(
                ledger.append(
                    tx,
                    at=T0 + timedelta(minutes=i),
                    actor=Actor(actor, UUID(int=100 + i)),
                    type="activity.filed",
                    parties=parties,
                    payload={"n": i, "title": f"activity {i}", "lead_time_s": 60.5 * i},
                )
            )
    return out


def test_appends_get_consecutive_seqs_and_verify(store: SqlStore, ledger: Ledger) -> None:
    entries = _fill(store, ledger, 5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(e.receipt.verify(ledger.public_key) for e in entries)
    with store.read() as tx:
        assert ledger.head(tx) == (5, entries[-1].hash)
        assert list(ledger.entries(tx)) == entries
        assert list(ledger.entries(tx, since=2, until=4)) == entries[2:4]
        result = ledger.verify(tx)
    assert result.ok
    assert result.count == 5
    assert result.hub_signatures == 5


def test_an_empty_ledger_verifies(store: SqlStore, ledger: Ledger) -> None:
    with store.read() as tx:
        assert ledger.head(tx) == (0, bytes(32))
        assert ledger.verify(tx).ok


def test_a_rolled_back_append_gives_its_seq_back(store: SqlStore, ledger: Ledger) -> None:
    _fill(store, ledger, 2)

    def failing_change() -> None:
        with store.transaction() as tx:
            ledger.append(tx, at=T0, actor=Actor(BLUE), type="x", payload={})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    entries = _fill(store, ledger, 1)
    assert entries[0].seq == 3
    with store.read() as tx:
        assert ledger.verify(tx).ok


def test_append_is_refused_in_a_read_transaction(store: SqlStore, ledger: Ledger) -> None:
    with pytest.raises(StoreError, match="read-only"), store.read() as tx:
        ledger.append(tx, at=T0, actor=Actor(BLUE), type="x", payload={})


def test_a_row_sealed_for_another_seq_is_refused(store: SqlStore, ledger: Ledger) -> None:
    entry = _fill(store, ledger, 1)[0]
    with store.read() as tx:
        (row,) = ledger_rows(tx)
    with (
        pytest.raises(IntegrityViolation, match="sealed as seq 1, the next seq is 2"),
        store.transaction() as tx,
    ):
        append_ledger_row(tx, lambda seq, prev: row)
    assert entry.seq == 1


def test_concurrent_writers_get_a_gap_free_chain(store: SqlStore, ledger: Ledger) -> None:
    errors: list[BaseException] = []

    def writer(party: UUID) -> None:
        try:
            for i in range(15):
                with store.transaction() as tx:
                    ledger.append(tx, at=T0, actor=Actor(party), type="tick", payload={"i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in (BLUE, RED, GREEN, BLUE)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.read() as tx:
        result = ledger.verify(tx)
        assert ledger.head(tx)[0] == 60
    assert result.ok
    assert result.count == 60


def test_party_view_redacts_the_others(store: SqlStore, ledger: Ledger) -> None:
    entries = _fill(store, ledger, 6)
    with store.read() as tx:
        red = ledger.party_view(tx, RED)
        green_page = ledger.party_view(tx, GREEN, since=2, limit=2)
    assert [type(e) for e in red] == [Entry, Redacted] * 3
    assert verify(red, ledger.public_key).ok
    assert [e.seq for e in green_page] == [3, 4]
    assert isinstance(green_page[1], Entry)
    assert isinstance(green_page[0], Redacted)
    assert verify(green_page, ledger.public_key, start_seq=3, prev_hash=entries[1].hash).ok


def test_party_keys_and_signed_submissions(store: SqlStore, ledger: Ledger) -> None:
    private = Ed25519PrivateKey.generate()
    public = HubKey(private).public_key
    with store.transaction() as tx:
        key, entry = ledger.register_party_key(tx, BLUE, public.pem, at=T0, actor=Actor(BLUE))
    assert key == public
    assert entry.content().type == KEY_REGISTERED
    assert entry.content().payload["public_key"] == public.b64
    submission = {"kind": "air_operation", "title": "survey"}
    signature = sign_submission(private, submission)
    with store.transaction() as tx:
        party_sig = ledger.check_submission(tx, BLUE, submission, signature)
        filed = ledger.append(
            tx,
            at=T0,
            actor=Actor(BLUE),
            type="activity.filed",
            parties=[RED],
            payload={"id": "a1"},
            submission=submission,
            party_signature=party_sig,
        )
    assert party_sig.key_id == public.key_id
    with store.read() as tx:
        result = ledger.verify(tx)
        assert result.ok
        assert result.party_signatures == 1
        # the bundle carries the key: verifies offline
        out = io.BytesIO()
        ledger.export(tx, out, party=RED)
    report = verify_bundle(out.getvalue(), ledger.public_key)
    assert report.ok
    assert report.result.party_signatures == 1
    assert filed.seq == 2


def test_forged_party_signatures_are_rejected_at_submission(
    store: SqlStore, ledger: Ledger
) -> None:
    submission = {"title": "survey"}
    forged = sign_submission(Ed25519PrivateKey.generate(), submission)
    with store.transaction() as tx, pytest.raises(InvalidSignature, match="no registered key"):
        ledger.check_submission(tx, BLUE, submission, forged)
    private = Ed25519PrivateKey.generate()
    with store.transaction() as tx:
        key, _ = ledger.register_party_key(
            tx, BLUE, HubKey(private).public_key, at=T0, actor=Actor(BLUE)
        )
    with store.transaction() as tx:
        with pytest.raises(InvalidSignature, match="does not verify"):
            ledger.check_submission(tx, BLUE, submission, forged)
        with pytest.raises(InvalidSignature, match="does not verify"):
            ledger.check_submission(
                tx, BLUE, {"title": "other"}, sign_submission(private, submission)
            )
        with pytest.raises(InvalidSignature, match="no registered key"):
            ledger.check_submission(tx, RED, submission, sign_submission(private, submission))
        assert ledger.check_submission(
            tx, BLUE, submission, sign_submission(private, submission), key.key_id
        )
    with store.transaction() as tx:
        ledger.revoke_party_key(tx, BLUE, key.key_id, at=T0, actor=Actor(BLUE))
    with store.transaction() as tx, pytest.raises(InvalidSignature, match="no registered key"):
        ledger.check_submission(tx, BLUE, submission, sign_submission(private, submission))
    with store.transaction() as tx, pytest.raises(NotFound):
        ledger.revoke_party_key(tx, BLUE, key.key_id, at=T0, actor=Actor(BLUE))
    with store.read() as tx:
        assert ledger.verify(tx).ok  # the registration and the revocation are entries


def test_export_ranges_from_the_database(store: SqlStore, ledger: Ledger) -> None:
    _fill(store, ledger, 8)
    with store.read() as tx:
        by_seq, by_time, everything = io.BytesIO(), io.BytesIO(), io.BytesIO()
        ledger.export(tx, by_seq, party=RED, from_=3, to=5)
        ledger.export(tx, by_time, from_=T0 + timedelta(minutes=6), to=T0 + timedelta(hours=1))
        summary = ledger.export(tx, everything)
    assert summary.count == 8
    assert summary.full == 8
    for out, span in ((by_seq, (3, 5)), (by_time, (6, 8)), (everything, (1, 8))):
        result = verify_bundle(out.getvalue(), ledger.public_key).result
        assert result.ok
        assert (result.first_seq, result.last_seq) == span


# -- tampering with the stored rows -------------------------------------------------------------


def _sql(store: SqlStore, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def _verify(store: SqlStore, ledger: Ledger) -> tuple[int, Fault]:
    with store.read() as tx:
        result = ledger.verify(tx)
    assert result.problem is not None, result.summary()
    return result.problem.seq, result.problem.fault


@pytest.mark.parametrize(
    ("column", "fault"),
    [
        ("body", Fault.DIGEST),
        ("digest", Fault.DIGEST),
        ("prev_hash", Fault.LINK),
        ("hash", Fault.HASH),
        ("hub_sig", Fault.HUB_SIGNATURE),
    ],
)
def test_one_changed_byte_in_a_stored_row_is_named(
    store: SqlStore, ledger: Ledger, column: str, fault: Fault
) -> None:
    _fill(store, ledger, 6)
    with store.engine.connect() as conn:
        value = bytes(
            conn.execute(sa.text(f"SELECT {column} FROM ledger WHERE seq = 4")).scalar_one()
        )
    changed = value[:10] + bytes([value[10] ^ 0x01]) + value[11:]
    _sql(store, f"UPDATE ledger SET {column} = :v WHERE seq = 4", v=changed)
    assert _verify(store, ledger) == (4, fault)


def test_a_changed_payload_byte_in_the_body_is_named(store: SqlStore, ledger: Ledger) -> None:
    _fill(store, ledger, 6)
    _sql(
        store,
        "UPDATE ledger SET body = CAST(REPLACE(CAST(body AS TEXT), 'activity 3', 'activity 4') AS BLOB) WHERE seq = 3",
    )
    assert _verify(store, ledger) == (3, Fault.DIGEST)


def test_a_deleted_row_is_named(store: SqlStore, ledger: Ledger) -> None:
    _fill(store, ledger, 6)
    _sql(store, "DELETE FROM ledger WHERE seq = 3")
    assert _verify(store, ledger) == (3, Fault.SEQUENCE)


def test_a_deleted_last_row_is_caught_by_the_head(store: SqlStore, ledger: Ledger) -> None:
    _fill(store, ledger, 6)
    _sql(store, "DELETE FROM ledger WHERE seq = 6")
    assert _verify(store, ledger) == (6, Fault.TRUNCATED)


def test_renumbered_rows_are_named(store: SqlStore, ledger: Ledger) -> None:
    _fill(store, ledger, 6)
    _sql(store, "UPDATE ledger SET seq = 100 WHERE seq = 2")
    _sql(store, "UPDATE ledger SET seq = 2 WHERE seq = 3")
    _sql(store, "UPDATE ledger SET seq = 3 WHERE seq = 100")
    seq, fault = _verify(store, ledger)
    assert seq == 2
    assert fault in (Fault.BODY, Fault.LINK)


def test_a_missing_head_row_is_a_store_error(store: SqlStore, ledger: Ledger) -> None:
    _sql(store, "DELETE FROM ledger_head")
    with pytest.raises(StoreError, match="ledger_head"), store.transaction() as tx:
        ledger_head_row(tx)


def test_a_duplicate_hash_is_an_integrity_violation(store: SqlStore, ledger: Ledger) -> None:
    import dataclasses

    _fill(store, ledger, 1)
    with store.read() as tx:
        (first,) = ledger_rows(tx)
    with (
        pytest.raises(IntegrityViolation, match="append ledger entry 2"),
        store.transaction() as tx,
    ):
        append_ledger_row(tx, lambda seq, prev: dataclasses.replace(first, seq=seq, prev_hash=prev))
    with store.read() as tx:
        assert ledger.head(tx)[0] == 1
        assert ledger.verify(tx).ok
