"""Outside inputs and outputs: surveillance feeds (SBS-1, aircraft.json, OpenSky), the
recorded ADS-B samples used for replay, the exchange formats (ICAO NOTAM drafts,
KML/KMZ) and the Cursor-on-Target gateway for TAK.

Parsers are pure functions from bytes or text to :class:`~deconfliction.model.Track`
reports attributed to a configured party, with a reason for each item they refuse; the
feed clients are small asyncio loops around them that hand batches to a sink.

>>> from uuid import UUID
>>> d = SbsDecoder(UUID(int=7))
>>> d.feed("MSG,3,,,3C6586,,2026/12/01,12:00:00.000,,,,24000,,,50.03,8.57,,,,,,0").altitude_m
7315.2
"""

from deconfliction.interop._app import create_hub_app
from deconfliction.interop._clients import (
    FeedStats,
    Sink,
    poll_aircraft_json,
    poll_opensky,
    sbs_client,
)
from deconfliction.interop._common import (
    DEFAULT_FEED_LIMITS,
    FeedLimits,
    surveillance_track,
)
from deconfliction.interop._cot import (
    MAX_EVENT_BYTES,
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
from deconfliction.interop._cot_config import CotConfig, load_cot_config
from deconfliction.interop._cot_gateway import CotGateway
from deconfliction.interop._feeds import FEED_TYPES, FeedConfig, Feeds, load_feeds
from deconfliction.interop._fetch import (
    SAMPLE_FILES,
    SAMPLES_ENV,
    TRAFFIC_VERSION,
    SamplesUnavailable,
    fetch_samples,
    samples_dir,
)
from deconfliction.interop._json_feeds import parse_aircraft_json, parse_opensky_states
from deconfliction.interop._kml import MAX_KML_BYTES, activity_kml, kmz, read_kml, site_kml
from deconfliction.interop._notam import NOTAM_CODES, notam_text
from deconfliction.interop._samples import iter_json_array, iter_sample_records, track_from_sample
from deconfliction.interop._sbs import SbsDecoder, decode_sbs_lines
from deconfliction.interop._units import altitude_property

__all__ = [
    "DEFAULT_FEED_LIMITS",
    "FEED_TYPES",
    "SAMPLES_ENV",
    "SAMPLE_FILES",
    "TRAFFIC_VERSION",
    "FeedConfig",
    "FeedLimits",
    "FeedStats",
    "Feeds",
    "SamplesUnavailable",
    "SbsDecoder",
    "Sink",
    "create_hub_app",
    "decode_sbs_lines",
    "fetch_samples",
    "iter_json_array",
    "iter_sample_records",
    "load_feeds",
    "parse_aircraft_json",
    "parse_opensky_states",
    "poll_aircraft_json",
    "poll_opensky",
    "samples_dir",
    "sbs_client",
    "surveillance_track",
    "track_from_sample",
    "MAX_KML_BYTES",
    "NOTAM_CODES",
    "activity_kml",
    "kmz",
    "notam_text",
    "read_kml",
    "site_kml",
    "MAX_EVENT_BYTES",
    "CotConfig",
    "CotEvent",
    "CotGateway",
    "CotSplitter",
    "alert_event",
    "altitude_property",
    "chat_event",
    "load_cot_config",
    "parse_event",
    "pong",
    "shape_event",
    "shape_of",
    "track_of",
]
