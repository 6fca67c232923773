"""The webhook entity: its level range, URL length, aware times and delivery state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from deconfliction.errors import InvalidInput
from deconfliction.model import MAX_LEVELS, MAX_URL_LENGTH, Webhook, WebhookState

T = datetime(2026, 11, 26, tzinfo=UTC)


def hook(**kw: object) -> Webhook:
    base: dict[str, object] = {
        "party_id": uuid4(),
        "level": 0,
        "url": "https://ops.example/hook",
        "enabled": True,
        "created_at": T,
        "updated_at": T,
    }
    return Webhook(**(base | kw))  # type: ignore[arg-type]


def test_a_new_webhook_starts_with_no_attempt() -> None:
    w = hook()
    assert w.state == WebhookState()
    assert (w.state.cursor, w.state.attempts, w.state.last_error) == (0, 0, None)


@pytest.mark.parametrize("level", [-1, MAX_LEVELS + 1, True])
def test_the_level_is_within_the_ladder(level: object) -> None:
    with pytest.raises(InvalidInput) as e:
        hook(level=level)
    assert e.value.field == "level"


def test_every_level_of_the_ladder_may_have_one() -> None:
    assert [hook(level=k).level for k in range(MAX_LEVELS + 1)] == list(range(MAX_LEVELS + 1))


@pytest.mark.parametrize("url", ["", "https://x/" + "a" * MAX_URL_LENGTH])
def test_the_url_length_is_bounded(url: str) -> None:
    with pytest.raises(InvalidInput) as e:
        hook(url=url)
    assert e.value.field == "url"


def test_times_must_be_aware_and_become_utc() -> None:
    with pytest.raises(InvalidInput):
        hook(created_at=datetime(2026, 11, 26))
    with pytest.raises(InvalidInput):
        WebhookState(next_attempt_at=datetime(2026, 11, 26))
    paris = datetime(2026, 11, 26, 1, tzinfo=timezone(timedelta(hours=1)))
    assert WebhookState(last_attempt_at=paris).last_attempt_at == T


@pytest.mark.parametrize(("field", "value"), [("cursor", -1), ("attempts", -1)])
def test_counters_are_not_negative(field: str, value: int) -> None:
    with pytest.raises(InvalidInput) as e:
        WebhookState(**{field: value})  # type: ignore[arg-type]
    assert e.value.field == field


def test_a_long_error_is_cut() -> None:
    st = WebhookState(last_error="x" * 10_000)
    assert st.last_error is not None
    assert len(st.last_error) == 500
    assert st.last_error.endswith("…")
