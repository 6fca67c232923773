"""Fixtures for the end-to-end API tests: one real server for the session, four parties.

``hub`` starts ``uvicorn`` as a subprocess on a free loopback port with a fresh data
directory (the first admin token is made on the empty store before it starts) and stops it
at the end of the session; tests file in places no other test uses (:func:`spot`), so they
do not meet by accident. ``parties`` are Blue and Red (armed forces), Green (humanitarian)
and Civil (air navigation service), each with an operator and an observer token.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.api._hub import Hub, Party, add_parties, bootstrap, data_dir


@pytest.fixture(scope="session")
def hub() -> Iterator[Hub]:
    """The hub most API tests share. Its links degrade only after 10 hours: a link change
    is a ledger write, and tests that check nothing was written must not see one land
    because the suite ran past a minute (channel health has hubs of its own)."""
    with data_dir("hub") as data:
        policy = data / "policy.toml"
        policy.write_text("[links]\ndegraded_after_min = 600\ndown_after_min = 601\n")
        h = Hub(data, env={"DECONFLICTION_POLICY": str(policy)})
        h.admin = bootstrap(data)
        h.start()
        try:
            yield h
        finally:
            h.stop()
            if "Traceback" in (log := h.log()):  # a 500 somewhere: show why
                sys.__stderr__.write(f"\n--- server log (tail) ---\n{log}\n")


@pytest.fixture(scope="session")
def admin(hub: Hub) -> str:
    return hub.admin


@pytest.fixture(scope="session")
def parties(hub: Hub, admin: str) -> Iterator[dict[str, Party]]:
    ps = add_parties(hub, admin)
    yield ps
    for p in ps.values():
        p.close()


@pytest.fixture(scope="session")
def blue(parties: dict[str, Party]) -> Party:
    return parties["Blue"]


@pytest.fixture(scope="session")
def red(parties: dict[str, Party]) -> Party:
    return parties["Red"]


@pytest.fixture(scope="session")
def green(parties: dict[str, Party]) -> Party:
    return parties["Green"]


@pytest.fixture(scope="session")
def civil(parties: dict[str, Party]) -> Party:
    return parties["Civil"]


@pytest.fixture
def anon(hub: Hub) -> Iterator[httpx.Client]:
    with hub.client() as c:
        yield c
