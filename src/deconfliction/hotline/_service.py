"""The hotline's application services: one object, one lock, one transaction per write.

Every write runs under the service's lock (so two conflicting filings always see each
other: the second one's detection runs against an index that already holds the first),
validates, detects, stores the version, its conflicts, notices, disclosures and stream
events in **one transaction**, then updates the in-memory index and publishes the events.
A late filing is accepted and flagged; nothing here ever refuses a filing for a conflict.
"""

from __future__ import annotations

from deconfliction.hotline._activities import ActivityServices
from deconfliction.hotline._admin import AdminServices
from deconfliction.hotline._assets import AssetServices
from deconfliction.hotline._core import SystemClock
from deconfliction.hotline._figures import FigureServices
from deconfliction.hotline._links import LinkServices
from deconfliction.hotline._messages import MessageServices
from deconfliction.hotline._notices import NoticeServices
from deconfliction.hotline._reads import ReadServices
from deconfliction.hotline._sites import SiteServices
from deconfliction.hotline._tactical import TacticalServices
from deconfliction.hotline._timeline import TimelineServices
from deconfliction.hotline._webhooks import WebhookServices

__all__ = ["Hotline", "SystemClock"]


class Hotline(
    AdminServices,
    ActivityServices,
    SiteServices,
    WebhookServices,
    NoticeServices,
    AssetServices,
    TacticalServices,
    LinkServices,
    MessageServices,
    ReadServices,
    TimelineServices,
    FigureServices,
):
    """File, amend and follow activities and protected sites; tell affected parties (on
    their streams and webhooks)."""
