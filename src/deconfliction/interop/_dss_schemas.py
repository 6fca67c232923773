"""Request bodies of the F3548 discovery service (``/dss/v1``), as its interface declares
them; fields it does not declare are ignored. Checks beyond the shapes (a base URL's form,
an entity id's UUID version) are here too, so the service gets checked values."""

from __future__ import annotations

import re
from typing import Literal
from uuid import UUID

from pydantic import Field

from deconfliction.interop._dss_errors import DssError
from deconfliction.interop._dss_volumes import In, TimeIn, Volume4DIn

__all__ = [
    "AvailabilityIn",
    "ErrorReportIn",
    "IntentState",
    "PutConstraintIn",
    "PutIntentIn",
    "PutSubscriptionIn",
    "QueryIn",
    "base_url",
    "entity_id",
]

IntentState = Literal["Accepted", "Activated", "Nonconforming", "Contingent"]
Availability = Literal["Unknown", "Normal", "Down"]
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


def entity_id(text: str, what: str = "entityid") -> UUID:
    """An EntityID / SubscriptionID: a version-4 UUID (else 400)."""
    if not _UUID4.match(text):
        raise DssError(400, f"{what} must be a version-4 UUID, got {text[:60]!r}")
    return UUID(text)


def uuid7(text: str, what: str) -> UUID:
    if not _UUID7.match(text):
        raise DssError(400, f"{what} must be a version-7 UUID")
    return UUID(text)


def base_url(text: str, what: str = "uss_base_url") -> str:
    """A USS base URL: http(s), no query or fragment, no trailing '/' (else 400)."""
    if len(text) > 2000 or not _URL.match(text) or text.endswith("/"):
        raise DssError(400, f"{what} must be an http(s) URL without a trailing '/'")
    return text


class QueryIn(In):
    area_of_interest: Volume4DIn | None = None


class ImplicitSubscriptionIn(In):
    uss_base_url: str
    notify_for_constraints: bool = False


class PutIntentIn(In):
    extents: list[Volume4DIn] = Field(min_length=1, max_length=100)
    key: list[str] | None = Field(default=None, max_length=10_000)
    state: IntentState
    uss_base_url: str
    subscription_id: str | None = None
    new_subscription: ImplicitSubscriptionIn | None = None
    requested_ovn_suffix: str | None = None


class PutConstraintIn(In):
    extents: list[Volume4DIn] = Field(min_length=1, max_length=100)
    uss_base_url: str


class PutSubscriptionIn(In):
    extents: Volume4DIn
    uss_base_url: str
    notify_for_operational_intents: bool = False
    notify_for_constraints: bool = False


class AvailabilityIn(In):
    old_version: str = Field(default="", max_length=64)
    availability: Availability


class ExchangeIn(In):
    url: str = Field(max_length=4000)
    method: str = Field(max_length=16)
    headers: list[str] = Field(default_factory=list, max_length=200)
    recorder_role: Literal["Client", "Server"]
    request_time: TimeIn
    request_source: str = Field(max_length=2000)
    request_body: str = ""
    response_time: TimeIn | None = None
    response_body: str = ""
    response_code: int = 0
    problem: str | None = None


class ErrorReportIn(In):
    exchange: ExchangeIn
