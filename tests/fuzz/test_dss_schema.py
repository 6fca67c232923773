"""Schemathesis against the hub's ``/dss/v1`` routes with the ASTM F3548-21 interface
itself (``/work/shared/specs``; ``DECONFLICTION_F3548_SPEC`` names another copy) as the
schema: the discovery service must answer every request as the standard says, whatever
it is sent. Tokens are valid RS256 JWTs of a mapped USS, holding every scope, only the
scopes of the operation, or none at all; ids are random or those of existing objects.

One deviation from the interface file is declared (:data:`DEVIATIONS`): a stale
``old_version`` of a USS availability is answered 409, as the InterUSS reference DSS does,
where the file lists no 409. ``FUZZ_DSS_EXAMPLES`` (default 5) is the number of examples
per operation (``make fuzz`` raises it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import strategies as st

from tests.fuzz.conftest import FuzzHub
from tests.fuzz.test_api_schema import CHECKS, fuzz_operations
from tests.fuzz.tried import TRIED
from tests.interop.dss_support import AA, CM, CMSA, CP, SC, Authority, circle, intent

SPEC = Path(
    os.environ.get("DECONFLICTION_F3548_SPEC", "/work/shared/specs/astm-f3548-v21-utm.yaml")
)
ALL_SCOPES = (SC, CMSA, CM, CP, AA)
EXAMPLES = int(os.environ.get("FUZZ_DSS_EXAMPLES", "5"))
DEVIATIONS = {
    ("/dss/v1/uss_availability/{uss_id}", "put", "409"): {
        "description": "old_version is not the current version (as the InterUSS DSS answers)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    },
}
"""Responses the hub gives that the interface file does not list, by (path, method, status)."""


def f3548_schema() -> Any:
    """The interface file's ``/dss/v1`` operations, with :data:`DEVIATIONS` declared."""
    raw = yaml.safe_load(SPEC.read_text())
    for (path, method, status), response in DEVIATIONS.items():
        raw["paths"][path][method]["responses"][status] = response
    return schemathesis.openapi.from_dict(raw).include(path_regex="^/dss/v1/")


TOKENS = ("all", "operation", "none", None)


def test_dss_conforms_to_f3548(fuzz_hub: FuzzHub, fuzz_authority: Authority) -> None:
    if not SPEC.is_file():
        pytest.skip(f"the F3548 interface file is not at {SPEC}")
    api = f3548_schema()
    c = fuzz_hub.client
    sc = {"Authorization": f"Bearer {fuzz_authority.token('uss-a', SC)}"}
    r = c.put(
        "/dss/v1/operational_intent_references/7a1c2b0e-6c7e-4a3b-9d5e-1f2a3b4c5d6e",
        json=intent(circle(-170.0, -60.0)),
        headers=sc,
    )
    assert r.status_code == 201, r.text
    ref = r.json()["operational_intent_reference"]
    real = {"entityid": ref["id"], "ovn": ref["ovn"], "uss_id": "uss-a"}

    tokens: dict[tuple[str, ...], str] = {}

    def call(case: schemathesis.Case, more: tuple[str | None, bool]) -> None:
        token, real_ids = more
        if real_ids and case.path_parameters:
            for name in case.path_parameters:
                if name in real:
                    case.path_parameters[name] = real[name]
        headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
        if token is not None:
            scopes: tuple[str, ...] = ()
            if token == "all":
                scopes = ALL_SCOPES
            elif token == "operation":
                scopes = _operation_scopes(case.operation.definition.raw)
            if scopes not in tokens:
                tokens[scopes] = fuzz_authority.token("uss-a", *scopes)
            headers["Authorization"] = f"Bearer {tokens[scopes]}"
        case.headers = headers
        r = case.call_and_validate(
            session=fuzz_hub.client, base_url="http://testserver", checks=CHECKS
        )
        TRIED[f"dss /dss/v1 answered {r.status_code // 100}xx"] += 1

    extra = st.tuples(st.sampled_from(TOKENS), st.booleans())
    failures = fuzz_operations(api, call, "dss /dss/v1 (F3548 spec)", EXAMPLES, extra)
    assert not failures, "\n\n".join(failures)


def _operation_scopes(definition: dict[str, Any]) -> tuple[str, ...]:
    """The scopes of the first alternative the operation's ``security`` lists."""
    for requirement in definition.get("security", []):
        for scopes in requirement.values():
            return tuple(scopes)
    return ()
