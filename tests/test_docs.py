"""docs/configuration.md cannot go stale: every setting, ``serve`` flag and policy key is in
it, with the environment variable, flag and default the code has."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from deconfliction.api import Settings
from deconfliction.cli import main
from deconfliction.errors import InvalidPolicy
from deconfliction.model import DEFAULT_POLICY_TOML, Policy

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
DEPLOYMENT = ROOT / "docs" / "deployment.md"


def _settings_rows() -> dict[str, tuple[str, str, str]]:
    """``name -> (environment, flag, default)`` from the tables of the *Settings* section."""
    text = CONFIGURATION.read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|", 4)]
        if line.startswith("| `") and len(cells) == 5:
            name, env, flag, default = cells[0].strip("`"), cells[1], cells[2], cells[3]
            assert name not in rows, f"{name} is documented twice"
            rows[name] = (env, flag, default)
    return rows


def _serve_flags(capsys: pytest.CaptureFixture[str]) -> set[str]:
    try:
        code = main(["serve", "--help"])
    except SystemExit as exc:  # argparse's --help
        code = exc.code
    assert code == 0
    return set(re.findall(r"(--[a-z][a-z-]+)", capsys.readouterr().out)) - {"--help"}


def _shown(value: object) -> str:
    """A default as the docs write it: ``15.0`` → ``15``, ``True`` → ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_is_documented_with_its_variable() -> None:
    rows = _settings_rows()
    fields = set(Settings.model_fields)
    missing = fields - set(rows)
    assert not missing, f"settings missing from docs/configuration.md: {sorted(missing)}"
    unknown = set(rows) - fields
    assert not unknown, f"docs/configuration.md documents settings that do not exist: {unknown}"
    for name, (env, _flag, _default) in rows.items():
        assert env.startswith(f"`DECONFLICTION_{name.upper()}`"), (name, env)


def test_documented_defaults_are_the_code_defaults() -> None:
    rows = _settings_rows()
    checked = 0
    for name, field in Settings.model_fields.items():
        cell = rows[name][2]
        assert cell, f"{name}: no default documented"
        if field.default_factory is not None and name != "dss_managers":
            continue  # made at start (node_name: the host name): the cell says how
        default = field.get_default(call_default_factory=True)
        if default is None or default in ("", {}):
            # no value to show: the cell says what happens instead, never a made-up value
            assert not re.match(r"`[0-9]", cell), (name, cell)
            continue
        first = re.match(r"`([^`]*)`", cell)
        assert first, f"{name}: the default cell {cell!r} names no value"
        if isinstance(default, Path):
            assert Path(first.group(1)) == default, (name, first.group(1), default)
        else:
            assert first.group(1) == _shown(default), (name, first.group(1), default)
        checked += 1
    assert checked >= 15


def test_serve_flags_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    flags = _serve_flags(capsys)
    assert {"--host", "--port", "--config", "--log-level"} <= flags
    rows = _settings_rows()
    documented = {flag.strip("`"): name for name, (_e, flag, _d) in rows.items() if flag}
    text = CONFIGURATION.read_text(encoding="utf-8")
    for flag in flags:
        assert f"`{flag}" in text, f"serve {flag} is not in docs/configuration.md"
        setting = flag[2:].replace("-", "_")
        if setting in Settings.model_fields:
            assert documented.get(flag) == setting, f"{flag} is not in {setting}'s row"
    for flag, name in documented.items():
        assert flag in flags, f"docs/configuration.md gives {name} a flag serve lacks: {flag}"


def _known_keys(table: str) -> list[str]:
    """The keys the policy parser accepts in ``table``, as its own error message lists them."""
    with pytest.raises(InvalidPolicy) as exc:
        Policy.from_toml(f"[{table}]\nno_such_key = 1\n")
    listed = re.search(r"known: ([a-z0-9_, ]+)\)", str(exc.value))
    assert listed, str(exc.value)
    return [k.strip() for k in listed.group(1).split(",")]


@pytest.mark.parametrize("table", ["defaults", "links", "tracks"])
def test_every_policy_key_is_documented_with_its_default(table: str) -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    policy = text.split("\n## Policy\n", 1)[1].split("\n## ", 1)[0]
    builtin = tomllib.loads(DEFAULT_POLICY_TOML)[table]
    keys = _known_keys(table)
    assert set(builtin) <= set(keys)
    for key in keys:
        row = re.search(rf"^\| `{key}` \| ([^|]*)\|", policy, re.MULTILINE)
        assert row, f"policy key [{table}] {key} is not in docs/configuration.md"
        if key in builtin:
            shown = _shown(builtin[key])
            assert row.group(1).strip().startswith(f"`{shown}`"), (key, row.group(1), shown)


def test_builtin_kind_overrides_are_documented() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    for kind, overrides in tomllib.loads(DEFAULT_POLICY_TOML)["kinds"].items():
        row = re.search(rf"^\| `{kind}` \| (.*) \|$", text, re.MULTILINE)
        assert row, f"the built-in overrides of {kind} are not documented"
        for key, value in overrides.items():
            assert f"`{key} = {_shown(value)}`" in row.group(1), (kind, key, value)


def test_the_policy_example_in_the_docs_is_valid() -> None:
    text = CONFIGURATION.read_text(encoding="utf-8")
    example = text.split("\n# policy.toml: only what differs", 1)[1].split("```", 1)[0]
    example = example.split("\n", 1)[1]  # past the comment line
    policy = Policy.from_toml(example)
    assert policy.for_kind("hazard").min_lead_time_s == 720 * 60
    assert policy.link_down_after_s == 5 * 60


def test_the_readme_links_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in (CONFIGURATION, DEPLOYMENT):
        assert f"(docs/{doc.name})" in readme, f"README does not link docs/{doc.name}"
        for link in re.findall(r"\]\(([a-z_.]+\.md)\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / link).is_file(), f"{doc.name} links a missing {link}"
