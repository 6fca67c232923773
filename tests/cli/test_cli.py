"""The `deconfliction` command, run as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-volumes.geojson"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deconfliction.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_sample_lists_the_conflicts():
    r = _run("check", str(SAMPLE))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("7 conflict(s) among 6 subjects")
    assert "protected site Field hospital [relief-org]: overlapping" in r.stdout
    assert "Helicopter training" not in r.stdout
    assert "indexed 6 subjects, 7 volumes" in r.stderr


def test_check_json_lines():
    r = _run("check", str(SAMPLE), "--json", "--quiet")
    assert r.returncode == 0
    assert r.stderr == ""
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 7
    hospital = [x for x in rows if x["other"]["id"] == "field-hospital"]
    assert hospital
    assert hospital[0]["intersection"]["type"] == "Polygon"


def test_tighter_buffers_find_fewer(tmp_path):
    r = _run(
        "check", str(SAMPLE), "--horizontal-m", "0", "--vertical-m", "0", "--time-s", "0", "--json"
    )
    assert r.returncode == 0
    assert 0 < len(r.stdout.splitlines()) < 7


def test_bad_input_is_one_clear_line(tmp_path):
    bad = tmp_path / "bad.geojson"
    doc = json.loads(SAMPLE.read_text())
    doc["features"][2]["properties"]["time_end"] = "2026-12-02T06:00:00Z"  # before its start
    bad.write_text(json.dumps(doc))
    r = _run("check", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "deconfliction: error: features[2].properties.time_end: must be after time.start"
    ]
    r = _run("check", str(tmp_path / "missing.geojson"))
    assert r.returncode == 2
    assert "No such file" in r.stderr
    (tmp_path / "x.json").write_text("{not json")
    r = _run("check", str(tmp_path / "x.json"))
    assert r.returncode == 2
    assert "not JSON" in r.stderr


def test_usage_errors_are_one_line():
    r = _run("activity")
    assert r.returncode == 2
    assert r.stderr == (
        "deconfliction activity: error: the following arguments are required: COMMAND (see --help)\n"
    )
    r = _run("nonsense")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("deconfliction: error: argument COMMAND: invalid choice: 'nonsense'")


def test_help_lists_the_commands():
    r = _run("--help")
    assert r.returncode == 0
    for command in ("serve", "admin", "activity", "notices", "policy", "demo", "check"):
        assert command in r.stdout


def test_main_returns_the_exit_code(capsys):
    from deconfliction.cli import main

    assert main(["--version"]) == 0
    assert main(["activity", "list", "--url", "http://127.0.0.1:9", "--token", "t"]) == 3
    assert main(["activity", "list", "--url", "ftp://x", "--token", "t"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "deconfliction: error: cannot reach http://127.0.0.1:9: connection refused",
        "deconfliction: error: url 'ftp://x' (from --url) must start with http:// or https://",
    ]


def test_a_file_that_is_not_utf8_is_one_clear_line(tmp_path):
    """Regression: a Latin-1 file raised UnicodeDecodeError (a traceback) out of `check`."""
    latin = tmp_path / "latin.geojson"
    latin.write_bytes(SAMPLE.read_text().replace("BRAVO", "BRAVÖ").encode("latin-1"))
    at = latin.read_bytes().index("Ö".encode("latin-1"))
    r = _run("check", str(latin))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"deconfliction: error: {latin}: not UTF-8 text (invalid continuation byte at byte {at})"
    ]
