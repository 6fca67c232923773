"""The Cursor-on-Target gateway's configuration: a TOML file (``DECONFLICTION_COT`` or
``serve --cot``)::

    [listen]
    host = "0.0.0.0"
    tcp_port = 8087            # plain TCP, for one party on a trusted network (0: off)
    tcp_party = "Blue"
    tls_port = 8089            # TLS; each client certificate's subject CN names its party
    cert = "/etc/hotline/cot-server.pem"
    key = "/etc/hotline/cot-server.key"
    client_ca = "/etc/hotline/tak-ca.pem"

    [[parties]]
    party = "Blue"             # the party's name or id
    cert_cn = "blue-tak"       # TLS clients with this certificate CN are Blue
    token_file = "/etc/hotline/blue.token"   # Blue's operator token: needed to file drawings
    shapes = "activity"        # drawn shapes become: "activity", "site" or "ignore"
    kind = "air_operation"     # … an activity of this kind,
    start_in_min = 60          # starting this long after the drawing arrives,
    hours = 2                  # lasting this long,
    lower = "SFC"              # between these altitudes (SFC, FL95, 5000ft, 1500m)
    upper = "5000ft"
    site_category = "other"    # or a protected site of this category, valid this long
    site_days = 30

    [[clients]]                # connect out to an existing TAK server as a party
    host = "tak.example.org"
    port = 8089
    party = "Blue"
    tls = true
    cert = "blue-client.pem"
    key = "blue-client.key"
    ca = "tak-ca.pem"

A bad file is refused at start with the one reason (:class:`InvalidInput`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from deconfliction.errors import InvalidInput
from deconfliction.interop._units import altitude_property
from deconfliction.model import ActivityKind, SiteCategory

__all__ = ["CotClientConfig", "CotConfig", "CotListen", "CotPartyRule", "load_cot_config"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class CotListen(BaseModel):
    model_config = _STRICT
    host: str = "127.0.0.1"
    tcp_port: int = Field(default=0, ge=0, le=65535)
    tcp_party: str | None = None
    tls_port: int = Field(default=0, ge=0, le=65535)
    cert: Path | None = None
    key: Path | None = None
    client_ca: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> CotListen:
        if self.tcp_port and not self.tcp_party:
            raise ValueError("tcp_party: a plain TCP listener serves one named party")
        if self.tls_port and not (self.cert and self.key and self.client_ca):
            raise ValueError("the TLS listener needs cert, key and client_ca")
        return self


class CotPartyRule(BaseModel):
    model_config = _STRICT
    party: str = Field(min_length=1)
    cert_cn: str | None = None
    token_file: Path | None = None
    shapes: Literal["activity", "site", "ignore"] = "ignore"
    kind: ActivityKind = ActivityKind.AIR_OPERATION
    start_in_min: float = Field(default=60.0, ge=0, le=7 * 24 * 60)
    hours: float = Field(default=2.0, gt=0, le=30 * 24)
    lower: str = "SFC"
    upper: str = "5000ft"
    site_category: SiteCategory = SiteCategory.OTHER
    site_days: float = Field(default=30.0, gt=0, le=3650)

    @model_validator(mode="after")
    def _shapes_need_a_token(self) -> CotPartyRule:
        if self.shapes != "ignore" and self.token_file is None:
            raise ValueError(f"shapes = {self.shapes!r} needs the party's token_file")
        altitude_property(self.lower, "lower")
        altitude_property(self.upper, "upper")
        return self


class CotClientConfig(BaseModel):
    model_config = _STRICT
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    party: str = Field(min_length=1)
    tls: bool = False
    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None


class CotConfig(BaseModel):
    model_config = _STRICT
    listen: CotListen = CotListen()
    parties: list[CotPartyRule] = Field(default_factory=list)
    clients: list[CotClientConfig] = Field(default_factory=list)

    def rule(self, party: str) -> CotPartyRule:
        """The rule for a party named as in the file (a default one if none is given)."""
        return next((r for r in self.parties if r.party == party), CotPartyRule(party=party))

    def party_of_cn(self, cn: str) -> str | None:
        return next((r.party for r in self.parties if r.cert_cn and r.cert_cn == cn), None)


def load_cot_config(path: Path) -> CotConfig:
    """The gateway's configuration (raises InvalidInput naming the first problem)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput("cot", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "cot", f"{path} is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("cot", f"{path} is not valid TOML: {exc}") from None
    try:
        return CotConfig.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "cot"
        raise InvalidInput(f"cot.{where}", first["msg"].removeprefix("Value error, ")) from None
