"""Fixtures of the interop tests: the real ADS-B samples, fetched once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconfliction.interop import SamplesUnavailable, fetch_samples, samples_dir


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
