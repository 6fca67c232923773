"""No statement the hub runs in service scans a table that grows with use.

Every route a party uses in a day (filing over another party's activity, its notices read,
answered and discussed, amendment, cancellation, track reports, alerts, the ledger, the
timeline) and the sweeps are run through the real app on SQLite, every statement is
captured, and SQLite's own query plan of each is read: a ``SCAN`` of a table outside the
few that hold one row per party is a statement whose cost grows with the store — a slow
degradation that no functional test sees. (Found so: the change feed's ``min(seq),
max(seq)`` scanned up to 50,000 rows in every write transaction — the soak's filing p50
drift.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deconfliction.api import Settings, create_app

SMALL = frozenset({"parties", "webhooks", "tokens", "party_keys", "alembic_version"})
"""Tables with a row per party (or per party's token, key or webhook): a scan is fine."""


def _square(lon: float, start: datetime) -> dict[str, Any]:
    ring = [[lon, 50.0], [lon + 0.05, 50.0], [lon + 0.05, 50.05], [lon, 50.05], [lon, 50.0]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "altitude_lower_m": 0,
                    "altitude_upper_m": 3000,
                    "time_start": start.isoformat(),
                    "time_end": (start + timedelta(hours=1)).isoformat(),
                },
            }
        ],
    }


@pytest.fixture
def plans(tmp_path: Path) -> dict[str, list[str]]:
    """SQLite's plan of each distinct statement run while two parties use the hub."""
    app = create_app(Settings(data_dir=tmp_path, progress=False))
    seen: dict[str, Any] = {}
    with TestClient(app) as c:
        hot = app.state.hotline
        boot = hot.bootstrap()
        assert boot is not None
        admin = {"Authorization": f"Bearer {boot[1]}"}
        auth = {}
        for name in ("Blue", "Red"):
            r = c.post("/v1/parties", headers=admin, json={"name": name, "kind": "armed_force"})
            assert r.status_code == 201, r.text
            r = c.post(
                f"/v1/parties/{r.json()['id']}/tokens",
                headers=admin,
                json={"role": "operator", "label": "plans"},
            )
            assert r.status_code == 201, r.text
            auth[name] = {"Authorization": f"Bearer {r.json()['secret']}"}
        blue, red = auth["Blue"], auth["Red"]

        def capture(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            seen.setdefault(statement, params[0] if many and params else params)

        sa.event.listen(hot.store.engine, "before_cursor_execute", capture)
        start = datetime.now(UTC) + timedelta(hours=2)

        def ok(r: Any, status: int = 200) -> Any:
            assert r.status_code == status, (r.request.url, r.text)
            return r.json() if r.headers["content-type"] == "application/json" else r.text

        body = {"kind": "flight", "title": "red", "volumes": _square(2.0, start)}
        ok(c.post("/v1/activities", headers=red, json=body), 201)
        body = {"kind": "flight", "title": "blue", "volumes": _square(2.01, start)}
        filed = ok(c.post("/v1/activities", headers=blue, json=body), 201)
        act, conflict = filed["activity"], filed["conflicts"][0]
        notices = ok(c.get("/v1/notices", headers=red))
        assert notices, "Red must be told of Blue's filing"
        first = notices[0]["id"]
        ok(c.get(f"/v1/notices/{first}", headers=red))
        ok(c.post(f"/v1/notices/{first}/read", headers=red))
        ok(c.post(f"/v1/notices/{first}/acknowledge", headers=red))
        msg = {"template": "free_text", "text": "copy"}
        ok(c.post(f"/v1/activities/{act['id']}/messages", headers=red, json=msg), 201)
        ok(c.post(f"/v1/conflicts/{conflict['id']}/messages", headers=blue, json=msg), 201)
        ok(c.get(f"/v1/activities/{act['id']}/messages", headers=blue))
        ok(c.get(f"/v1/conflicts/{conflict['id']}/messages", headers=red))
        ok(c.get("/v1/events", headers=red, params={"since": 0}))
        body = {"kind": "flight", "title": "blue 2", "volumes": _square(2.02, start)}
        etag = {"If-Match": f'"{act["version"]}"'}
        act = ok(c.put(f"/v1/activities/{act['id']}", headers={**blue, **etag}, json=body))[
            "activity"
        ]
        for n in ok(c.get("/v1/notices", headers=red)):
            if n["status"] not in ("acknowledged", "superseded", "objected"):
                ok(c.post(f"/v1/notices/{n['id']}/object", headers=red, json={"reason": "no"}))
        for path in (
            f"/v1/activities/{act['id']}",
            f"/v1/activities/{act['id']}/notices",
            f"/v1/activities/{act['id']}/timeline",
            f"/v1/conflicts/{conflict['id']}",
            "/v1/activities",
            "/v1/conflicts",
            "/v1/alerts",
            "/v1/links",
            "/v1/ledger",
            "/v1/figures",
            "/v1/sites",
        ):
            ok(c.get(path, headers=blue))
        now = datetime.now(UTC).isoformat()
        track = {"time": now, "lat": 50.02, "lon": 2.02, "altitude_ft": 5000}
        track |= {"ground_speed_kt": 100, "track_deg": 90}
        ok(c.post("/v1/tracks", headers=blue, json={"tracks": [{"key": "B1", **track}]}))
        ok(c.post("/v1/tracks", headers=red, json={"tracks": [{"key": "R1", **track}]}))
        hot.tactical_tick()  # (the app's own cycle may have run first)
        assert ok(c.get("/v1/alerts", headers=red)), "two tracks at one place: an alert"
        hot.expire_due()
        hot.sweep_links()
        etag = {"If-Match": f'"{act["version"]}"'}
        ok(c.post(f"/v1/activities/{act['id']}/cancel", headers={**blue, **etag}))
        sa.event.remove(hot.store.engine, "before_cursor_execute", capture)
        out: dict[str, list[str]] = {}
        with hot.store.engine.connect() as conn:
            for sql, params in seen.items():
                if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
                    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
                    out[" ".join(sql.split())] = [str(row[3]) for row in rows]
    return out


def test_no_statement_in_service_scans_a_growing_table(plans: dict[str, list[str]]) -> None:
    assert len(plans) > 25, "the journey ran too few statements to judge"
    scans = [
        f"{step}: {sql[:200]}"
        for sql, steps in plans.items()
        for step in steps
        if step.startswith("SCAN ") and step.split()[1] not in SMALL | {"CONSTANT"}
    ]
    assert not scans, "\n".join(scans)
