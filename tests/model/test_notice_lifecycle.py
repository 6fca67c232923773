"""The notice lifecycle: every step, its timestamps, the answer rules, deadlines, and a
property over arbitrary step sequences checked against a small oracle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput, InvalidTransition
from deconfliction.model import DeliveryChannel, Notice, NoticeReason, NoticeStatus

T = datetime(2026, 11, 25, 12, tzinfo=UTC)
DEADLINE = T + timedelta(minutes=15)


def s(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def notice(reason: NoticeReason | str = NoticeReason.NEW, **kw: object) -> Notice:
    base: dict[str, object] = {
        "id": uuid4(),
        "recipient": uuid4(),
        "activity_id": uuid4(),
        "activity_version": 1,
        "reason": reason,
        "sent_at": T,
        "starts_at": T + timedelta(hours=2),
        "required_lead_time_s": 3600.0,
        "deadline": DEADLINE,
        "owner": uuid4(),
    }
    return Notice(**(base | kw))  # type: ignore[arg-type]


# ---------------------------------------------------------------------- single steps


def test_a_new_notice_is_queued_with_no_step_stamped() -> None:
    n = notice()
    assert n.status is NoticeStatus.QUEUED
    assert n.status_at is None
    assert (n.delivered_at, n.read_at, n.answered_at, n.expired_at) == (None, None, None, None)
    assert not n.answered
    assert n.objection is None


def test_delivered_stamps_delivery_only() -> None:
    n = notice().delivered(s(10))
    assert n.status is NoticeStatus.DELIVERED
    assert n.status_at == s(10)
    assert n.delivered_at == s(10)
    assert (n.read_at, n.answered_at, n.expired_at) == (None, None, None)


def test_read_implies_delivery_at_the_same_time() -> None:
    n = notice().read(s(20))
    assert n.status is NoticeStatus.READ
    assert (n.delivered_at, n.read_at, n.status_at) == (s(20), s(20), s(20))
    assert n.answered_at is None


def test_read_after_delivery_keeps_the_delivery_time() -> None:
    n = notice().delivered(s(10)).read(s(30))
    assert (n.delivered_at, n.read_at, n.status_at) == (s(10), s(30), s(30))
    assert n.status is NoticeStatus.READ


def test_acknowledge_stamps_the_answer_and_fills_earlier_steps() -> None:
    n = notice().answer(s(40))
    assert n.status is NoticeStatus.ACKNOWLEDGED
    assert (n.delivered_at, n.read_at, n.answered_at, n.status_at) == (s(40),) * 4
    assert n.objection is None
    assert n.answered


def test_acknowledge_after_read_keeps_earlier_times() -> None:
    n = notice().delivered(s(1)).read(s(2)).answer(s(3))
    assert (n.delivered_at, n.read_at, n.answered_at) == (s(1), s(2), s(3))
    assert n.status is NoticeStatus.ACKNOWLEDGED
    assert n.status_at == s(3)


def test_object_keeps_the_stripped_reason() -> None:
    n = notice().read(s(5)).answer(s(9), "  the area is wrong \n")
    assert n.status is NoticeStatus.OBJECTED
    assert n.objection == "the area is wrong"
    assert (n.read_at, n.answered_at, n.status_at) == (s(5), s(9), s(9))


def test_superseded_sets_status_and_time_and_keeps_the_stamps() -> None:
    n = notice().delivered(s(1)).read(s(2))
    sup = n.superseded(s(7))
    assert sup.status is NoticeStatus.SUPERSEDED
    assert sup.status_at == s(7)
    assert (sup.delivered_at, sup.read_at, sup.answered_at) == (s(1), s(2), None)


def test_superseded_sticks_through_later_steps() -> None:
    sup = notice().superseded(s(1))
    later = sup.delivered(s(2)).read(s(3))
    assert later.status is NoticeStatus.SUPERSEDED
    assert (later.delivered_at, later.read_at) == (s(2), s(3))
    assert later.expired(DEADLINE + timedelta(hours=1)).expired_at is None


# ---------------------------------------------------------------------- idempotence


def test_first_delivery_counts() -> None:
    once = notice().delivered(s(10))
    twice = once.delivered(s(99))
    assert twice == once
    assert twice.delivered_at == s(10)
    assert twice.status_at == s(10)


def test_first_read_counts() -> None:
    once = notice().read(s(10))
    twice = once.read(s(99))
    assert twice == once
    assert (twice.read_at, twice.status_at) == (s(10), s(10))


def test_delivery_after_read_or_answer_changes_nothing() -> None:
    read = notice().read(s(10))
    assert read.delivered(s(20)) == read
    answered = notice().answer(s(10))
    assert answered.delivered(s(20)) == answered
    assert answered.read(s(20)) == answered
    assert answered.status is NoticeStatus.ACKNOWLEDGED


def test_delivery_records_its_channel_once() -> None:
    assert notice().delivered_via is None
    assert notice().delivered(s(10)).delivered_via is DeliveryChannel.CLIENT
    hooked = notice().delivered(s(10), DeliveryChannel.WEBHOOK)
    assert hooked.delivered_via is DeliveryChannel.WEBHOOK
    assert hooked.delivered(s(20)).delivered_via is DeliveryChannel.WEBHOOK  # the first counts
    # reading or answering keeps how it was delivered, or implies the client when first
    assert hooked.read(s(30)).delivered_via is DeliveryChannel.WEBHOOK
    assert hooked.answer(s(30)).delivered_via is DeliveryChannel.WEBHOOK
    assert notice().read(s(30)).delivered_via is DeliveryChannel.CLIENT
    assert notice().answer(s(30), "no").delivered_via is DeliveryChannel.CLIENT
    assert notice(delivered_via="webhook").delivered_via is DeliveryChannel.WEBHOOK


# ---------------------------------------------------------------------- answer rules


@pytest.mark.parametrize("first", [None, "no"])
@pytest.mark.parametrize("second", [None, "still no"])
def test_only_one_answer(first: str | None, second: str | None) -> None:
    n = notice().answer(s(1), first)
    with pytest.raises(InvalidTransition) as e:
        n.answer(s(2), second)
    assert e.value.status == 409
    assert n.status.value in str(e.value)


@pytest.mark.parametrize("objection", [None, "objection"])
def test_a_superseded_notice_cannot_be_answered(objection: str | None) -> None:
    sup = notice().read(s(1)).superseded(s(2))
    with pytest.raises(InvalidTransition) as e:
        sup.answer(s(3), objection)
    assert e.value.status == 409
    assert "superseded" in str(e.value)


def test_an_answered_then_superseded_notice_cannot_be_answered_again() -> None:
    sup = notice().answer(s(1)).superseded(s(2))
    assert sup.answered_at == s(1)
    with pytest.raises(InvalidTransition):
        sup.answer(s(3), "late objection")


@pytest.mark.parametrize("reason", ["", " ", "\t\n  "])
def test_an_objection_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidInput) as e:
        notice().answer(s(1), reason)
    assert e.value.field == "reason"
    assert e.value.status == 422


def test_the_reason_may_have_up_to_2000_characters() -> None:
    ok = notice().answer(s(1), "x" * 2000)
    assert ok.objection == "x" * 2000
    with pytest.raises(InvalidInput) as e:
        notice().answer(s(1), "x" * 2001)
    assert e.value.field == "reason"
    assert "2000" in str(e.value)
    # length is counted after stripping
    padded = notice().answer(s(1), "  " + "y" * 2000 + "  ")
    assert padded.objection == "y" * 2000


def test_a_refused_answer_leaves_the_notice_unanswered() -> None:
    n = notice().read(s(1))
    with pytest.raises(InvalidInput):
        n.answer(s(2), "   ")
    assert n.answered_at is None
    assert n.answer(s(3)).status is NoticeStatus.ACKNOWLEDGED


# ---------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("reason", "needs"),
    [
        (NoticeReason.NEW, True),
        (NoticeReason.AMENDED, True),
        (NoticeReason.SITE_CONFLICT, True),
        (NoticeReason.NO_LONGER_AFFECTED, False),
        (NoticeReason.ACTIVATED, False),
        (NoticeReason.ENDED, False),
        (NoticeReason.CANCELLED, False),
    ],
)
def test_only_new_amended_and_site_conflict_call_for_an_answer(
    reason: NoticeReason, needs: bool
) -> None:
    n = notice(reason)
    assert n.needs_answer is needs
    after = DEADLINE + timedelta(seconds=1)
    assert n.due(after) is needs
    expired = n.expired(after)
    if needs:
        assert expired.status is NoticeStatus.EXPIRED
        assert expired.expired_at == after
    else:
        assert expired == n
        assert expired.status is NoticeStatus.QUEUED


def test_reason_given_as_text_is_coerced() -> None:
    assert notice("site_conflict").reason is NoticeReason.SITE_CONFLICT
    assert notice("activated").needs_answer is False


def test_due_before_at_and_after_the_deadline() -> None:
    n = notice().delivered(s(1))
    assert not n.due(DEADLINE - timedelta(microseconds=1))
    assert n.expired(DEADLINE - timedelta(microseconds=1)) == n
    assert n.due(DEADLINE)
    assert n.due(DEADLINE + timedelta(days=1))
    e = n.expired(DEADLINE)
    assert (e.status, e.expired_at, e.status_at) == (NoticeStatus.EXPIRED, DEADLINE, DEADLINE)
    assert e.delivered_at == s(1)


def test_an_answered_notice_is_never_due() -> None:
    for n in (notice().answer(s(1)), notice().answer(s(1), "no")):
        assert not n.due(DEADLINE + timedelta(hours=1))
        assert n.expired(DEADLINE + timedelta(hours=1)) == n


def test_a_superseded_notice_is_never_due() -> None:
    n = notice().superseded(s(1))
    assert not n.due(DEADLINE + timedelta(hours=1))
    assert n.expired(DEADLINE + timedelta(hours=1)) == n


def test_an_expired_notice_expires_once() -> None:
    e = notice().expired(DEADLINE)
    assert not e.due(DEADLINE + timedelta(hours=1))
    assert e.expired(DEADLINE + timedelta(hours=1)) == e
    assert e.expired_at == DEADLINE


def test_expired_read_keeps_the_expired_status() -> None:
    e = notice().expired(DEADLINE).read(DEADLINE + timedelta(minutes=1))
    assert e.status is NoticeStatus.EXPIRED
    assert e.read_at == DEADLINE + timedelta(minutes=1)
    assert e.expired_at == DEADLINE


@pytest.mark.parametrize(
    ("objection", "status"),
    [(None, NoticeStatus.ACKNOWLEDGED), ("too late to move", NoticeStatus.OBJECTED)],
)
def test_a_late_answer_after_expiry_is_accepted_and_keeps_the_expiry(
    objection: str | None, status: NoticeStatus
) -> None:
    e = notice().delivered(s(1)).expired(DEADLINE)
    late = DEADLINE + timedelta(minutes=3)
    a = e.answer(late, objection)
    assert a.status is status
    assert a.status_at == late
    assert a.answered_at == late
    assert a.read_at == late
    assert a.delivered_at == s(1)
    assert a.expired_at == DEADLINE
    assert a.objection == objection
    with pytest.raises(InvalidTransition):
        a.answer(late, None)


# ---------------------------------------------------------------------- status_at


def test_reading_an_expired_notice_keeps_when_it_expired_as_status_at() -> None:
    e = notice().expired(DEADLINE).read(DEADLINE + timedelta(minutes=1))
    assert e.status is NoticeStatus.EXPIRED
    assert e.status_at == DEADLINE


def test_delivering_a_superseded_notice_keeps_when_it_was_superseded() -> None:
    sup = notice().superseded(s(1)).delivered(s(2))
    assert sup.status is NoticeStatus.SUPERSEDED
    assert sup.status_at == s(1)


def test_status_at_follows_each_status_change() -> None:
    n = notice()
    times = []
    for step, t in (("delivered", 1), ("read", 2), ("answer", 3)):
        n = getattr(n, step)(s(t))
        times.append((n.status, n.status_at))
    assert times == [
        (NoticeStatus.DELIVERED, s(1)),
        (NoticeStatus.READ, s(2)),
        (NoticeStatus.ACKNOWLEDGED, s(3)),
    ]


# ---------------------------------------------------------------------- property

STEPS = ("delivered", "read", "ack", "object", "expired", "superseded")


@dataclass
class Oracle:
    """What the lifecycle should be after a sequence of steps (a brute-force model)."""

    delivered: datetime | None = None
    read: datetime | None = None
    answered: datetime | None = None
    objection: str | None = None
    expired: datetime | None = None
    superseded: bool = False

    def apply(self, step: str, now: datetime, deadline: datetime, needs: bool) -> str:
        """Apply ``step``; return "ok", "transition" or "noop"."""
        if step == "delivered":
            if self.delivered is None:
                self.delivered = now
            return "ok"
        if step == "read":
            if self.read is None:
                self.read = now
                self.delivered = self.delivered or now
            return "ok"
        if step in ("ack", "object"):
            if self.superseded or self.answered is not None:
                return "transition"
            self.delivered = self.delivered or now
            self.read = self.read or now
            self.answered = now
            self.objection = "no" if step == "object" else None
            return "ok"
        if step == "expired":
            if (
                needs
                and self.answered is None
                and self.expired is None
                and not self.superseded
                and now >= deadline
            ):
                self.expired = now
            return "ok"
        self.superseded = True
        return "ok"

    def status(self) -> NoticeStatus:
        if self.superseded:
            return NoticeStatus.SUPERSEDED
        if self.answered is not None:
            return NoticeStatus.OBJECTED if self.objection else NoticeStatus.ACKNOWLEDGED
        if self.expired is not None:
            return NoticeStatus.EXPIRED
        if self.read is not None:
            return NoticeStatus.READ
        if self.delivered is not None:
            return NoticeStatus.DELIVERED
        return NoticeStatus.QUEUED


@given(
    reason=st.sampled_from(list(NoticeReason)),
    steps=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 600)), min_size=0, max_size=12),
)
def test_any_sequence_of_steps_keeps_times_ordered_and_status_furthest(
    reason: NoticeReason, steps: list[tuple[str, int]]
) -> None:
    deadline = s(1200)
    n = notice(reason, deadline=deadline)
    oracle = Oracle()
    now = T
    for step, gap in steps:
        now += timedelta(seconds=gap)
        before = n
        expected = oracle.apply(step, now, deadline, n.needs_answer)
        if step in ("ack", "object"):
            objection = "no" if step == "object" else None
            if expected == "transition":
                with pytest.raises(InvalidTransition):
                    n.answer(now, objection)
                continue
            n = n.answer(now, objection)
        elif step == "delivered":
            n = n.delivered(now)
        elif step == "read":
            n = n.read(now)
        elif step == "expired":
            n = n.expired(now)
        else:
            n = n.superseded(now)

        # the stamps are the oracle's
        assert (n.delivered_at, n.read_at, n.answered_at, n.expired_at) == (
            oracle.delivered,
            oracle.read,
            oracle.answered,
            oracle.expired,
        )
        assert n.objection == oracle.objection
        assert n.answered is (oracle.answered is not None)
        # status is the furthest step
        assert n.status is oracle.status()
        # a stamp, once set, never changes
        for f in ("delivered_at", "read_at", "answered_at", "expired_at"):
            if getattr(before, f) is not None:
                assert getattr(n, f) == getattr(before, f)
        # steps are ordered in time
        if n.read_at is not None:
            assert n.delivered_at is not None
            assert n.delivered_at <= n.read_at
        if n.answered_at is not None:
            assert n.read_at is not None
            assert n.read_at <= n.answered_at
        if n.expired_at is not None:
            assert n.needs_answer
            assert n.expired_at >= deadline
        # status_at moves only when something changed, and then to the step's time
        if n == before:
            assert n.status_at == before.status_at
        elif n.status is not before.status:
            assert n.status_at == now
