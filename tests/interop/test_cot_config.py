"""The CoT gateway's TOML file: a bad file is refused with one reason (InvalidInput)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconfliction.errors import InvalidInput
from deconfliction.interop import load_cot_config

GOOD = '[listen]\ntcp_port = 8087\ntcp_party = "Blue"\n\n[[parties]]\nparty = "Blue"\n'


def test_a_good_file_is_read(tmp_path: Path) -> None:
    p = tmp_path / "cot.toml"
    p.write_text(GOOD)
    assert load_cot_config(p).listen.tcp_party == "Blue"


@pytest.mark.regression
def test_a_file_that_is_not_utf8_is_refused_with_the_reason(tmp_path: Path) -> None:
    """Found by fuzzing (tests/fuzz): a Latin-1 byte raised UnicodeDecodeError."""
    p = tmp_path / "cot.toml"
    p.write_bytes(GOOD.replace("Blue", "Bl\xe9").encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8 text") as e:
        load_cot_config(p)
    assert e.value.field == "cot"


@pytest.mark.parametrize(
    ("text", "where"),
    [("[listen\n", "cot"), ("[listen]\ntcp_port = -1\n", "cot.listen.tcp_port")],
)
def test_bad_toml_names_the_problem(tmp_path: Path, text: str, where: str) -> None:
    p = tmp_path / "cot.toml"
    p.write_text(text)
    with pytest.raises(InvalidInput) as e:
        load_cot_config(p)
    assert e.value.field == where
