"""Hypothesis strategies for the ledger tests: JSON values and entry drafts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import strategies as st

from deconfliction.audit import Actor, Draft

MAX_SAFE = 2**53 - 1

#: any text JCS can hold (no lone surrogates), including non-BMP characters and controls
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)

#: finite floats of every magnitude (the canonical form of each is tested against rfc8785)
floats = st.floats(allow_nan=False, allow_infinity=False)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-MAX_SAFE, MAX_SAFE), floats, texts)

json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)

json_objects = st.dictionaries(texts, json_values, max_size=5)

PARTIES = [UUID(int=i) for i in range(1, 5)]

drafts = st.builds(
    Draft,
    at=st.integers(0, 10**9).map(lambda s: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=s)),
    actor=st.builds(Actor, st.sampled_from([None, *PARTIES]), st.none()),
    type=st.sampled_from(["activity.filed", "notice.sent", "notice.acknowledged"]),
    parties=st.lists(st.sampled_from(PARTIES), max_size=3),
    payload=json_objects,
)
