"""The hotline records every change on the real ledger, in the write's own transaction:
what is recorded and in which order, receipts that verify and match the chain, need-to-know
in the party views, and no entry (nor gap) left by a write that fails."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa

from deconfliction.audit import Entry, Ledger, Receipt, Redacted
from deconfliction.errors import IdempotencyConflict, InvalidInput
from deconfliction.geo import Circle, TimeWindow
from deconfliction.hotline import Fact, FilingResult, Hotline, Idempotency, Principal
from deconfliction.hotline import Receipt as HotlineReceipt
from deconfliction.model import Policy, ProtectedSite, SiteCategory
from deconfliction.store import open_store, sqlite_url
from tests.hotline.conftest import T0, Hub, StepClock, circle, draft
from tests.hotline.conftest import Recorder as EventLog

TITLE = "Operation Nightjar"
REMARKS = "two helicopters refuel at the old quarry"


@dataclass
class CountingLedger:
    """The real ledger as recorder, counting the facts handed to it (nothing faked)."""

    ledger: Ledger
    facts: list[str] = field(default_factory=list)

    def record(
        self, tx: Any, at: datetime, actor: Principal | None, facts: Sequence[Fact]
    ) -> list[HotlineReceipt]:
        receipts = self.ledger.record(tx, at, actor, facts)
        self.facts.extend(f.type for f in facts)
        return receipts


@dataclass
class LedgerHub(Hub):
    ledger: Ledger | None = None
    counter: CountingLedger | None = None

    @property
    def key(self) -> Any:
        assert self.ledger is not None
        return self.ledger.public_key

    def entries(self) -> list[Entry]:
        assert self.ledger is not None
        with self.hotline.store.read() as tx:
            return list(self.ledger.entries(tx))  # type: ignore[arg-type]

    def head(self) -> int:
        assert self.ledger is not None
        with self.hotline.store.read() as tx:
            return self.ledger.head(tx)[0]  # type: ignore[arg-type]

    def verify_ok(self) -> bool:
        assert self.ledger is not None
        with self.hotline.store.read() as tx:
            return self.ledger.verify(tx).ok  # type: ignore[arg-type]

    def view(self, p: Principal) -> list[Entry | Redacted]:
        assert self.ledger is not None
        with self.hotline.store.read() as tx:
            return self.ledger.party_view(tx, p.party_id)  # type: ignore[arg-type]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LedgerHub]:
    clock, sink = StepClock(), EventLog()
    store = open_store(sqlite_url(tmp_path))
    ledger = Ledger.open(tmp_path)
    counter = CountingLedger(ledger)
    h = Hotline(store, Policy.default(), clock=clock, sink=sink, recorder=counter)
    h.rebuild_index()
    boot = h.bootstrap()
    assert boot is not None
    yield LedgerHub(h, clock, sink, h.authenticate(boot[1]), tmp_path, boot[1], ledger, counter)
    store.close()


def types(entries: Sequence[Entry]) -> list[str]:
    return [e.content().type for e in entries]


def receipt_of(doc: Any) -> Receipt:
    return Receipt.from_json(doc.to_json() if hasattr(doc, "to_json") else doc)


def _filing_over(hub: LedgerHub) -> tuple[Principal, Principal, FilingResult]:
    """Red files; a minute later Blue files over it (with remarks). Returns blue, red, r."""
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0), title="Red patrol"))
    hub.clock.advance(minutes=1)
    r = hub.hotline.file(blue, draft(circle(2.0, 50.01), title=TITLE, remarks=REMARKS))
    return blue, red, r


def test_the_hub_starts_with_an_empty_ledger(hub: LedgerHub) -> None:
    hub.party("Blue")
    assert hub.head() == 0
    assert hub.verify_ok()


def test_filing_over_another_party_records_filed_then_conflict_then_notice(
    hub: LedgerHub,
) -> None:
    blue, red, r = _filing_over(hub)
    entries = hub.entries()
    assert types(entries) == [
        "activity.filed",
        "activity.filed",
        "conflict.detected",
        "notice.sent",
    ]
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    filed, detected, sent = (e.content() for e in entries[1:])
    for c in (filed, detected, sent):
        assert c.actor.party == blue.party_id
        assert c.actor.token == blue.token_id
        assert c.at == hub.clock.now()
    assert filed.payload["activity"]["id"] == str(r.activity.id)
    assert filed.payload["activity"]["remarks"] == REMARKS
    assert filed.parties == ()
    (conflict,) = r.conflicts
    assert detected.payload["conflict"]["id"] == str(conflict.id)
    assert set(detected.parties) == {blue.party_id, red.party_id}
    (n,) = r.notices
    assert sent.payload["notice"]["id"] == str(n.id)
    assert set(sent.parties) == {blue.party_id, red.party_id}
    # the notice entry keeps what Red was shown: the activity without its remarks
    assert sent.payload["activity"]["title"] == TITLE
    assert "remarks" not in sent.payload["activity"]
    assert [c["id"] for c in sent.payload["conflicts"]] == [str(conflict.id)]
    assert hub.counter is not None
    assert hub.counter.facts == types(entries)


def test_receipts_verify_and_match_the_stored_entries(hub: LedgerHub) -> None:
    _blue, red, r = _filing_over(hub)
    _, filed, _, sent = hub.entries()
    assert r.receipt is not None
    rr = receipt_of(r.receipt)
    assert rr.verify(hub.key)
    assert (rr.seq, rr.hash, rr.hub_sig) == (filed.seq, filed.hash, filed.hub_sig)
    (n,) = r.notices
    assert n.receipt is not None
    nr = receipt_of(n.receipt)
    assert nr.verify(hub.key)
    assert (nr.seq, nr.hash) == (sent.seq, sent.hash)
    # the stored notice row and Red's stream event carry the same receipt
    assert dict(hub.hotline.get_notice(red, n.id).receipt) == dict(n.receipt)
    (ev,) = hub.sink.of(red, "notice")
    assert ev.payload["notice"]["receipt"] == dict(n.receipt)
    # a receipt for another hash does not verify
    forged = Receipt(nr.seq, filed.hash, nr.hub_sig)
    assert not forged.verify(hub.key)
    assert not Receipt.from_json(dict(n.receipt)).verify(Ledger.open(hub.path / "other").public_key)
    assert hub.verify_ok()


def test_an_idempotent_replay_records_nothing_and_returns_the_first_receipt(
    hub: LedgerHub,
) -> None:
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(2.0, 50.0)))
    key = Idempotency("k1", "fp1")
    first = hub.hotline.file(blue, draft(circle(2.0, 50.01)), idempotency=key)
    head = hub.head()
    again = hub.hotline.file(blue, draft(circle(2.0, 50.01)), idempotency=key)
    assert again.replayed
    assert again.receipt == first.receipt
    assert hub.head() == head == 4


def test_amending_records_the_version_then_supersedes_then_sends(hub: LedgerHub) -> None:
    blue, _red, r = _filing_over(hub)
    (old,) = r.notices
    hub.clock.advance(minutes=5)
    r2 = hub.hotline.amend(blue, r.activity.id, 1, draft(circle(2.0, 50.005), title=TITLE))
    (new,) = r2.notices
    written = hub.entries()[4:]
    assert types(written) == [
        "activity.amended",
        "notice.superseded",
        "conflict.updated",
        "notice.sent",
    ]
    amended, superseded, updated, sent = (e.content() for e in written)
    assert amended.payload["activity"]["version"] == 2
    assert superseded.payload["notice"]["id"] == str(old.id)
    assert superseded.payload["notice"]["status"] == "superseded"
    assert updated.payload["conflict"]["id"] == str(r.conflicts[0].id)
    assert sent.payload["notice"]["id"] == str(new.id)
    assert sent.payload["notice"]["reason"] == "amended"
    assert r2.receipt is not None
    assert r2.receipt.seq == written[0].seq
    assert receipt_of(new.receipt).seq == written[3].seq
    assert hub.verify_ok()


def test_party_views_follow_need_to_know(hub: LedgerHub) -> None:
    blue, red, _r = _filing_over(hub)
    green = hub.party("Green")

    # a third party sees every entry of the exchange redacted: hashes only, no content
    seen = hub.view(green)
    assert [type(e) for e in seen] == [Redacted] * 4
    assert not any(hasattr(e, "body") for e in seen)
    assert [e.seq for e in seen] == [1, 2, 3, 4]
    assert TITLE not in repr(seen)
    assert REMARKS not in repr(seen)
    full = hub.entries()
    assert [(e.hash, e.digest) for e in seen] == [(e.hash, e.digest) for e in full]

    # the recipient sees its own filing, the conflict and its notice — not Blue's version
    red_view = hub.view(red)
    assert [type(e) for e in red_view] == [Entry, Redacted, Entry, Entry]
    assert [e.content().type for e in red_view if isinstance(e, Entry)] == [
        "activity.filed",
        "conflict.detected",
        "notice.sent",
    ]
    notice_entry = red_view[3]
    assert isinstance(notice_entry, Entry)
    assert REMARKS not in notice_entry.body.decode()
    assert TITLE in notice_entry.body.decode()
    assert red_view[1].seq == 2
    assert isinstance(red_view[1], Redacted)

    # the owner sees its own entries in full, Red's filing redacted
    assert [type(e) for e in hub.view(blue)] == [Redacted, Entry, Entry, Entry]


def test_each_notice_step_is_recorded_for_recipient_and_owner(hub: LedgerHub) -> None:
    blue, red, r = _filing_over(hub)
    green = hub.party("Green")
    (n,) = r.notices
    hub.clock.advance(seconds=10)
    hub.hotline.confirm_delivery(red, hub.hotline.last_seq(red))
    hub.hotline.read_notice(red, n.id)
    step = hub.hotline.acknowledge(red, n.id)
    entries = hub.entries()
    assert types(entries)[4:] == ["notice.delivered", "notice.read", "notice.acknowledged"]
    for e in entries[4:]:
        c = e.content()
        assert c.actor.party == red.party_id
        assert set(c.parties) == {red.party_id, blue.party_id}
    assert step.receipt is not None
    assert receipt_of(step.receipt).seq == entries[-1].seq == 7
    assert receipt_of(step.receipt).verify(hub.key)
    assert [type(e) for e in hub.view(green)][4:] == [Redacted] * 3
    assert [type(e) for e in hub.view(blue)][4:] == [Entry] * 3
    assert hub.verify_ok()


def test_an_invalid_volume_leaves_no_entry(hub: LedgerHub) -> None:
    _blue, red, _r = _filing_over(hub)
    head = hub.head()
    with pytest.raises(InvalidInput) as e:
        # 500 km radius: over the area cap
        hub.hotline.file(red, draft(circle(2.0, 50.0), circle(2.0, 50.0, 500_000.0)))
    assert e.value.field.startswith("volumes[1].")
    assert hub.head() == head
    assert hub.verify_ok()
    # the next write takes the next seq: no gap
    r = hub.hotline.file(red, draft(circle(9.0, 45.0)))
    assert r.receipt is not None
    assert r.receipt.seq == head + 1
    assert [e.seq for e in hub.entries()] == list(range(1, head + 2))


def test_failed_writes_in_a_group_commit_leave_no_entry_and_no_gap(hub: LedgerHub) -> None:
    ledger = hub.ledger
    assert ledger is not None

    def poison(tx: Any, now: datetime, events: Any, after: Any) -> None:
        """A write that records an entry on the real ledger, then fails (undone alone)."""
        (got,) = ledger.record(tx, now, None, [Fact("poison.recorded", {"x": 1})])
        raise RuntimeError(f"poisoned after recording seq {got.seq}")

    blue = hub.party("Blue")
    others = [hub.party(f"P{i}") for i in range(4)]
    key = Idempotency("k", "fp1")
    hub.hotline.file(blue, draft(circle(2.0, 50.0)), idempotency=key)
    assert hub.head() == 1
    commits: list[int] = []
    engine = hub.hotline.store.engine  # type: ignore[attr-defined]
    sa.event.listen(engine, "commit", lambda conn: commits.append(1))
    barrier = threading.Barrier(len(others) + 3)
    outcomes: dict[str, object] = {}

    def go(name: str) -> None:
        barrier.wait()
        try:
            if name == "dup":
                outcomes[name] = hub.hotline.file(
                    blue, draft(circle(2.0, 50.0)), idempotency=Idempotency("k", "fp2")
                )
            elif name == "bad":
                outcomes[name] = hub.hotline.file(blue, draft(circle(2.0, 50.0), title=""))
            elif name == "poison":
                outcomes[name] = hub.hotline._submit(poison)
            else:
                p = others[int(name)]
                outcomes[name] = hub.hotline.file(p, draft(circle(2.0, 50.0)))
        except Exception as exc:
            outcomes[name] = exc

    names = ["dup", "bad", "poison"] + [str(i) for i in range(len(others))]
    threads = [threading.Thread(target=go, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(outcomes["dup"], IdempotencyConflict)
    assert isinstance(outcomes["bad"], InvalidInput)
    assert isinstance(outcomes["poison"], RuntimeError)
    assert re.fullmatch(r"poisoned after recording seq \d+", str(outcomes["poison"]))
    assert len(commits) < len(names)  # several writes shared a commit
    filed = [outcomes[str(i)] for i in range(len(others))]
    assert all(isinstance(r, FilingResult) for r in filed)

    # 5 filings at one place: the k-th meets k earlier ones (a conflict and a notice each),
    # so 5 + 2 * (0 + 1 + 2 + 3 + 4) = 25 facts
    entries = hub.entries()
    assert hub.head() == len(entries) == 25
    assert [e.seq for e in entries] == list(range(1, 26))
    assert "poison.recorded" not in types(entries)
    assert hub.verify_ok()
    # each write's receipts are consecutive and point into the stored chain
    by_seq = {e.seq: e for e in entries}
    for r in filed:
        assert isinstance(r, FilingResult)
        assert r.receipt is not None
        assert by_seq[r.receipt.seq].hash.hex() == r.receipt.hash
        seqs = [r.receipt.seq] + [receipt_of(n.receipt).seq for n in r.notices]
        assert seqs == sorted(seqs)
        assert by_seq[r.receipt.seq].content().type == "activity.filed"
        for n in r.notices:
            assert by_seq[receipt_of(n.receipt).seq].content().type == "notice.sent"


def site(owner_hint: str, lon: float, lat: float) -> ProtectedSite:
    return ProtectedSite(
        uuid4(),
        uuid4(),
        SiteCategory.MEDICAL,
        f"Clinic {owner_hint}",
        Circle((lon, lat), 150.0),
        TimeWindow(T0, T0 + timedelta(days=30)),
        T0,
        T0,
        buffer_m=500.0,
        remarks="generator on the roof",
    )


def test_the_ledger_head_equals_the_facts_recorded(hub: LedgerHub) -> None:
    parties = [hub.party(f"P{i}") for i in range(4)]
    green = hub.party("Green")
    s = hub.hotline.register_site(green, site("A", 5.0, 48.0))
    assert s.receipt is not None
    assert s.receipt.seq == 1
    expected = 1
    spots = [(2.0, 50.0), (2.0, 50.01), (3.0, 50.0), (5.0, 48.0), (2.0, 50.02), (5.001, 48.0)]
    results: list[FilingResult] = []
    for i, (lon, lat) in enumerate(spots):
        hub.clock.advance(seconds=30)
        r = hub.hotline.file(parties[i % len(parties)], draft(circle(lon, lat)))
        results.append(r)
        sites = sum(1 for c in r.conflicts if c.other_id == s.site.id)
        # the version, each new conflict, each site disclosure, each notice
        expected += 1 + len(r.conflicts) + sites + len(r.notices)
    assert [len(r.conflicts) for r in results] == [0, 1, 0, 1, 1, 2]
    assert hub.head() == expected == 19
    assert hub.counter is not None
    assert len(hub.counter.facts) == expected
    assert types(hub.entries()) == hub.counter.facts
    assert types(hub.entries()).count("site.disclosed") == 2
    assert hub.verify_ok()
