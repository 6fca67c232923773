"""Fixtures: a fresh store per test, on a real SQLite file and on PostgreSQL
(``store_url`` in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deconfliction.store import SqlStore, open_store


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A migrated store, once on each backend."""
    s = open_store(store_url)
    yield s
    s.close()
