"""atheris: the policy TOML (``Policy.from_toml``; text as a hub reads it: UTF-8)."""

import _harness
import atheris

with atheris.instrument_imports(include=["deconfliction"]):
    from deconfliction.errors import InvalidPolicy
    from deconfliction.model import Policy
from tests.fuzz import seeds


def check(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    _harness.expect((InvalidPolicy,), lambda: Policy.from_toml(text))


if __name__ == "__main__":
    _harness.run("policy", check, [p.encode() for p in seeds.POLICIES])
