"""Property: the hotline's open conflicts equal a brute-force pairwise check of everything
live, with the pair's buffers (larger of the two kinds'), whatever the order of filings,
amendments, cancellations and site registrations."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.geo import Buffers, Volume4D, overlap
from deconfliction.model import ActivityKind, Policy
from tests.hotline.conftest import circle, draft, make_hub, square
from tests.hotline.test_service import site

POLICY = Policy.default()
# UAS operations have 1 NM / 500 ft buffers, the others 5 NM / 1,000 ft: pairs of mixed
# kinds exercise the pair rule (the larger of the two), in both filing orders.
KINDS = [ActivityKind.UAS_OPERATION, ActivityKind.UAS_OPERATION, ActivityKind.FLIGHT]

volumes = st.builds(
    lambda shape, lon, lat, size, start, hours, lo: (
        circle(lon, lat, size * 40_000, start_min=start, hours=hours, lo_ft=lo, hi_ft=lo + 3_000)
        if shape
        else square(lon, lat, size / 2, start_min=start, hours=hours)
    ),
    st.booleans(),
    st.floats(2.0, 2.15),
    st.floats(49.0, 49.1),
    st.floats(0.002, 0.05),
    st.sampled_from([0, 60, 125, 300]),
    st.sampled_from([1, 2]),
    st.sampled_from([0, 9_000, 13_000]),
)

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("file"),
            st.integers(0, 2),
            st.sampled_from(KINDS),
            st.lists(volumes, min_size=1, max_size=2),
        ),
        st.tuples(st.just("amend"), st.integers(0, 20), st.lists(volumes, min_size=1, max_size=2)),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(
            st.just("site"),
            st.integers(0, 2),
            st.floats(2.0, 2.4),
            st.floats(49.0, 49.3),
            st.sampled_from([0.0, 2_000.0]),
        ),
    ),
    min_size=2,
    max_size=10,
)


def _pair(a: ActivityKind, b: ActivityKind) -> Buffers:
    x, y = POLICY.for_kind(a).buffers, POLICY.for_kind(b).buffers
    return Buffers(
        *(
            max(u, v)
            for u, v in zip(
                (x.horizontal_m, x.vertical_m, x.time_s),
                (y.horizontal_m, y.vertical_m, y.time_s),
                strict=True,
            )
        )
    )


def _meets(a: list[Volume4D], b: list[Volume4D], buf: Buffers) -> bool:
    return any(
        overlap(x, y, horizontal_m=buf.horizontal_m, vertical_m=buf.vertical_m, time_s=buf.time_s)
        for x, y in itertools.product(a, b)
    )


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(ops)
def test_open_conflicts_equal_brute_force(script: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        hub = make_hub(Path(d))
        parties = [hub.party(n) for n in ("A", "B", "C")]
        live: dict[UUID, tuple[UUID, ActivityKind, list[Volume4D], int]] = {}
        sites: dict[UUID, tuple[UUID, list[Volume4D], float]] = {}
        for op in script:
            if op[0] == "file":
                _, who, kind, vols = op
                p = parties[who]  # type: ignore[index]
                r = hub.hotline.file(p, draft(*vols, kind=kind))  # type: ignore[arg-type]
                live[r.activity.id] = (p.party_id, kind, list(vols), 1)  # type: ignore[arg-type]
            elif op[0] in ("amend", "cancel") and live:
                aid = sorted(live, key=str)[op[1] % len(live)]  # type: ignore[operator]
                owner, kind, _, version = live[aid]
                p = next(x for x in parties if x.party_id == owner)
                if op[0] == "amend":
                    vols = op[2]
                    hub.hotline.amend(p, aid, version, draft(*vols, kind=kind))  # type: ignore[arg-type]
                    live[aid] = (owner, kind, list(vols), version + 1)  # type: ignore[arg-type]
                else:
                    hub.hotline.cancel(p, aid, version)
                    del live[aid]
            elif op[0] == "site":
                _, who, lon, lat, buf = op
                p = parties[who]  # type: ignore[index]
                s = hub.hotline.register_site(p, site(lon, lat, 200.0, buf))  # type: ignore[arg-type]
                sites[s.site.id] = (p.party_id, [s.site.volume], s.site.buffer_m)

        expected: set[frozenset[UUID]] = set()
        for (i, (oi, ki, vi, _)), (j, (oj, kj, vj, _)) in itertools.combinations(live.items(), 2):
            if oi != oj and _meets(vi, vj, _pair(ki, kj)):
                expected.add(frozenset((i, j)))
        for i, (oi, ki, vi, _) in live.items():
            for j, (oj, vj, buf) in sites.items():
                b = POLICY.for_kind(ki).buffers
                if oi != oj and _meets(
                    vi, vj, Buffers(b.horizontal_m + buf, b.vertical_m, b.time_s)
                ):
                    expected.add(frozenset((i, j)))
        got: set[frozenset[UUID]] = set()
        for p in parties:
            for c in hub.hotline.list_conflicts(p, open_only=True):
                got.add(frozenset((c.activity_id, c.other_id)))
        hub.hotline.store.close()
        assert got == expected
