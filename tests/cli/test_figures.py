"""``deconfliction figures`` against a real hub, for two fresh parties."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deconfliction.cli._errors import UsageError
from deconfliction.cli._figures import parse_when
from tests.cli.conftest import Hub, Result

Run = Callable[..., Result]


def _body(lon: float, start: timedelta, hours: float) -> dict[str, Any]:
    t0 = datetime.now(UTC) + start
    iso = [t.isoformat().replace("+00:00", "Z") for t in (t0, t0 + timedelta(hours=hours))]
    return {
        "kind": "flight",
        "title": f"flight at {lon}",
        "volumes": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, 40.0]},
                    "properties": {
                        "radius_m": 3000,
                        "altitude_lower_m": 0,
                        "altitude_upper_m": 2000,
                        "time_start": iso[0],
                        "time_end": iso[1],
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def pair(hub: Hub) -> dict[str, str]:
    """Osprey gave Heron three notices: 30 min ahead (late: a flight needs 1 h), 2 h and
    4 h ahead; Heron acknowledged the first two and never answered the third. Heron gave
    Osprey nothing. Returns the tokens."""
    tokens = {}
    with hub.http(hub.admin_token) as admin:
        for name in ("Osprey", "Heron"):
            p = admin.post("/v1/parties", json={"name": name, "kind": "other"}).json()
            t = admin.post(f"/v1/parties/{p['id']}/tokens", json={"role": "operator"}).json()
            tokens[name] = t["secret"]
    with hub.http(tokens["Heron"]) as heron, hub.http(tokens["Osprey"]) as osprey:
        notices = []
        for lon, start in ((-120.0, 0.5), (-118.0, 2.0), (-116.0, 4.0)):
            r = heron.post("/v1/activities", json=_body(lon, timedelta(hours=5), 2))
            assert r.status_code == 201, r.text
            r = osprey.post("/v1/activities", json=_body(lon, timedelta(hours=start), 6))
            assert r.status_code == 201, r.text
            (n,) = r.json()["notices"]
            notices.append(n)
        for n in notices[:2]:
            assert heron.post(f"/v1/notices/{n['id']}/acknowledge").status_code == 200
    return tokens


def test_the_table_and_the_json(pair: dict[str, str], cli: Run, hub: Hub) -> None:
    def run(*args: str) -> Result:
        return cli("figures", *args, "--url", hub.url, "--token", pair["Osprey"])

    r = run("--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert isinstance(doc, dict)
    (row,) = doc["pairs"]
    assert (row["direction"], row["counterpart"]["name"]) == ("sent", "Heron")
    assert (row["notices"], row["answer_expected"], row["late"]) == (3, 3, 1)
    assert row["median_lead_time_s"] == pytest.approx(7200, abs=30)  # of 30 min, 2 h, 4 h
    assert row["late_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert (row["answered"], row["unanswered"], row["expired"]) == (2, 1, 0)
    assert 0 <= row["median_time_to_ack_s"] < 30

    r = run()
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0] == "figures for Osprey: notices sent from the start to now"
    assert lines[1].split() == [
        "COUNTERPART",
        "DIRECTION",
        "NOTICES",
        "MEDIAN",
        "LEAD",
        "LATE",
        "INSUFFICIENT",
        "MEDIAN",
        "ACK",
        "UNANSWERED",
        "EXPIRED",
    ]
    cells = lines[2].split("  ")
    cells = [c.strip() for c in cells if c.strip()]
    assert cells[:5] == ["Heron", "I sent", "3", "2 h", "1/3 (33%)"]
    assert cells[5] == "0/3 (0%)"
    assert re.fullmatch(r"\d+ s", cells[6])  # median time to acknowledge: seconds here
    assert cells[7:] == ["1", "0/3 (0%)"]

    # Heron sees the same pair from its side
    r = cli("figures", "--json", "--url", hub.url, "--token", pair["Heron"])
    (mirror,) = r.json()["pairs"]  # type: ignore[index]
    assert (mirror["direction"], mirror["notices"]) == ("received", 3)


def test_since_until_and_errors(pair: dict[str, str], cli: Run, hub: Hub) -> None:
    def run(*args: str) -> Result:
        return cli("figures", *args, "--url", hub.url, "--token", pair["Osprey"])

    assert len(run("--since", "1h", "--json").json()["pairs"]) == 1  # type: ignore[index]
    r = run("--until", "1h")
    assert r.code == 0, r.err
    assert r.out.splitlines()[1] == "no notices between parties in this period"
    r = run("--since", "2026-01-01T00:00")
    assert r.code == 2
    assert r.err == (
        "deconfliction: error: --since: 2026-01-01T00:00 has no timezone: a naive time is "
        "ambiguous (add Z or +01:00)\n"
    )
    r = run("--since", "1h", "--until", "2h")
    assert r.code == 2
    assert "is not before" in r.err
    r = run("--all")
    assert r.code == 1
    assert r.err.startswith("deconfliction: error: 403 Forbidden: this needs the admin role")
    r = cli("figures", "--all", "--url", hub.url, "--token", hub.admin_token)
    assert r.code == 0, r.err
    assert (
        r.out.splitlines()[0]
        == "figures for every pair of the hub: notices sent from the start to now"
    )
    assert any(line.split()[:2] == ["Osprey", "Heron"] for line in r.out.splitlines())


def test_parse_when() -> None:
    now = datetime.now(UTC)
    assert abs((now - parse_when("90m", "--since")).total_seconds() - 5400) < 5
    assert parse_when("2026-12-01T10:00:00+01:00", "--until").utcoffset() == timedelta(hours=1)
    with pytest.raises(UsageError, match="neither an ISO 8601 time"):
        parse_when("last week", "--since")
