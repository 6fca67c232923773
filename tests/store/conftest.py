"""Fixtures: a fresh store on a real SQLite file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deconfliction.store import SqlStore, open_store, sqlite_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated store in ``tmp_path``."""
    s = open_store(sqlite_url(tmp_path))
    yield s
    s.close()
