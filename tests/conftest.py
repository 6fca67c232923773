"""Suite-wide test configuration.

Hypothesis runs under the ``ci`` profile unless ``HYPOTHESIS_PROFILE`` names another one.
``HYPOTHESIS_MAX_EXAMPLES`` sets how many examples each property tries (default 200): raise
it for a soak run, lower it for a quick local loop. With ``CI=true`` the examples are
derandomised (the same every run). Registering ``ci`` here replaces the
profile of that name that Hypothesis itself loads when it detects a CI environment.
"""

from __future__ import annotations

import os

from hypothesis import settings

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
