"""Fetch the real ADS-B samples (OpenSky data shipped in the ``traffic`` 2.13 wheel).

    .venv/bin/python scripts/fetch_samples.py [--cache DIR]

Downloads the wheel with this interpreter's pip (``pip download --no-deps traffic==2.13``)
and extracts ``quickstart.json.gz``, ``switzerland.json.gz``, ``LFBOTMA.json`` and
``toulouse.json.gz`` into the cache: ``--cache``, else ``$DECONFLICTION_SAMPLES``, else
``~/.cache/deconfliction/samples``. Does nothing when they are already there. Exit status 0
when the samples are ready, 1 (with the reason) when they could not be fetched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deconfliction.interop import SamplesUnavailable, fetch_samples, samples_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, help=f"cache folder (default: {samples_dir()})")
    args = parser.parse_args(argv)
    try:
        folder = fetch_samples(args.cache, say=lambda line: print(line, file=sys.stderr))
    except SamplesUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
