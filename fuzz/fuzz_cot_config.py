"""atheris: the CoT gateway's TOML file (``load_cot_config``; bytes written to a file)."""

import tempfile
from pathlib import Path

import _harness
import atheris

with atheris.instrument_imports(include=["deconfliction"]):
    from deconfliction.errors import InvalidInput
    from deconfliction.interop import load_cot_config
from tests.fuzz import seeds

PATH = Path(tempfile.mkdtemp(prefix="fuzz-cot-config-")) / "cot.toml"


def check(data: bytes) -> None:
    PATH.write_bytes(data)
    _harness.expect((InvalidInput,), lambda: load_cot_config(PATH))


if __name__ == "__main__":
    _harness.run("cot_config", check, [seeds.COT_CONFIG.encode()])
