"""What every atheris harness shares: run ``check(data)`` under libFuzzer for
``FUZZ_SECONDS`` (default 60) from a seed corpus of valid documents; libFuzzer prints the
inputs tried at the end (``Done N runs``, ``stat::number_of_executed_units``), which
``fuzz/run_all.py`` collects.

A harness's ``check`` lets the parser's declared error through as a normal outcome (it
asserts the error has a message); any other exception is a crash: atheris prints it and
writes the input to ``fuzz/crashes/`` (``python fuzz/fuzz_X.py fuzz/crashes/crash-…``
replays one). Run from the repository root (``make fuzz``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.fuzz.seeds

CRASHES = ROOT / "fuzz" / "crashes"


def expect(errors: tuple[type[BaseException], ...], parse: Callable[[], object]) -> object:
    """``parse()``, or None when it raised one of ``errors`` with a message."""
    try:
        return parse()
    except errors as exc:
        if not str(exc).strip():
            raise AssertionError(f"{type(exc).__name__} without a message") from exc
        return None


def run(name: str, check: Callable[[bytes], None], seeds: Iterable[bytes]) -> None:
    """Fuzz ``check`` for ``FUZZ_SECONDS``; extra command-line arguments go to libFuzzer
    (a file argument replays that input)."""
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    corpus = Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-"))
    for i, seed in enumerate(seeds):
        (corpus / f"seed-{i}").write_bytes(seed)
    CRASHES.mkdir(exist_ok=True)
    args = [sys.argv[0], *sys.argv[1:]]
    if not any(not a.startswith("-") for a in sys.argv[1:]):  # no input file: fuzz
        args += [
            f"-max_total_time={seconds}",
            "-timeout=10",  # one input over 10 s is a hang
            "-rss_limit_mb=2048",
            "-max_len=65536",
            f"-artifact_prefix={CRASHES}/{name}-",
            "-print_final_stats=1",
            str(corpus),
        ]
    atheris.Setup(args, check)
    atheris.Fuzz()
