"""Two USSs planning around each other through the real hub (uvicorn on loopback), and
the hotline party of the first told of the second's operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.api._hub import Hub, bootstrap, data_dir, spot
from tests.interop.dss_support import (
    DSS,
    SC,
    Authority,
    circle,
    dss_env,
    intent,
    make_parties,
    subscription,
    write_keys,
)

OI = f"{DSS}/operational_intent_references"


@pytest.fixture(scope="module")
def hub(authority: Authority) -> Iterator[tuple[Hub, dict[str, dict[str, str]]]]:
    with data_dir("dss-e2e") as d:
        keys = write_keys(d, authority, jwks=True)
        h = Hub(d, env=dss_env(keys), factory="deconfliction.interop:create_hub_app")
        admin = bootstrap(d)
        h.start()
        try:
            with h.client() as c:
                parties = make_parties(c, admin)
            yield h, parties
        finally:
            h.stop()


def _uss(hub: Hub, authority: Authority, sub: str) -> httpx.Client:
    token = authority.token(sub, SC)
    return httpx.Client(
        base_url=hub.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
    )


def test_two_usss_plan_around_each_other(
    hub: tuple[Hub, dict[str, dict[str, str]]], authority: Authority
) -> None:
    h, parties = hub
    lon, lat = spot()
    with _uss(h, authority, "uss-a") as a, _uss(h, authority, "uss-b") as b:
        # B watches the area for operational intents
        sid = str(uuid4())
        s = b.put(f"{DSS}/subscriptions/{sid}",
                  json=subscription(circle(lon, lat, 5_000), base="https://b.test/uss"))  # fmt: skip
        assert s.status_code == 200, s.text
        assert s.json()["subscription"]["notification_index"] == 0
        # A plans first: B's subscription is among the subscribers A must notify
        ra = a.put(f"{OI}/{uuid4()}", json=intent(circle(lon, lat), base="https://a.test/uss"))
        assert ra.status_code == 201, ra.text
        ref_a = ra.json()["operational_intent_reference"]
        assert ra.json()["subscribers"] == [
            {"uss_base_url": "https://b.test/uss",
             "subscriptions": [{"subscription_id": sid, "notification_index": 1}]}
        ]  # fmt: skip
        # B discovers A's intent (without its OVN) ...
        q = b.post(f"{OI}/query", json={"area_of_interest": circle(lon, lat, 2_000)})
        found = q.json()["operational_intent_references"]
        assert [(r["id"], r["ovn"]) for r in found] == [(ref_a["id"], "Available from USS")]
        # ... and its plan over A is refused until its key holds A's OVN (from A's USS)
        eid_b = uuid4()
        plan_b: dict[str, Any] = intent(circle(lon + 0.004, lat), base="https://b.test/uss")
        rb = b.put(f"{OI}/{eid_b}", json=plan_b)
        assert rb.status_code == 409
        assert [m["id"] for m in rb.json()["missing_operational_intents"]] == [ref_a["id"]]
        rb = b.put(f"{OI}/{eid_b}", json=plan_b | {"key": [ref_a["ovn"]]})
        assert rb.status_code == 201, rb.text
        index = rb.json()["subscribers"][0]["subscriptions"][0]
        assert index == {"subscription_id": sid, "notification_index": 2}
        got = b.get(f"{DSS}/subscriptions/{sid}").json()["subscription"]
        assert got["notification_index"] == 2
    # On the hotline, A's party (Drones A) is told of B's operation, through its own token
    with h.client(parties["Drones A"]["token"]) as drones_a:
        notices = drones_a.get("/v1/notices").json()
    about_b = [n for n in notices if str(eid_b) in n["summary"]]
    assert len(about_b) == 1
    assert about_b[0]["summary"].startswith("Drones B: uas operation")
    with h.client(parties["Drones B"]["token"]) as drones_b:
        mine = drones_b.get("/v1/activities", params={"scope": "mine"}).json()
    assert [m["kind"] for m in mine if str(eid_b) in m["title"]] == ["uas_operation"]


def test_the_dss_is_off_without_keys(tmp_path: Any) -> None:
    from deconfliction.api import Settings
    from deconfliction.interop import create_hub_app

    app = create_hub_app(Settings(data_dir=tmp_path, progress=False))
    assert not [r for r in app.routes if getattr(r, "path", "").startswith(DSS)]
