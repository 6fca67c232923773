"""Party signatures on the real server: register a key, sign a filing and an answer; the
ledger keeps submission and signature; forged, mismatched or revoked → 422, nothing stored."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction.audit import PublicKey, sign_submission, verify_bundle
from tests.api._hub import Hub, Party, activity_body, feature, spot


def _register(party: Party) -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    pub = PublicKey(private.public_key().public_bytes_raw()).b64
    r = party.op.post("/v1/keys", json={"public_key": pub})
    assert r.status_code == 201, r.text
    assert r.json()["receipt"]["seq"] > 0
    return private, r.json()["key_id"]


def _entries(hub: Hub, party: Party) -> list[dict[str, Any]]:
    r = party.op.get("/v1/ledger", params={"limit": 10_000})
    key = hub.client().get("/v1/ledger/key").json()["public_key"]
    assert verify_bundle(r.content, key).ok
    lines = [json.loads(x) for x in r.content.splitlines()]
    return [x["body"] for x in lines if "body" in x]


def _mine(party: Party) -> int:
    return len(party.op.get("/v1/activities", params={"scope": "mine"}).json())


def test_a_signed_filing_and_answer_are_kept_with_their_signatures(
    hub: Hub, blue: Party, red: Party
) -> None:
    blue_key, blue_kid = _register(blue)
    red_key, red_kid = _register(red)
    lon, lat = spot()
    body = activity_body("signed patrol", feature(lon, lat))
    sig = sign_submission(blue_key, body)
    r = blue.op.post(
        "/v1/activities", json=body, headers={"Party-Signature": f"sig={sig}; key={blue_kid}"}
    )
    assert r.status_code == 201, r.text
    filed = [
        e
        for e in _entries(hub, blue)
        if e["type"] == "activity.filed"
        and e["payload"]["activity"]["id"] == r.json()["activity"]["id"]
    ]
    (entry,) = filed
    assert entry["party_sig"] == {"key": blue_kid, "sig": sig}
    assert entry["submission"] == body
    # Red answers a notice with its signature of the answer document
    red.file(activity_body("red base", feature(lon + 0.5, lat)))
    (n,) = blue.file(activity_body("blue over red", feature(lon + 0.5, lat)))["notices"]
    assert n["recipient"] == red.id
    doc = {"action": "acknowledge", "notice": n["id"]}
    bad = sign_submission(red_key, {"action": "object", "notice": n["id"], "reason": "x"})
    wrong = red.op.post(
        f"/v1/notices/{n['id']}/acknowledge", headers={"Party-Signature": f"sig={bad}"}
    )
    assert wrong.status_code == 422, wrong.text
    assert red.op.get(f"/v1/notices/{n['id']}").json()["answered_at"] is None
    ok = red.op.post(
        f"/v1/notices/{n['id']}/acknowledge",
        headers={"Party-Signature": f"sig={sign_submission(red_key, doc)}"},  # key id optional
    )
    assert ok.status_code == 200, ok.text
    acks = [
        e
        for e in _entries(hub, red)
        if e["type"] == "notice.acknowledged" and e["payload"]["notice"]["id"] == n["id"]
    ]
    assert acks[0]["party_sig"]["key"] == red_kid
    assert acks[0]["submission"] == doc


def test_forged_malformed_and_revoked_signatures_are_refused(green: Party) -> None:
    key, kid = _register(green)
    lon, lat = spot()
    body = activity_body("green convoy", feature(lon, lat))
    before = _mine(green)
    forged = sign_submission(key, body | {"title": "something else"})
    for header, why in (
        (f"sig={forged}; key={kid}", "does not verify"),
        ("sig=not-base64!!", "signature"),
        ("signature=abc", "Party-Signature"),
        (f"sig={sign_submission(Ed25519PrivateKey.generate(), body)}", "does not verify"),
    ):
        r = green.op.post("/v1/activities", json=body, headers={"Party-Signature": header})
        assert r.status_code == 422, (header, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert why in r.text, (header, r.text)
    assert _mine(green) == before  # nothing half-written
    gone = green.op.delete(f"/v1/keys/{kid}")
    assert gone.status_code == 200, gone.text
    assert gone.json()["revoked_at"] is not None
    r = green.op.post(
        "/v1/activities",
        json=body,
        headers={"Party-Signature": f"sig={sign_submission(key, body)}; key={kid}"},
    )
    assert r.status_code == 422, r.text
    assert _mine(green) == before
    assert green.op.delete("/v1/keys/nope").status_code == 404
    again = green.op.post(
        "/v1/keys", json={"public_key": PublicKey(key.public_key().public_bytes_raw()).b64}
    )
    assert again.status_code == 422  # the same key twice
