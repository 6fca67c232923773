"""Schemathesis against the hub's own ``/openapi.json``, through its ASGI app, with real
tokens: each generated request goes as the admin, an operator or an observer (or with no
token), with path parameters that are random or the ids of objects that exist.

Checks: no 5xx, every response matches the schema the document declares for its status
and content type, and every status is one the document declares.
``HYPOTHESIS_MAX_EXAMPLES`` is not used here; ``FUZZ_API_EXAMPLES`` (default 10) is the
number of examples per operation (``make fuzz`` raises it).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import FuzzHub
from tests.fuzz.tried import TRIED

EXAMPLES = int(os.environ.get("FUZZ_API_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
ROLES = ("admin", "operator", "observer", None)


def fuzz_operations(
    api: Any, call: Any, label: str, examples: int, extra: st.SearchStrategy[Any]
) -> list[str]:
    """Run ``call(case, extra)`` (which calls and validates) on ``examples`` generated cases
    (valid ones and, where the schema allows, invalid ones) of every operation of the
    schemathesis schema ``api``; the failures, one text each
    (the first of each operation: Hypothesis shrinks it)."""
    failures: list[str] = []
    for result in api.get_all_operations():
        op = result.ok()

        cases = op.as_strategy()
        with contextlib.suppress(Exception):  # not every operation has invalid inputs
            cases = cases | op.as_strategy(schemathesis.GenerationMode.NEGATIVE)

        @given(case=cases, more=extra)
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=os.environ.get("CI", "").lower() == "true",
            database=None,
            print_blob=False,
        )
        def run(case: schemathesis.Case, more: Any) -> None:
            TRIED[label] += 1
            call(case, more)

        try:
            run()
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # one operation's failure must not hide the others'
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    return failures


def test_api_conforms_to_its_openapi(fuzz_hub: FuzzHub) -> None:
    api = schemathesis.openapi.from_asgi("/openapi.json", fuzz_hub.app)

    def call(case: schemathesis.Case, more: tuple[str | None, bool]) -> None:
        role, real_ids = more
        if real_ids and case.path_parameters:
            for name in case.path_parameters:
                if name in fuzz_hub.ids:
                    case.path_parameters[name] = fuzz_hub.ids[name]
        case.headers = {k: v for k, v in (case.headers or {}).items() if k != "Authorization"}
        if role is not None:
            case.headers["Authorization"] = f"Bearer {fuzz_hub.tokens[role]}"
        r = case.call_and_validate(session=fuzz_hub.client, checks=CHECKS)
        TRIED[f"api /v1 answered {r.status_code // 100}xx"] += 1

    extra = st.tuples(st.sampled_from(ROLES), st.booleans())
    failures = fuzz_operations(api, call, "api /v1 (hub OpenAPI)", EXAMPLES, extra)
    assert not failures, "\n\n".join(failures)
