"""``/dss/v1``: the ASTM F3548-21 discovery service's HTTP interface.

A FastAPI app of its own, mounted in the hub's (so its errors have the interface's shape,
``{"message": ...}``, and its own OpenAPI document is at ``/dss/v1/openapi.json``). Each
operation names the scope alternatives the interface lists for it; the token's ``sub`` is
the USS and acts as its mapped party (rate-limited as that party).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import Mount

from deconfliction.api import Settings, client_key
from deconfliction.hotline import Hotline
from deconfliction.interop._dss_auth import (
    AVAILABILITY_ARBITRATION as AA,
)
from deconfliction.interop._dss_auth import (
    CONFORMANCE_MONITORING_SA as CMSA,
)
from deconfliction.interop._dss_auth import (
    CONSTRAINT_MANAGEMENT as CM,
)
from deconfliction.interop._dss_auth import (
    CONSTRAINT_PROCESSING as CP,
)
from deconfliction.interop._dss_auth import (
    STRATEGIC_COORDINATION as SC,
)
from deconfliction.interop._dss_auth import (
    DssClient,
    KeySet,
    Managers,
    TokenVerifier,
    require,
)
from deconfliction.interop._dss_core import CONSTRAINT, OPERATIONAL_INTENT, DssLimits
from deconfliction.interop._dss_errors import DssError, install_dss_handlers
from deconfliction.interop._dss_schemas import (
    AvailabilityIn,
    ErrorReportIn,
    PutConstraintIn,
    PutIntentIn,
    PutSubscriptionIn,
    QueryIn,
    entity_id,
)
from deconfliction.interop._dss_subscriptions import Dss

__all__ = ["DSS_PREFIX", "create_dss_app", "mount_dss"]

DSS_PREFIX = "/dss/v1"

_bearer = HTTPBearer(auto_error=False, description="an RS256 access token of the UTM authority")


def _scopes(*alternatives: tuple[str, ...]) -> Any:
    """A dependency: the verified caller, holding one of the scope ``alternatives``."""
    alts = [frozenset(a) for a in alternatives]

    def client(
        request: Request,
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> DssClient:
        state = request.app.state
        hub = state.parent.state
        try:
            if creds is None or not creds.credentials:
                raise DssError(401, "send 'Authorization: Bearer <access token>'")
            claims = state.verifier.verify(creds.credentials)
        except DssError:  # a refused token spends from its client address's bucket
            hub.anonymous_limiter.take(client_key(request.scope))
            raise
        require(claims.scopes, alts)
        if not hub.ready:
            raise DssError(503, "the hub is starting: try again shortly")
        principal = state.managers.principal(claims.manager)
        hub.rate_limiter.take(principal.party_id)
        return DssClient(claims.manager, claims.scopes, principal)

    return Depends(client)


def _dss(request: Request) -> Dss:
    dss: Dss = request.app.state.dss
    return dss


Service = Annotated[Dss, Depends(_dss)]
_READS_INTENTS = _scopes((SC,), (CMSA,))
_READS_CONSTRAINTS = _scopes((CM,), (CP,))
IntentReader = Annotated[DssClient, _READS_INTENTS]
IntentWriter = Annotated[DssClient, _scopes((SC,), (SC, CP), (CMSA,))]
ConstraintWriter = Annotated[DssClient, _scopes((CM,))]
Subscriber = Annotated[DssClient, _scopes((CP,), (SC,))]
Reporter = Annotated[DssClient, _scopes((CM,), (CP,), (SC,), (CMSA,), (AA,))]
Arbitrator = Annotated[DssClient, _scopes((AA,))]
AvailabilityReader = Annotated[DssClient, _scopes((AA,), (SC,), (CMSA,))]


def _ovn(text: str) -> str:
    if not 16 <= len(text) <= 128:
        raise DssError(400, "ovn must be 16 to 128 characters")
    return text


router = APIRouter()
OI = "/operational_intent_references"
CR = "/constraint_references"
SUB = "/subscriptions"


# -- references: query and get (the same for both kinds) --------------------------------------


def _reference_reads(path: str, type_: str, tag: str, reader: Any) -> None:
    """``POST {path}/query`` and ``GET {path}/{entityid}`` for references of ``type_``;
    ``reader``: the dependency holding the scopes that may read them."""

    @router.post(f"{path}/query", tags=[tag], name=f"query_{type_}_references")
    def query(body: QueryIn, dss: Service, client: DssClient = reader) -> dict[str, Any]:
        return {f"{type_}_references": dss.query(client, type_, body)}

    @router.get(path + "/{entityid}", tags=[tag], name=f"get_{type_}_reference")
    def get(entityid: str, dss: Service, client: DssClient = reader) -> dict[str, Any]:
        return {f"{type_}_reference": dss.get(client, type_, entity_id(entityid))}


_reference_reads(OI, OPERATIONAL_INTENT, "Operational intent references", _READS_INTENTS)
_reference_reads(CR, CONSTRAINT, "Constraint references", _READS_CONSTRAINTS)


# -- operational intent references ------------------------------------------------------------


@router.put(
    OI + "/{entityid}", status_code=status.HTTP_201_CREATED, tags=["Operational intent references"]
)
def create_operational_intent_reference(
    entityid: str, body: PutIntentIn, client: IntentWriter, dss: Service
) -> dict[str, Any]:
    return dss.put_intent(client, entity_id(entityid), None, body)


@router.put(OI + "/{entityid}/{ovn}", tags=["Operational intent references"])
def update_operational_intent_reference(
    entityid: str, ovn: str, body: PutIntentIn, client: IntentWriter, dss: Service
) -> dict[str, Any]:
    return dss.put_intent(client, entity_id(entityid), _ovn(ovn), body)


@router.delete(OI + "/{entityid}/{ovn}", tags=["Operational intent references"])
def delete_operational_intent_reference(
    entityid: str, ovn: str, client: IntentReader, dss: Service
) -> dict[str, Any]:
    return dss.delete_intent(client, entity_id(entityid), _ovn(ovn))


# -- constraint references --------------------------------------------------------------------


@router.put(CR + "/{entityid}", status_code=status.HTTP_201_CREATED, tags=["Constraint references"])
def create_constraint_reference(
    entityid: str, body: PutConstraintIn, client: ConstraintWriter, dss: Service
) -> dict[str, Any]:
    return dss.put_constraint(client, entity_id(entityid), None, body)


@router.put(CR + "/{entityid}/{ovn}", tags=["Constraint references"])
def update_constraint_reference(
    entityid: str, ovn: str, body: PutConstraintIn, client: ConstraintWriter, dss: Service
) -> dict[str, Any]:
    return dss.put_constraint(client, entity_id(entityid), _ovn(ovn), body)


@router.delete(CR + "/{entityid}/{ovn}", tags=["Constraint references"])
def delete_constraint_reference(
    entityid: str, ovn: str, client: ConstraintWriter, dss: Service
) -> dict[str, Any]:
    return dss.delete_constraint(client, entity_id(entityid), _ovn(ovn))


# -- subscriptions ----------------------------------------------------------------------------


def _sub_id(text: str) -> UUID:
    return entity_id(text, "subscriptionid")


@router.post(f"{SUB}/query", tags=["Subscriptions"])
def query_subscriptions(body: QueryIn, client: Subscriber, dss: Service) -> dict[str, Any]:
    return {"subscriptions": dss.query_subscriptions(client, body)}


@router.get(SUB + "/{subscriptionid}", tags=["Subscriptions"])
def get_subscription(subscriptionid: str, client: Subscriber, dss: Service) -> dict[str, Any]:
    return {"subscription": dss.get_subscription(client, _sub_id(subscriptionid))}


@router.put(SUB + "/{subscriptionid}", tags=["Subscriptions"])
def create_subscription(
    subscriptionid: str, body: PutSubscriptionIn, client: Subscriber, dss: Service
) -> dict[str, Any]:
    return dss.put_subscription(client, _sub_id(subscriptionid), None, body)


@router.put(SUB + "/{subscriptionid}/{version}", tags=["Subscriptions"])
def update_subscription(
    subscriptionid: str, version: str, body: PutSubscriptionIn, client: Subscriber, dss: Service
) -> dict[str, Any]:
    return dss.put_subscription(client, _sub_id(subscriptionid), version, body)


@router.delete(SUB + "/{subscriptionid}/{version}", tags=["Subscriptions"])
def delete_subscription(
    subscriptionid: str, version: str, client: Subscriber, dss: Service
) -> dict[str, Any]:
    return dss.delete_subscription(client, _sub_id(subscriptionid), version)


# -- reports and availability -----------------------------------------------------------------


@router.post("/reports", status_code=status.HTTP_201_CREATED, tags=["Reports"])
def make_dss_report(body: ErrorReportIn, client: Reporter, dss: Service) -> dict[str, Any]:
    return dss.add_report(client, body)


@router.put("/uss_availability/{uss_id}", tags=["Availability"])
def set_uss_availability(
    uss_id: str, body: AvailabilityIn, client: Arbitrator, dss: Service
) -> dict[str, Any]:
    del client
    return dss.set_availability(uss_id, body)


@router.get("/uss_availability/{uss_id}", tags=["Availability"])
def get_uss_availability(uss_id: str, client: AvailabilityReader, dss: Service) -> dict[str, Any]:
    del client
    return dss.get_availability(uss_id)


def create_dss_app(settings: Settings, parent: FastAPI) -> FastAPI:
    """The discovery service over the hub ``parent`` (whose hotline it uses once ready)."""
    assert settings.dss_jwt_keys is not None
    assert settings.dss_audience is not None

    def hotline() -> Hotline:
        h: Hotline = parent.state.hotline
        return h

    app = FastAPI(
        title="ASTM F3548-21 discovery and synchronization service",
        description="The DSS part of the ASTM F3548-21 UTM interface, over the hotline: each "
        "operational intent is also an activity (uas_operation) of the USS's party.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.parent = parent
    app.state.verifier = TokenVerifier(
        KeySet.load(settings.dss_jwt_keys), settings.dss_audience, settings.dss_issuer
    )
    app.state.managers = Managers(settings.dss_managers, hotline)
    app.state.dss = Dss(
        hotline, DssLimits(settings.dss_max_area_km2 * 1e6, settings.dss_max_results)
    )
    install_dss_handlers(app)
    app.include_router(router)
    return app


def mount_dss(app: FastAPI, settings: Settings) -> None:
    """Serve the discovery service at ``/dss/v1`` in the hub ``app``.

    The mount matches every path under the prefix, also one whose parameters hold a line
    break (Starlette's mount pattern ends in ``.*``, which stops at one: such a request
    fell through to the hub's own 404, with the hub's error shape, not F3548's)."""
    mount = Mount(DSS_PREFIX, app=create_dss_app(settings, app))
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    app.router.routes.append(mount)
