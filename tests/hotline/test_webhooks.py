"""Webhooks in the hotline, over a real SQLite store, the real ledger and a clock the test
moves: configuration (admin, URL rules, levels), which events each level gets, and the
delivery bookkeeping the worker relies on (cursor compare-and-set, attempts, a notice made
delivered via the webhook with the hub as the ledger entry's actor)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from deconfliction.audit import Ledger
from deconfliction.errors import Forbidden, InvalidInput, NotFound
from deconfliction.hotline import (
    Event,
    Hotline,
    Principal,
    check_webhook_url,
    webhook_json,
    webhook_origin,
    webhook_wants,
)
from deconfliction.model import DeliveryChannel, EscalationLevel, NoticeStatus, Policy
from deconfliction.store import open_store, sqlite_url
from tests.hotline.conftest import T0, Hub, Recorder, StepClock, circle, draft

HERE = (12.0, 40.0)
URL = "https://ops.example/hotline/hook?key=receivers-own"


@dataclass
class LedgerHub(Hub):
    ledger: Ledger | None = None

    def entries(self) -> list[dict[str, object]]:
        assert self.ledger is not None
        with self.hotline.store.read() as tx:
            out = []
            for e in self.ledger.entries(tx):  # type: ignore[arg-type]
                c = e.content()
                out.append({"type": c.type, "actor": c.actor.party, "payload": c.payload, "c": c})
            return out


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LedgerHub]:
    clock, sink = StepClock(), Recorder()
    store = open_store(sqlite_url(tmp_path))
    ledger = Ledger.open(tmp_path)
    h = Hotline(store, Policy.default(), clock=clock, sink=sink, recorder=ledger)
    h.rebuild_index()
    boot = h.bootstrap()
    assert boot is not None
    hub = LedgerHub(h, clock, sink, h.authenticate(boot[1]), tmp_path, boot[1], ledger)
    yield hub
    store.close()


def crossing(hub: LedgerHub) -> tuple[Principal, Principal]:
    """Red files, then Blue files over it: Red gets a notice. Returns (blue, red)."""
    blue, red = hub.party("Blue"), hub.party("Red")
    hub.hotline.file(red, draft(circle(*HERE)))
    return blue, red


# ---------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url",
    [
        "https://ops.example/hook",
        "https://ops.example:8443/a/b?c=d",
        "https://[2001:db8::1]/hook",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9000/",
        "HTTPS://OPS.EXAMPLE/hook",
    ],
)
def test_good_urls(url: str) -> None:
    assert check_webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://ops.example/hook", "https://"),
        ("http://127.0.0.2/hook", "https://"),
        ("http://localhost.ops.example/hook", "https://"),
        ("ftp://ops.example/hook", "https://"),
        ("ops.example/hook", "https://"),
        ("https:///hook", "host"),
        ("https://user:pw@ops.example/hook", "credentials"),
        ("https://ops.example/hook#frag", "fragment"),
        ("https://ops.example/a b", "spaces"),
        ("https://ops.example:99999/hook", "valid URL"),
        ("https://" + "a" * 2000 + ".example/", "characters"),
        ("", "characters"),
    ],
)
def test_bad_urls(url: str, why: str) -> None:
    with pytest.raises(InvalidInput) as e:
        check_webhook_url(url)
    assert e.value.field == "url"
    assert why in e.value.reason


def test_the_origin_hides_path_and_query() -> None:
    assert webhook_origin(URL) == "https://ops.example"
    assert webhook_origin("http://[::1]:9000/x?y") == "http://[::1]:9000"


# ---------------------------------------------------------------------- configuration


def test_set_list_replace_delete(hub: LedgerHub) -> None:
    blue, red = crossing(hub)
    hub.hotline.file(blue, draft(circle(*HERE)))
    last = hub.hotline.last_seq(red)
    assert last > 0
    status, secret, created = hub.hotline.set_webhook(hub.admin, red.party_id, 0, URL)
    assert created
    assert secret.startswith("whsec_")
    hook = status.hook
    assert (hook.level, hook.url, hook.enabled, hook.state.cursor) == (0, URL, True, last)
    assert (status.backlog, status.last_seq) == (0, last)  # it starts after what happened
    assert secret not in repr(hook)
    assert secret not in str(webhook_json(hook))
    with hub.hotline.store.read() as tx:
        assert tx.webhook_secret(red.party_id, 0) == secret
    # replacing: new URL, new secret, same cursor
    hub.clock.advance(minutes=1)
    again, secret2, created2 = hub.hotline.set_webhook(
        hub.admin, red.party_id, 0, "https://other.example/h", enabled=False
    )
    assert not created2
    assert secret2 != secret
    assert again.hook.state.cursor == last
    assert (again.hook.url, again.hook.enabled) == ("https://other.example/h", False)
    assert again.hook.created_at == hook.created_at < again.hook.updated_at
    (listed,) = hub.hotline.list_webhooks(hub.admin, red.party_id)
    assert listed.hook == again.hook
    gone = hub.hotline.delete_webhook(hub.admin, red.party_id, 0)
    assert gone.hook == again.hook
    assert hub.hotline.list_webhooks(hub.admin, red.party_id) == []
    with pytest.raises(NotFound):
        hub.hotline.delete_webhook(hub.admin, red.party_id, 0)
    # on the ledger, without the secret or the URL's path and query
    facts = [e for e in hub.entries() if str(e["type"]).startswith("webhook.")]
    assert [e["type"] for e in facts] == ["webhook.set", "webhook.set", "webhook.deleted"]
    assert facts[0]["payload"] == {
        "party": str(red.party_id),
        "level": 0,
        "origin": "https://ops.example",
        "enabled": True,
        "cursor": last,
    }
    text = repr([e["payload"] for e in facts])
    assert secret not in text
    assert "receivers-own" not in text


def test_only_an_admin_configures_and_reads_webhooks(hub: LedgerHub) -> None:
    blue = hub.party("Blue")
    with pytest.raises(Forbidden):
        hub.hotline.set_webhook(blue, blue.party_id, 0, URL)
    hub.hotline.set_webhook(hub.admin, blue.party_id, 0, URL)
    with pytest.raises(Forbidden):
        hub.hotline.list_webhooks(blue, blue.party_id)
    with pytest.raises(Forbidden):
        hub.hotline.delete_webhook(blue, blue.party_id, 0)


def test_levels_follow_the_escalation_ladder(hub: LedgerHub) -> None:
    blue = hub.party("Blue")
    with pytest.raises(InvalidInput) as e:
        hub.hotline.set_webhook(hub.admin, blue.party_id, 1, URL)
    assert e.value.field == "level"
    assert "0 to 0" in e.value.reason
    hub.hotline.set_escalation(hub.admin, blue.party_id, [EscalationLevel("watch", 60)])
    status, _, _ = hub.hotline.set_webhook(hub.admin, blue.party_id, 1, URL)
    assert status.hook.level == 1
    with pytest.raises(InvalidInput):
        hub.hotline.set_webhook(hub.admin, blue.party_id, -1, URL)


def test_unknown_party_or_bad_url_writes_nothing(hub: LedgerHub) -> None:
    before = len(hub.entries())
    with pytest.raises(NotFound):
        hub.hotline.set_webhook(hub.admin, uuid4(), 0, URL)
    with pytest.raises(NotFound):
        hub.hotline.list_webhooks(hub.admin, uuid4())
    blue = hub.party("Blue")
    with pytest.raises(InvalidInput):
        hub.hotline.set_webhook(hub.admin, blue.party_id, 0, "http://ops.example/")
    assert hub.hotline.list_webhooks(hub.admin, blue.party_id) == []
    assert len(hub.entries()) == before


# ---------------------------------------------------------------------- which events


def test_level_zero_gets_everything_higher_levels_their_escalated_notices(
    hub: LedgerHub,
) -> None:
    blue, red = crossing(hub)
    hub.hotline.set_escalation(
        hub.admin, red.party_id, [EscalationLevel("watch", 60), EscalationLevel("HQ", 60)]
    )
    hub.hotline.file(blue, draft(circle(*HERE)))  # Red's notice (15 min to answer)
    hub.clock.advance(minutes=16)
    hub.hotline.expire_due()  # → level 1
    hub.clock.advance(seconds=61)
    hub.hotline.expire_due()  # → level 2
    hub.clock.advance(seconds=61)
    hub.hotline.expire_due()  # → expired
    red_events = hub.hotline.events_since(red, 0)
    types = [e.type for e in red_events]
    assert types[-4:] == ["notice", "notice.escalated", "notice.escalated", "notice.expired"]

    def got(p: Principal, level: int) -> list[str]:
        return [
            e.type for e in hub.hotline.events_since(p, 0) if webhook_wants(p.party_id, level, e)
        ]

    assert got(red, 0) == types
    assert got(red, 1) == ["notice.escalated", "notice.escalated", "notice.expired"]
    assert got(red, 2) == ["notice.escalated", "notice.expired"]
    assert got(red, 3) == []
    # Blue (the owner) is told of each step, but those notices are not Blue's own
    blue_types = [e.type for e in hub.hotline.events_since(blue, 0)]
    assert "notice.escalated" in blue_types
    assert got(blue, 0) == blue_types
    assert got(blue, 1) == []


def test_the_escalated_events_level_counts() -> None:
    me, t = uuid4(), T0
    notice = {"recipient": str(me), "level": 1}
    assert webhook_wants(me, 2, Event(me, 1, "notice.escalated", {"level": 2, "notice": notice}, t))
    assert not webhook_wants(me, 2, Event(me, 1, "notice.read", {"notice": notice}, t))
    assert not webhook_wants(me, 1, Event(me, 1, "conflict.detected", {"conflict": {}}, t))
    assert not webhook_wants(me, 1, Event(me, 1, "notice.read", {"notice": "x"}, t))
    bad = {"recipient": str(me), "level": True}
    assert not webhook_wants(me, 1, Event(me, 1, "notice.read", {"notice": bad}, t))


# ---------------------------------------------------------------------- delivery bookkeeping


def test_delivering_a_notice_event_delivers_the_notice_via_the_webhook(hub: LedgerHub) -> None:
    blue, red = crossing(hub)
    old = hub.hotline.file(blue, draft(circle(*HERE))).notices[0]  # before the webhook
    hub.hotline.set_webhook(hub.admin, red.party_id, 0, URL)
    new = hub.hotline.file(hub.party("Green"), draft(circle(*HERE))).notices
    (mine,) = [n for n in new if n.recipient == red.party_id]
    assert [h.level for h in hub.hotline.pending_webhooks()] == [0]
    box = hub.hotline.webhook_outbox(red.party_id, 0)
    assert box is not None
    assert box.secret.startswith("whsec_")
    cursor = box.hook.state.cursor
    assert [e.seq for e in box.events] == list(range(cursor + 1, hub.hotline.last_seq(red) + 1))
    (event,) = [e for e in box.events if e.type == "notice"]
    # events before it: not notices, delivered one by one (here: recorded at once)
    for e in box.events:
        if e.seq >= event.seq:
            break
        assert hub.hotline.webhook_delivered(red.party_id, 0, cursor, e, 200) == []
        cursor = e.seq
    hub.clock.advance(seconds=3)
    t = hub.clock.now()
    done = hub.hotline.webhook_delivered(red.party_id, 0, cursor, event, 204)
    assert done is not None
    (n,) = done
    assert n.id == mine.id
    assert (n.status, n.delivered_at, n.delivered_via) == (
        NoticeStatus.DELIVERED,
        t,
        DeliveryChannel.WEBHOOK,
    )
    # only that event's notice: the one sent before the webhook existed is still queued
    assert hub.hotline.get_notice(red, old.id).status is NoticeStatus.QUEUED
    # recorded with the hub as actor, "via": "webhook"; the owner is told
    (entry,) = [e for e in hub.entries() if e["type"] == "notice.delivered"]
    assert entry["actor"] is None
    assert entry["payload"] == {
        "through_seq": event.seq,
        "notices": [str(mine.id)],
        "via": "webhook",
        "level": 0,
    }
    owner = [e for e in hub.sink.events if e.type == "notice.delivered"]
    assert [e.payload["notice"]["delivered_via"] for e in owner] == ["webhook"]
    (status,) = hub.hotline.list_webhooks(hub.admin, red.party_id)
    st = status.hook.state
    assert (st.cursor, st.last_status, st.last_delivered_at, st.attempts) == (event.seq, 204, t, 0)
    # a stale report (the cursor moved on) changes nothing
    assert hub.hotline.webhook_delivered(red.party_id, 0, cursor, event, 200) is None
    # a client confirmation later does not change how it was delivered
    hub.hotline.confirm_delivery(red, hub.hotline.last_seq(red))
    assert hub.hotline.get_notice(red, mine.id).delivered_via is DeliveryChannel.WEBHOOK
    assert hub.hotline.get_notice(red, old.id).delivered_via is DeliveryChannel.CLIENT


def test_failures_are_counted_and_a_success_clears_them(hub: LedgerHub) -> None:
    blue, red = crossing(hub)
    hub.hotline.set_webhook(hub.admin, red.party_id, 0, URL)
    hub.hotline.file(blue, draft(circle(*HERE)))
    box = hub.hotline.webhook_outbox(red.party_id, 0)
    assert box is not None
    cursor, first = box.hook.state.cursor, box.events[0]
    for i, (status, error) in enumerate([(500, "HTTP 500"), (None, "no answer within 10 s")]):
        retry = hub.clock.now() + timedelta(seconds=2**i)
        hook = hub.hotline.webhook_failed(
            red.party_id, 0, cursor, status=status, error=error, retry_at=retry
        )
        assert hook is not None
        st = hook.state
        assert (st.cursor, st.attempts, st.last_status, st.last_error, st.next_attempt_at) == (
            cursor,
            i + 1,
            status,
            error,
            retry,
        )
    (listed,) = hub.hotline.list_webhooks(hub.admin, red.party_id)
    assert listed.hook.state.attempts == 2
    assert listed.backlog == hub.hotline.last_seq(red) - cursor
    assert hub.hotline.webhook_delivered(red.party_id, 0, cursor, first, 200) is not None
    (listed,) = hub.hotline.list_webhooks(hub.admin, red.party_id)
    st = listed.hook.state
    assert (st.attempts, st.last_error, st.next_attempt_at, st.last_status) == (0, None, None, 200)
    assert (
        hub.hotline.webhook_failed(
            red.party_id, 0, cursor, status=500, error="x", retry_at=hub.clock.now()
        )
        is None
    )  # stale: the cursor moved


def test_skipping_events_not_for_the_level(hub: LedgerHub) -> None:
    blue, red = crossing(hub)
    hub.hotline.set_escalation(hub.admin, red.party_id, [EscalationLevel("watch", 60)])
    status, _, _ = hub.hotline.set_webhook(hub.admin, red.party_id, 1, URL)
    cursor = status.hook.state.cursor
    hub.hotline.file(blue, draft(circle(*HERE)))
    last = hub.hotline.last_seq(red)
    (listed,) = hub.hotline.list_webhooks(hub.admin, red.party_id)
    assert listed.backlog == 0  # nothing escalated yet: nothing for level 1
    assert not hub.hotline.webhook_skipped(red.party_id, 1, cursor - 1, last)  # stale
    assert hub.hotline.webhook_skipped(red.party_id, 1, cursor, last)
    assert hub.hotline.pending_webhooks() == []
    hub.clock.advance(minutes=16)
    hub.hotline.expire_due()
    (listed,) = hub.hotline.list_webhooks(hub.admin, red.party_id)
    assert (listed.hook.state.cursor, listed.backlog) == (last, 1)
    # a disabled webhook is never pending, nor has an outbox
    hub.hotline.set_webhook(hub.admin, red.party_id, 1, URL, enabled=False)
    assert hub.hotline.pending_webhooks() == []
    assert hub.hotline.webhook_outbox(red.party_id, 1) is None
