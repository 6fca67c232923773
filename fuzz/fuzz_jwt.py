"""atheris: the DSS's access tokens. The first byte chooses: the rest as a token as sent,
or as JSON claims signed by the authority's own key (a USS's odd but genuine token)."""

import json
import tempfile
from pathlib import Path

import _harness
import atheris
import jwt

with atheris.instrument_imports(include=["deconfliction"]):
    from deconfliction.interop._dss_auth import KeySet, TokenVerifier
    from deconfliction.interop._dss_errors import DssError
from tests.fuzz import seeds
from tests.interop.dss_support import AUD, ISS, Authority

AUTHORITY = Authority()
_pem = Path(tempfile.mkdtemp(prefix="fuzz-jwt-")) / "authority.pem"
_pem.write_text(AUTHORITY.pem())
VERIFIER = TokenVerifier(KeySet.load(str(_pem)), AUD, ISS)


def check(data: bytes) -> None:
    if not data:
        return
    mode, rest = data[0] % 2, data[1:]
    if mode == 0:
        token = rest.decode("utf-8", errors="replace")
    else:
        try:
            claims = json.loads(rest)
            token = jwt.encode(claims, AUTHORITY.key, algorithm="RS256", headers={"kid": "k1"})
        except (ValueError, TypeError, OverflowError, RecursionError, jwt.PyJWTError):
            return  # not claims PyJWT can sign
    _harness.expect((DssError,), lambda: VERIFIER.verify(token))


if __name__ == "__main__":
    signed = [b"\x01" + json.dumps(c).encode() for c in seeds.JWT_CLAIMS]
    raw = [b"\x00" + AUTHORITY.token("uss-a", "utm.strategic_coordination").encode()]
    _harness.run("jwt", check, signed + raw)
