"""``deconfliction site ...``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "demo"


def test_add_and_list(as_party: Any) -> None:
    r = as_party(
        "Green", "site", "add", str(EXAMPLES / "green-hospital.json"), "--valid-for", "30d"
    )
    assert r.code == 0, r.err
    assert r.out.startswith("registered medical site 'CHU Amiens-Picardie (site Sud)': ")
    assert "buffer 500 m" in r.out
    r = as_party("Green", "site", "list")
    assert any("CHU Amiens-Picardie" in line and "medical" in line for line in r.out.splitlines())
    r = as_party("Red", "site", "list", "--json")
    assert all(s["owner"] != "Green" for s in r.json())
    r = as_party("Green", "site", "add", str(EXAMPLES / "blue-exercise.geojson"))
    assert r.code == 2
    assert "must be a site object" in r.err
