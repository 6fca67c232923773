"""Parser fuzzing: every parser of outside input, fed mutations of valid documents (and
random bytes), either returns a value or raises the project's error with a reason —
never another exception, never a hang (each example has a deadline).

GeoJSON volumes (``geo`` and the API's conversion of a filing), KML/KMZ, CoT XML and its
stream splitter, SBS-1 lines, aircraft.json, the DSS's JWTs, the policy TOML and the CoT
gateway's TOML. ``FUZZ_PARSER_EXAMPLES`` (default 100) examples per property; ``make fuzz``
raises it. (tests/interop/test_fuzz.py has further random-noise properties of the
surveillance feeds.)
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import jwt
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from deconfliction.api._convert import draft_from, site_from
from deconfliction.api._schemas import ActivityIn, SiteIn
from deconfliction.errors import DeconflictionError
from deconfliction.geo import Volume4D, footprint_from_geojson, volume_from_geojson
from deconfliction.interop import (
    CotSplitter,
    SbsDecoder,
    load_cot_config,
    parse_aircraft_json,
    parse_event,
    read_kml,
    shape_of,
    track_of,
)
from deconfliction.interop._dss_auth import KeySet, TokenVerifier
from deconfliction.interop._dss_errors import DssError
from deconfliction.model import Policy, Track
from tests.fuzz import seeds
from tests.fuzz.mutations import mutated_bytes, mutated_json, mutated_text
from tests.fuzz.tried import TRIED
from tests.interop.dss_support import AUD, ISS, Authority

PARTY = UUID(int=5)
DEADLINE = timedelta(seconds=5)
EXAMPLES = int(os.environ.get("FUZZ_PARSER_EXAMPLES", "100"))
fuzz = settings(
    max_examples=EXAMPLES, deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow]
)
T = TypeVar("T")


def outcome(target: str, parse: Callable[[], T], *errors: type[Exception]) -> T | None:
    """``parse()``'s value, or None when it raised one of ``errors`` (default: the
    project's :class:`DeconflictionError`) with a message; any other exception fails."""
    TRIED[target] += 1
    caught: tuple[type[Exception], ...] = errors or (DeconflictionError,)
    try:
        return parse()
    except caught as exc:
        message, name = str(exc).strip(), type(exc).__name__
    assert message, f"{name} without a message"
    return None


# --- GeoJSON ----------------------------------------------------------------------------------


@fuzz
@given(mutated_json(seeds.FEATURES))
def test_geojson_volumes(feature: Any) -> None:
    v = outcome("GeoJSON volume", lambda: volume_from_geojson(feature))
    assert v is None or isinstance(v, Volume4D)
    outcome("GeoJSON footprint", lambda: footprint_from_geojson(feature))


@fuzz
@given(mutated_json([seeds.activity_body()]))
def test_api_filing_conversion(body: Any) -> None:
    """The API's path: the body is validated (pydantic), then converted to volumes."""
    parsed = outcome("API filing (ActivityIn)", lambda: ActivityIn.model_validate(body),
                     ValidationError)  # fmt: skip
    if parsed is not None:
        outcome("API filing (draft_from)", lambda: draft_from(parsed))


@fuzz
@given(
    mutated_json(
        [
            {
                "name": "H",
                "category": "medical",
                "footprint": seeds.FEATURES[1],
                "valid_from": "2026-12-01T00:00:00Z",
                "valid_to": "2026-12-31T00:00:00Z",
            }
        ]
    )
)
def test_api_site_conversion(body: Any) -> None:  # fmt: skip
    parsed = outcome("API site (SiteIn)", lambda: SiteIn.model_validate(body), ValidationError)
    if parsed is not None:
        outcome("API site (site_from)", lambda: site_from(parsed, seeds.T0))


# --- KML / KMZ --------------------------------------------------------------------------------


@fuzz
@given(st.one_of(mutated_bytes(seeds.KML[:2], max_edits=6), st.binary(max_size=400)))
def test_kml(data: bytes) -> None:
    doc = outcome("KML", lambda: read_kml(data))
    assert doc is None or doc["type"] == "FeatureCollection"


@fuzz
@given(mutated_bytes(seeds.KML[2:], max_edits=3))
def test_kmz(data: bytes) -> None:
    outcome("KMZ", lambda: read_kml(data))


# --- CoT --------------------------------------------------------------------------------------


@fuzz
@given(mutated_bytes(seeds.COT_EVENTS, max_edits=5))
def test_cot_events(data: bytes) -> None:
    event = outcome("CoT event", lambda: parse_event(data))
    if event is not None:
        t = outcome("CoT track_of", lambda: track_of(event, PARTY))
        assert t is None or isinstance(t, Track)
        outcome("CoT shape_of", lambda: shape_of(event))


@fuzz
@given(
    st.lists(st.one_of(st.sampled_from(seeds.COT_EVENTS), mutated_bytes(seeds.COT_EVENTS),
                       st.binary(max_size=50), st.just(b"  \n<?xml version='1.0'?>")),
             max_size=8),
    st.lists(st.integers(1, 300), min_size=1, max_size=20),
    st.integers(200, 4000),
)  # fmt: skip
def test_cot_stream_splitter(pieces: list[bytes], cuts: list[int], max_event: int) -> None:
    """Any stream, cut anywhere: the splitter never raises, never yields an event over its
    limit, and every whole valid event that fits comes out, in order."""
    stream = b"".join(pieces)
    splitter = CotSplitter(max_event)
    out: list[bytes] = []
    i = k = 0
    while i < len(stream):
        n = cuts[k % len(cuts)]
        out += splitter.feed(stream[i : i + n])
        i, k = i + n, k + 1
    TRIED["CoT stream splitter"] += 1
    assert all(0 < len(e) <= max_event for e in out)
    assert all(e.endswith(b"</event>") for e in out)
    if all(p in seeds.COT_EVENTS for p in pieces) and all(len(p) <= max_event for p in pieces):
        assert out == [p.strip() for p in pieces]


# --- SBS-1 and aircraft.json -----------------------------------------------------------------


@fuzz
@given(st.lists(mutated_text(seeds.SBS_LINES, max_edits=3), min_size=1, max_size=6))
def test_sbs_lines(lines: list[str]) -> None:
    d = SbsDecoder(PARTY)
    for line in lines:
        out = outcome("SBS-1 line", lambda line=line: d.feed(line))  # type: ignore[misc]
        assert out is None or isinstance(out, Track | str)


@fuzz
@given(st.one_of(mutated_json(seeds.AIRCRAFT_JSON, max_edits=4).map(json.dumps),
                 mutated_text(seeds.JSON_TEXTS)))  # fmt: skip
def test_aircraft_json(text: str) -> None:
    result = outcome("aircraft.json", lambda: parse_aircraft_json(text, PARTY))
    if result is not None:
        assert all(isinstance(t, Track) for t in result.accepted)
        assert all(r.reason for r in result.rejected)


# --- DSS access tokens -------------------------------------------------------------------------

_AUTHORITY = Authority()
_OTHER = Authority()


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> TokenVerifier:
    pem = tmp_path_factory.mktemp("keys") / "authority.pem"
    pem.write_text(_AUTHORITY.pem())
    return TokenVerifier(KeySet.load(str(pem)), AUD, ISS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def tokens(draw: st.DrawFn) -> str:
    """Tokens signed by the authority with mutated claims or headers (a USS's odd token),
    signed by another key or with another algorithm, or mutated after signing."""
    claims = draw(mutated_json(seeds.JWT_CLAIMS, max_edits=3))
    kind = draw(st.sampled_from(["signed", "signed", "other-key", "none", "hs256", "tampered"]))
    if kind == "none" or not isinstance(claims, dict):
        body = json.dumps(claims, default=str).encode()
        header = draw(mutated_json([{"alg": "none", "typ": "JWT"}, {"alg": "RS256", "kid": "k1"}]))
        return (
            f"{_b64(json.dumps(header).encode())}.{_b64(body)}.{draw(st.sampled_from(['', 'x']))}"
        )
    try:
        if kind == "hs256":
            return jwt.encode(claims, "secret" * 6, algorithm="HS256")
        key = (_OTHER if kind == "other-key" else _AUTHORITY).key
        headers = draw(mutated_json([{"kid": "k1"}, {"kid": "k1", "typ": "JWT"}]))
        headers = headers if isinstance(headers, dict) else None
        token = jwt.encode(claims, key, algorithm="RS256", headers=headers)
    except (TypeError, ValueError, OverflowError, jwt.PyJWTError):  # PyJWT cannot encode it
        assume(False)
        raise
    if kind == "tampered":
        token = draw(mutated_text([token], max_edits=2))
    return token


@fuzz
@given(tokens())
def test_dss_tokens(verifier: TokenVerifier, token: str) -> None:
    claims = outcome("DSS JWT", lambda: verifier.verify(token), DssError)
    if claims is not None:
        assert isinstance(claims.manager, str)
        assert claims.manager


# --- TOML configuration ------------------------------------------------------------------------


@fuzz
@given(mutated_text(seeds.POLICIES, max_edits=5))
def test_policy_toml(text: str) -> None:
    p = outcome("policy TOML", lambda: Policy.from_toml(text))
    assert p is None or isinstance(p, Policy)


@fuzz
@given(st.one_of(mutated_text([seeds.COT_CONFIG], max_edits=5).map(str.encode),
                 mutated_bytes([seeds.COT_CONFIG.encode()], max_edits=3)))  # fmt: skip
def test_cot_config_toml(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path: Path = tmp_path_factory.getbasetemp() / "cot-fuzz.toml"
    path.write_bytes(data)
    outcome("CoT config TOML", lambda: load_cot_config(path))
