"""Application services: file, amend, activate, end and cancel activities; register sites;
detect conflicts; create notices; record disclosures — one transaction per write.

Persistence and fan-out are ports (:class:`Store`, :class:`EventSink`) implemented by the
layers above (``store``, ``bus``). Webhook signatures (:func:`sign_webhook`,
:func:`verify_webhook`) are plain HMAC-SHA256, usable by a receiver written in Python.
"""

from deconfliction.hotline._assets import AssetReport
from deconfliction.hotline._figures import Figures, PairFigures, figures_json
from deconfliction.hotline._json import (
    activity_json,
    asset_json,
    conflict_json,
    disclosure_json,
    event_json,
    iso,
    notice_json,
    overlap_json,
    party_json,
    site_json,
    token_json,
    webhook_json,
)
from deconfliction.hotline._notices import NoticeStep
from deconfliction.hotline._ports import (
    Change,
    ChangeFeed,
    Clock,
    Disclosure,
    Event,
    EventSink,
    Fact,
    IdempotencyRecord,
    LinkRecord,
    LiveActivity,
    NoticeStat,
    Principal,
    Receipt,
    Recorder,
    Store,
    TokenInfo,
    Transaction,
)
from deconfliction.hotline._results import (
    ActivityDraft,
    CheckResult,
    FilingResult,
    Idempotency,
    PreviewConflict,
    Signed,
    SiteResult,
)
from deconfliction.hotline._service import Hotline, SystemClock
from deconfliction.hotline._signature import (
    SIGNATURE_HEADER,
    SIGNATURE_TOLERANCE_S,
    new_webhook_secret,
    sign_webhook,
    verify_webhook,
)
from deconfliction.hotline._timeline import (
    ActivityTimeline,
    ActivityVersion,
    TimelineEvent,
    duration_text,
    time_text,
    timeline_json,
)
from deconfliction.hotline._tokens import hash_secret, new_secret
from deconfliction.hotline._tracks import track_json
from deconfliction.hotline._webhooks import (
    WebhookOutbox,
    WebhookStatus,
    check_webhook_url,
    webhook_origin,
    webhook_wants,
)

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_S",
    "ActivityDraft",
    "ActivityTimeline",
    "ActivityVersion",
    "AssetReport",
    "CheckResult",
    "Clock",
    "Disclosure",
    "Change",
    "ChangeFeed",
    "Event",
    "EventSink",
    "Fact",
    "Figures",
    "FilingResult",
    "Hotline",
    "Idempotency",
    "IdempotencyRecord",
    "LinkRecord",
    "LiveActivity",
    "NoticeStat",
    "NoticeStep",
    "PairFigures",
    "PreviewConflict",
    "Principal",
    "Receipt",
    "Recorder",
    "Signed",
    "SiteResult",
    "Store",
    "SystemClock",
    "TimelineEvent",
    "TokenInfo",
    "Transaction",
    "WebhookOutbox",
    "WebhookStatus",
    "activity_json",
    "asset_json",
    "check_webhook_url",
    "conflict_json",
    "disclosure_json",
    "duration_text",
    "time_text",
    "event_json",
    "figures_json",
    "hash_secret",
    "iso",
    "new_secret",
    "new_webhook_secret",
    "notice_json",
    "overlap_json",
    "party_json",
    "sign_webhook",
    "site_json",
    "timeline_json",
    "token_json",
    "track_json",
    "verify_webhook",
    "webhook_json",
    "webhook_origin",
    "webhook_wants",
]
