"""Fixtures of the F3548 discovery service tests: one authority per session, one hub in
process per module (tests use places no other test uses, see :func:`tests.api._hub.spot`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api._hub import data_dir
from tests.interop.dss_support import Authority, InProcess, in_process


@pytest.fixture(scope="session")
def authority() -> Authority:
    return Authority()


@pytest.fixture(scope="module")
def dss(authority: Authority) -> Iterator[InProcess]:
    with data_dir("dss") as d, in_process(d, authority) as hub:
        yield hub
