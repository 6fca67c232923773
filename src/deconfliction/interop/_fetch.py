"""Fetch the real ADS-B samples that the ``traffic`` wheel ships (OpenSky data).

The wheel is downloaded from the package registry with the current interpreter's pip
(``pip download --no-deps traffic==2.13``), and only the sample files are extracted into a
cache folder: ``$DECONFLICTION_SAMPLES`` if set, else ``~/.cache/deconfliction/samples``.
``traffic`` itself is never installed nor imported, and the data never enters the repository.

Fetching is idempotent: files already in the cache are not fetched again, and each file is
written under a temporary name and renamed, so an interrupted fetch leaves no half file.

>>> sorted(SAMPLE_FILES)
['LFBOTMA.json', 'quickstart.json.gz', 'switzerland.json.gz', 'toulouse.json.gz']
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from deconfliction.errors import DeconflictionError

__all__ = [
    "SAMPLES_ENV",
    "SAMPLE_FILES",
    "TRAFFIC_VERSION",
    "SamplesUnavailable",
    "fetch_samples",
    "samples_dir",
]

TRAFFIC_VERSION = "2.13"
"""The release of the ``traffic`` package whose wheel holds the samples."""

SAMPLES_ENV = "DECONFLICTION_SAMPLES"
"""Environment variable naming the cache folder (overrides the default)."""

_PREFIX = "traffic/data/samples/"
SAMPLE_FILES: dict[str, str] = {
    "quickstart.json.gz": _PREFIX + "collections/quickstart.json.gz",
    "switzerland.json.gz": _PREFIX + "collections/switzerland.json.gz",
    "LFBOTMA.json": _PREFIX + "airspaces/LFBOTMA.json",
    "toulouse.json.gz": _PREFIX + "calibration/toulouse.json.gz",
}
"""Cache file name → member of the wheel it is extracted from."""


class SamplesUnavailable(DeconflictionError):
    """The samples are not in the cache and could not be fetched (registry unreachable,
    unexpected wheel, unwritable cache). The message says which, and what to try."""

    status = 503
    title = "Samples unavailable"


def samples_dir() -> Path:
    """The cache folder: ``$DECONFLICTION_SAMPLES``, else ``~/.cache/deconfliction/samples``."""
    env = os.environ.get(SAMPLES_ENV, "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "deconfliction" / "samples"


def _missing(cache: Path) -> list[str]:
    return [name for name in SAMPLE_FILES if not (cache / name).is_file()]


def _download(work: Path, say: Callable[[str], None]) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--ignore-requires-python",
        "--disable-pip-version-check",
        f"traffic=={TRAFFIC_VERSION}",
        "-d",
        str(work),
    ]
    say(f"downloading the traffic {TRAFFIC_VERSION} wheel (about 28 MB): {' '.join(cmd[2:])}")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603 -- fixed argv: this interpreter's pip, a pinned wheel
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SamplesUnavailable(f"pip download could not run: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise SamplesUnavailable(
            f"pip download traffic=={TRAFFIC_VERSION} failed (exit {done.returncode}); "
            f"is the package registry reachable? pip said:\n{tail}"
        )
    wheels = sorted(work.glob("traffic-*.whl"))
    if not wheels:
        raise SamplesUnavailable(f"pip download left no traffic wheel in {work}")
    return wheels[0]


def _extract(wheel: Path, cache: Path, names: list[str], say: Callable[[str], None]) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = set(zf.namelist())
            for name in names:
                member = SAMPLE_FILES[name]
                if member not in members:
                    raise SamplesUnavailable(f"{wheel.name} has no member {member}")
                tmp = cache / f".{name}.{os.getpid()}.part"  # two fetches at once: each its own
                with zf.open(member) as src, tmp.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                tmp.replace(cache / name)
                say(f"extracted {name} ({(cache / name).stat().st_size:,} bytes)")
    except (zipfile.BadZipFile, OSError) as exc:
        raise SamplesUnavailable(f"cannot extract the samples from {wheel}: {exc}") from None


def fetch_samples(cache: Path | None = None, *, say: Callable[[str], None] | None = None) -> Path:
    """Make sure every file of :data:`SAMPLE_FILES` is in ``cache``; return the folder.

    Downloads the wheel only when a file is missing (into a temporary folder, removed
    afterwards). ``say`` receives progress lines (default: none). Raises
    :class:`SamplesUnavailable` with the reason when the files cannot be had.
    """
    cache = samples_dir() if cache is None else cache
    report = say or (lambda _line: None)
    names = _missing(cache)
    if not names:
        report(f"samples already in {cache}")
        return cache
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SamplesUnavailable(f"cannot create the cache folder {cache}: {exc}") from None
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="traffic-wheel-", dir=cache) as tmp:
        wheel = _download(Path(tmp), report)
        report(f"downloaded {wheel.name} ({wheel.stat().st_size:,} bytes)")
        _extract(wheel, cache, names, report)
    report(f"samples ready in {cache} ({time.monotonic() - start:.1f} s)")
    return cache
