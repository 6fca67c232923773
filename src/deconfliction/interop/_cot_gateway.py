"""The Cursor-on-Target gateway: TAK clients (and TAK servers) on the hotline.

Each connection belongs to one party: the plain TCP listener's ``tcp_party``, a TLS
client's certificate CN (through ``[[parties]] cert_cn``), or an outgoing client's
``party``. On it:

* **in** — ``a-*`` positions are the party's tracks (the same ingest as the feeds);
  ``t-x-c-t`` pings are answered ``t-x-c-t-r``; drawn shapes (``u-d-f``, ``u-d-r``,
  ``u-d-c-c``) become, by the party's rule, an activity filed (or amended when the drawing
  changes) or a protected site, with the party's own token — or are ignored; ``t-x-d-d``
  of such a drawing cancels the activity (withdraws the site). A bad event is dropped with
  a log line; the connection carries on.
* **out** — what the party's event stream carries: each notice as a GeoChat message
  (``b-t-f``) and the activity's volumes as drawings (``u-d-f``, uid
  ``hotline-<activity>-<n>``, ``stale`` at the volume's end; removed when the activity no
  longer affects the party; a missed event is read back from the store, as the WebSocket
  does), hotline messages as GeoChat, tactical alerts as ``b-a-g``
  alerts at their position; a notice's conflicts as their common areas (red ``u-d-f``,
  uid ``hotline-conflict-<id>-<n>``). On connecting, the activities that affect the party.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from deconfliction.bus import Bus
from deconfliction.errors import DeconflictionError, InvalidInput
from deconfliction.geo import TimeWindow, footprint_from_geojson, volume_from_geojson
from deconfliction.hotline import (
    ActivityDraft,
    Hotline,
    Idempotency,
    Principal,
    activity_json,
    conflict_json,
)
from deconfliction.interop._cot import (
    CotEvent,
    CotSplitter,
    alert_event,
    chat_event,
    parse_event,
    pong,
    shape_event,
    shape_of,
    track_of,
)
from deconfliction.interop._cot_config import CotConfig, CotPartyRule
from deconfliction.interop._kml import circle_ring
from deconfliction.interop._units import altitude_metres
from deconfliction.model import ProtectedSite, Role

__all__ = ["CotGateway"]

log = logging.getLogger(__name__)

_GONE = {"cancelled", "ended", "no_longer_affected"}
_READ_BYTES = 65536


def _ring_of(feature: Mapping[str, Any]) -> list[list[float]]:
    """A volume's outline for a drawing (a circle as a polygon)."""
    g = feature["geometry"]
    if g["type"] == "Polygon":
        return [list(map(float, p[:2])) for p in g["coordinates"][0]]
    lon, lat = (float(c) for c in g["coordinates"][:2])
    return [list(p) for p in circle_ring(lon, lat, float(feature["properties"]["radius_m"]))]


@dataclass
class _Drawing:
    kind: str  # "activity" or "site"
    id: UUID
    version: int
    fingerprint: str
    """The first 16 hex digits of the SHA-256 of the drawing's shape (also kept in the
    object's remarks, see :func:`_mark`)."""


def _mark(uid: str, fingerprint: str) -> str:
    """The remarks of an object filed from a TAK drawing: the drawing's uid and shape, so
    that the gateway finds it again after a restart (:meth:`_Connection.recall`)."""
    return f"drawn in TAK ({uid}; shape {fingerprint})"


def _marked(remarks: str, uid: str) -> str | None:
    """The shape fingerprint in ``remarks`` if they mark an object drawn as ``uid``."""
    head = f"drawn in TAK ({uid}; shape "
    if remarks.startswith(head) and remarks.endswith(")"):
        return remarks[len(head) : -1]
    return None


@dataclass
class _Party:
    """What the gateway knows of one party: its id, its rule, its acting principal."""

    id: UUID
    name: str
    rule: CotPartyRule
    secret: str | None  # its operator token: needed to file drawings
    reader: Principal
    drawings: dict[str, _Drawing] = field(default_factory=dict)

    def actor(self, hotline: Hotline) -> Principal:
        """The token's principal, checked again at each use (a revoked token stops working
        here as it does on the API; the hub caches the check for a few seconds)."""
        if self.secret is None:
            raise InvalidInput("cot.token_file", f"no token configured for {self.name}")
        return hotline.authenticate(self.secret)


class CotGateway:
    """Run as an app background task: ``await CotGateway(config)(hotline)``."""

    def __init__(self, config: CotConfig) -> None:
        self.config = config
        self.parties: dict[str, _Party] = {}
        self.servers: list[asyncio.Server] = []
        self.connections = 0
        self.dropped = 0

    # ------------------------------------------------------------------ set-up

    def _resolve(self, hotline: Hotline, ref: str) -> _Party:
        known = self.parties.get(ref)
        if known is not None:
            return known
        with hotline.store.read() as tx:
            found = next((p for p in tx.list_parties() if str(p.id) == ref or p.name == ref), None)
        if found is None:
            raise InvalidInput("cot.party", f"no party named {ref!r} (nor with that id)")
        rule = self.config.rule(ref)
        secret = None
        if rule.token_file is not None:
            try:
                secret = rule.token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise InvalidInput(
                    "cot.token_file", f"cannot read {rule.token_file}: {exc.strerror}"
                ) from None
            except UnicodeDecodeError:
                raise InvalidInput(
                    "cot.token_file", f"{rule.token_file} is not a token (not UTF-8 text)"
                ) from None
            actor = hotline.authenticate(secret)  # refused at once if it is not a token
            if actor.party_id != found.id or actor.role is Role.OBSERVER:
                raise InvalidInput("cot.token_file", f"not an operator token of {found.name}")
        reader = Principal(token_id=UUID(int=0), party_id=found.id, role=Role.OBSERVER)
        party = _Party(found.id, found.name, rule, secret, reader)
        self.parties[ref] = party
        return party

    def _server_tls(self) -> ssl.SSLContext:
        lc = self.config.listen
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(lc.cert), str(lc.key))
        ctx.load_verify_locations(str(lc.client_ca))
        ctx.verify_mode = ssl.CERT_REQUIRED  # a TLS client is known by its certificate
        return ctx

    async def __call__(self, hotline: Hotline) -> None:
        lc = self.config.listen
        if lc.tcp_port:
            server = await asyncio.start_server(
                lambda r, w: self._accept(hotline, r, w, lc.tcp_party), lc.host, lc.tcp_port
            )
            self.servers.append(server)
            log.info("CoT gateway: TCP on %s:%d for %s", lc.host, lc.tcp_port, lc.tcp_party)
        if lc.tls_port:
            server = await asyncio.start_server(
                lambda r, w: self._accept(hotline, r, w, None),
                lc.host,
                lc.tls_port,
                ssl=self._server_tls(),
            )
            self.servers.append(server)
            log.info("CoT gateway: TLS on %s:%d", lc.host, lc.tls_port)
        clients = [asyncio.create_task(self._client(hotline, c)) for c in self.config.clients]
        try:
            await asyncio.gather(*(s.serve_forever() for s in self.servers), *clients)
        finally:
            for c in clients:
                c.cancel()
            for s in self.servers:
                s.close()

    async def _client(self, hotline: Hotline, cfg: Any) -> None:
        """Connect out to a TAK server as ``cfg.party``, again after any drop."""
        wait = 1.0
        while True:
            try:
                ctx = None
                if cfg.tls:
                    ctx = ssl.create_default_context(cafile=str(cfg.ca) if cfg.ca else None)
                    if cfg.cert and cfg.key:
                        ctx.load_cert_chain(str(cfg.cert), str(cfg.key))
                reader, writer = await asyncio.open_connection(cfg.host, cfg.port, ssl=ctx)
                wait = 1.0
                await self._accept(hotline, reader, writer, cfg.party)
            except (OSError, ssl.SSLError) as exc:
                log.warning("CoT client %s:%d: %s; again in %.0f s", cfg.host, cfg.port, exc, wait)
            await asyncio.sleep(wait)
            wait = min(60.0, wait * 2)

    # ------------------------------------------------------------------ one connection

    async def _accept(
        self,
        hotline: Hotline,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        party_ref: str | None,
    ) -> None:
        peer = writer.get_extra_info("peername")
        if party_ref is None:  # TLS: the certificate says who
            cert = writer.get_extra_info("peercert") or {}
            cn = next(
                (v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"), ""
            )
            party_ref = self.config.party_of_cn(cn)
            if party_ref is None:
                log.warning("CoT: %s presented certificate CN %r, which names no party", peer, cn)
                writer.close()
                return
        try:
            party = await asyncio.to_thread(self._resolve, hotline, party_ref)
        except DeconflictionError as exc:
            log.warning("CoT: %s for %s refused: %s", peer, party_ref, exc)
            writer.close()
            return
        self.connections += 1
        conn = _Connection(self, hotline, party, writer)
        log.info("CoT: %s connected as %s", peer, party.name)
        out = asyncio.create_task(conn.send_loop())
        try:
            await conn.read_loop(reader)
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            log.info("CoT: %s (%s) connection lost: %s", peer, party.name, exc)
        except Exception:  # one connection's failure must not stop the gateway: log it
            log.exception("CoT: %s (%s) connection failed", peer, party.name)
        finally:
            out.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await out
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
            self.connections -= 1
            log.info("CoT: %s (%s) disconnected", peer, party.name)


class _Connection:
    def __init__(
        self, gw: CotGateway, hotline: Hotline, party: _Party, writer: asyncio.StreamWriter
    ) -> None:
        self.gw = gw
        self.hotline = hotline
        self.party = party
        self.writer = writer
        self.contact_uid = "All Chat Rooms"  # until the client's own position tells its uid
        self.contact_callsign = "All Chat Rooms"
        self.lock = asyncio.Lock()

    async def send(self, data: bytes) -> None:
        async with self.lock:
            self.writer.write(data + b"\n")
            await self.writer.drain()

    # ------------------------------------------------------------------ in

    async def read_loop(self, reader: asyncio.StreamReader) -> None:
        splitter = CotSplitter()
        while data := await reader.read(_READ_BYTES):
            tracks = []
            for raw in splitter.feed(data):
                try:
                    event = parse_event(raw)
                    if event.type.startswith("a-"):
                        tracks.append(track_of(event, self.party.id))
                        contact = event.find("contact")
                        if contact is not None and event.uid != self.contact_uid:
                            self.contact_uid = event.uid  # the client's own uid: chat to it
                            self.contact_callsign = contact.get("callsign") or event.uid
                    else:
                        await self.handle(event)
                except DeconflictionError as exc:
                    self.gw.dropped += 1
                    log.info("CoT %s: event dropped: %s", self.party.name, exc)
            for reason in splitter.dropped:
                self.gw.dropped += 1
                log.info("CoT %s: dropped %s", self.party.name, reason)
            splitter.dropped.clear()
            if tracks:
                result = await asyncio.to_thread(self.hotline.ingest_feed, self.party.id, tracks)
                for refusal in result.rejected:
                    log.info("CoT %s: position refused: %s", self.party.name, refusal)

    async def handle(self, event: CotEvent) -> None:
        if event.type == "t-x-c-t":
            await self.send(pong(event, datetime.now(UTC)))
        elif event.type in ("u-d-f", "u-d-r", "u-d-c-c"):
            try:
                await asyncio.to_thread(self.drawn, event)
            except DeconflictionError as exc:  # the party's drawing was not taken: say why
                log.warning("CoT %s: drawing %s not taken: %s", self.party.name, event.uid, exc)
        elif event.type == "t-x-d-d":
            link = event.find("link")
            uid = link.get("uid") if link is not None else None
            if uid:
                try:
                    await asyncio.to_thread(self.deleted, uid)
                except DeconflictionError as exc:
                    log.warning("CoT %s: deleting %s failed: %s", self.party.name, uid, exc)

    def drawn(self, event: CotEvent) -> None:
        rule, party = self.party.rule, self.party
        if rule.shapes == "ignore":
            return
        actor = party.actor(self.hotline)
        geometry = shape_of(event)
        digest = hashlib.sha256(json.dumps(geometry, sort_keys=True).encode()).hexdigest()
        fingerprint = digest[:16]
        known = party.drawings.get(event.uid) or self.recall(event.uid)
        if known is not None and known.fingerprint == fingerprint:
            party.drawings[event.uid] = known
            return  # TAK clients re-send their drawings: nothing changed
        contact = event.find("contact")
        title = (
            contact.get("callsign") if contact is not None else None
        ) or f"TAK drawing {event.uid}"
        now = datetime.now(UTC)
        idem = Idempotency(f"cot:{event.uid}:{fingerprint}", digest)
        if rule.shapes == "site":
            self._site(event, geometry, title, now, idem, fingerprint, known)
            return
        props: dict[str, Any] = {  # both in metres: the rule may mix SFC, ft and FL
            "altitude_lower_m": altitude_metres(rule.lower, "lower"),
            "altitude_upper_m": altitude_metres(rule.upper, "upper"),
        }
        start = now + timedelta(minutes=rule.start_in_min)
        props |= {
            "time_start": start.isoformat(),
            "time_end": (start + timedelta(hours=rule.hours)).isoformat(),
        }
        if "radius_m" in geometry:
            props["radius_m"] = geometry.pop("radius_m")
        volume = volume_from_geojson({"type": "Feature", "geometry": geometry, "properties": props})
        draft = ActivityDraft(
            rule.kind, title[:200], (volume,), remarks=_mark(event.uid, fingerprint)
        )
        if known is not None and known.kind == "activity":
            r = self.hotline.amend(actor, known.id, known.version, draft)
        else:
            r = self.hotline.file(actor, draft, idempotency=idem)
        party.drawings[event.uid] = _Drawing(
            "activity", r.activity.id, r.activity.version, fingerprint
        )
        log.info(
            "CoT %s: drawing %s → activity %s v%d",
            party.name,
            event.uid,
            r.activity.id,
            r.activity.version,
        )

    def _site(
        self,
        event: CotEvent,
        geometry: dict[str, Any],
        title: str,
        now: datetime,
        idem: Idempotency,
        fingerprint: str,
        known: _Drawing | None,
    ) -> None:
        party, rule = self.party, self.party.rule
        actor = party.actor(self.hotline)
        props = {"radius_m": geometry.pop("radius_m")} if "radius_m" in geometry else {}
        footprint = footprint_from_geojson(
            {"type": "Feature", "geometry": geometry, "properties": props}
        )
        window = TimeWindow(now - timedelta(minutes=1), now + timedelta(days=rule.site_days))
        # id, owner and times are set by the service (as for POST /v1/sites).
        site = ProtectedSite(
            uuid4(),
            UUID(int=0),
            rule.site_category,
            title[:200],
            footprint,
            window,
            now,
            now,
            remarks=_mark(event.uid, fingerprint),
        )
        if known is not None and known.kind == "site":
            r = self.hotline.amend_site(actor, known.id, known.version, site)
        else:
            r = self.hotline.register_site(actor, site, idempotency=idem)
        party.drawings[event.uid] = _Drawing("site", r.site.id, r.site.version, fingerprint)

    def recall(self, uid: str) -> _Drawing | None:
        """The party's live activity or active site filed from drawing ``uid`` by this
        gateway before (a restart emptied its memory), found by its remarks; None if none."""
        actor = self.party.actor(self.hotline)
        for act, _ in self.hotline.list_activities(actor, scope="mine", live_only=True):
            if (fp := _marked(act.remarks, uid)) is not None:
                return _Drawing("activity", act.id, act.version, fp)
        for site in self.hotline.list_sites(actor, active_only=True):
            if (fp := _marked(site.remarks, uid)) is not None:
                return _Drawing("site", site.id, site.version, fp)
        return None

    def deleted(self, uid: str) -> None:
        known = self.party.drawings.pop(uid, None) or self.recall(uid)
        if known is None:
            return
        actor = self.party.actor(self.hotline)
        if known.kind == "activity":
            a, _ = self.hotline.get_activity(actor, known.id)
            self.hotline.cancel(actor, known.id, a.version)
        else:
            s, _ = self.hotline.get_site(actor, known.id)
            self.hotline.withdraw_site(actor, known.id, s.version)
        log.info(
            "CoT %s: drawing %s deleted → %s %s withdrawn",
            self.party.name,
            uid,
            known.kind,
            known.id,
        )

    # ------------------------------------------------------------------ out

    async def send_loop(self) -> None:
        sink = self.hotline.sink
        if not isinstance(sink, Bus):  # in-process or NATS: either has subscribers
            log.warning("CoT: no event bus to follow; sending nothing to %s", self.party.name)
            return
        sub = sink.subscribe(self.party.id)
        try:
            last = await asyncio.to_thread(self.hotline.last_seq, self.party.reader)
            rows = await asyncio.to_thread(
                self.hotline.list_activities, self.party.reader, scope="affecting", live_only=True
            )
            for a, full in rows:
                await self.shapes(activity_json(a, full=full), gone=False)
            while True:
                await sub.wake.wait()
                sub.wake.clear()
                events: list[Any] = []
                while not sub.queue.empty():
                    events.append(sub.queue.get_nowait())
                if sub.lagging or any(e.seq != last + 1 + i for i, e in enumerate(events)):
                    # the queue overflowed or skipped: the store has every event, in order
                    sub.lagging = False
                    events = []
                    while True:
                        after = events[-1].seq if events else last
                        batch = await asyncio.to_thread(
                            self.hotline.events_since, self.party.reader, after, limit=1000
                        )
                        events += batch
                        if len(batch) < 1000:
                            break
                for e in events:
                    if e.seq <= last:
                        continue
                    last = e.seq
                    try:
                        await self.forward(e.type, dict(e.payload))
                    except (KeyError, TypeError, ValueError) as exc:
                        log.info("CoT %s: event %s not forwarded: %s", self.party.name, e.type, exc)
        finally:
            sink.unsubscribe(sub)

    async def shapes(self, activity: Mapping[str, Any], *, gone: bool) -> None:
        now = datetime.now(UTC)
        for i, f in enumerate(activity["volumes"]["features"]):
            end = datetime.fromisoformat(f["properties"]["time_end"])
            stale = now if gone else max(end, now + timedelta(minutes=1))
            await self.send(
                shape_event(
                    f"hotline-{activity['id']}-{i + 1}",
                    str(activity.get("title", "activity")),
                    _ring_of(f),
                    now,
                    stale,
                    remarks=f"{activity.get('kind')} by {activity.get('owner')}",
                )
            )

    async def conflict_areas(self, conflict_id: UUID, *, gone: bool) -> None:
        """A conflict's common areas (computed now, as ``?geometry=true`` does), drawn red
        with uid ``hotline-conflict-<id>-<n>``, stale when the overlap ends."""
        c = await asyncio.to_thread(
            self.hotline.get_conflict, self.party.reader, conflict_id, geometry=True
        )
        now = datetime.now(UTC)
        n = 0
        for o in conflict_json(c)["overlaps"]:
            area = o.get("intersection")
            if not area:
                continue
            geometry = area.get("geometry", area)
            polygons = (
                [geometry["coordinates"]]
                if geometry["type"] == "Polygon"
                else geometry["coordinates"]
                if geometry["type"] == "MultiPolygon"
                else []
            )
            end = datetime.fromisoformat(o["time_end"]) if o.get("time_end") else now
            for rings in polygons:
                n += 1
                await self.send(
                    shape_event(
                        f"hotline-conflict-{conflict_id}-{n}",
                        "CONFLICT",
                        rings[0],
                        now,
                        now if gone else max(end, now + timedelta(minutes=1)),
                        remarks=f"conflict {conflict_id}: the declared volumes overlap here",
                    )
                )

    async def forward(self, type_: str, data: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        notice = data.get("notice")
        if (
            type_ in ("notice", "message.sent")
            and notice
            and notice.get("recipient") == str(self.party.id)
        ):
            text = str(notice.get("summary", ""))
            if notice.get("text"):
                text += f" — {notice['text']}" if notice["text"] not in text else ""
            await self.send(
                chat_event(str(notice["id"]), self.contact_uid, self.contact_callsign, text, now)
            )
            if type_ == "notice" and data.get("activity"):
                gone = notice.get("reason") in _GONE
                await self.shapes(data["activity"], gone=gone)
                for c in data.get("conflicts") or []:
                    await self.conflict_areas(UUID(str(c["id"])), gone=gone)
        elif type_ in ("alert.raised", "alert.updated", "alert.cleared", "alert.contingent"):
            alert = data.get("alert") or {}
            text = f"{alert.get('kind', 'tactical')} alert" + (
                " cleared" if type_ == "alert.cleared" else ""
            )
            pos = alert.get("position")  # lon, lat, altitude of the (first) track
            if pos is None:  # nowhere to put it on the map: a message instead
                await self.send(
                    chat_event(
                        f"alert-{now.timestamp()}",
                        self.contact_uid,
                        self.contact_callsign,
                        text,
                        now,
                    )
                )
                return
            stale = now if type_ == "alert.cleared" else now + timedelta(minutes=2)
            uid = f"hotline-alert-{alert.get('id') or alert.get('key', '')}"
            await self.send(alert_event(uid, text, float(pos[1]), float(pos[0]), now, stale))
