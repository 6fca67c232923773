"""The import-layer contracts in pyproject.toml hold, and would catch a violation.

``lint-imports`` runs in a subprocess, once on the real package and once on throwaway
packages built from the same contracts (with the root package renamed), so that a contract
that could never fail (a typo in a module name, a layer that is silently skipped) is noticed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
FAKE = "fakedeco"


def _lint_imports_exe() -> str:
    exe = Path(sys.executable).parent / "lint-imports"
    if exe.exists():
        return str(exe)
    found = shutil.which("lint-imports")
    if found is None:
        pytest.fail("lint-imports not found beside the interpreter nor on PATH")
    return found


def _run(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return subprocess.run(
        [_lint_imports_exe(), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _importlinter_config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"][
        "importlinter"
    ]
    return config


def _rename(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("deconfliction", FAKE)
    if isinstance(value, list):
        return [_rename(v) for v in value]
    return value


def _toml(config: dict[str, Any]) -> str:
    """Serialise the [tool.importlinter] table (strings, booleans and lists of strings)."""
    lines = ["[tool.importlinter]"]
    lines += [f"{k} = {json.dumps(_rename(v))}" for k, v in config.items() if k != "contracts"]
    for contract in config["contracts"]:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{k} = {json.dumps(_rename(v))}" for k, v in contract.items()]
    return "\n".join(lines) + "\n"


def _make_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A fake package with the required layers of the real one, plus ``files``."""
    pkg = tmp_path / "src" / FAKE
    layers = _importlinter_config()["contracts"][0]["layers"]
    base = {"__init__.py": "", "errors.py": ""}
    base |= {f"{name}/__init__.py": "" for name in layers if name[0] != "(" and name != "errors"}
    for rel, text in {**base, **files}.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(_toml(_importlinter_config()), encoding="utf-8")
    return tmp_path


def test_contracts_are_declared() -> None:
    contracts = {c["id"]: c for c in _importlinter_config()["contracts"]}
    layers = contracts["layers"]["layers"]
    # top to bottom; the required ones in this order, future ones optional "(name)"
    required = [layer for layer in layers if not layer.startswith("(")]
    assert required == [
        "cli",
        "web",
        "interop",
        "api",
        "bus",
        "audit",
        "store",
        "hotline",
        "model",
        "detect",
        "geo",
        "errors",
    ]
    assert set(contracts["pure-core"]["source_modules"]) == {
        "deconfliction.geo",
        "deconfliction.detect",
        "deconfliction.model",
    }
    assert set(contracts["pure-core"]["forbidden_modules"]) >= {
        "sqlite3",
        "socket",
        "http",
        "urllib",
        "requests",
        "sqlalchemy",
    }


def test_package_keeps_its_import_contracts() -> None:
    result = _run(ROOT, ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_clean_fake_package_passes(tmp_path: Path) -> None:
    """Control for the next test: the derived config itself is valid and can pass."""
    project = _make_package(
        tmp_path,
        {
            "geo/shapes.py": "from fakedeco.errors import *\nimport math\n",
            "detect/overlap.py": "from fakedeco.geo import shapes\n",
            "cli/main.py": "from fakedeco.detect import overlap\nimport sqlite3\n",
        },
    )
    result = _run(project, project / "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_violations_are_reported(tmp_path: Path) -> None:
    project = _make_package(
        tmp_path,
        {
            # geo reaching up into detect: a layer violation
            "geo/shapes.py": "from fakedeco.detect import overlap\n",
            # detect doing I/O: forbidden directly, and therefore indirectly for geo
            "detect/overlap.py": "import sqlite3\nfrom urllib import request\n",
            # errors (bottom layer) importing the CLI (top layer)
            "errors.py": "import fakedeco.cli\n",
            # a new top-level module that nobody placed in the layers
            "helpers.py": "",
        },
    )
    result = _run(project, project / "src")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "fakedeco.geo.shapes -> fakedeco.detect.overlap" in out
    assert "fakedeco.detect.overlap -> sqlite3" in out
    assert "fakedeco.detect.overlap -> urllib" in out
    assert "fakedeco.geo is not allowed to import sqlite3" in out  # indirect, via detect
    assert "fakedeco.errors -> fakedeco.cli" in out
    assert "fakedeco.helpers" in out  # exhaustive: undeclared module
