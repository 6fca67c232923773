"""Figures per party pair: how well each party gives notice to each other one, and answers.

For the caller's party, per counterpart and direction (the notices it gave to X, and those X
gave to it), over the notices *sent* in ``[since, until)``:

=============================  =====================================================
``notices``                    notices sent (every reason: new, amended, state changes…)
``answer_expected``            of those, the ones that call for an answer (new/amended)
``median_lead_time_s``         median lead time of the ones that call for an answer
``late`` / ``late_share``      how many of those were late, and their share
``insufficient`` / ``_share``  notices flagged insufficient (an asset could not get
                               clear in time), share of all notices
``answered``                   notices answered (acknowledged or objected)
``median_time_to_ack_s``       median time from sending to the answer
``unanswered``                 notices that call for an answer, have none *now* and
                               were not superseded (expired ones count)
``expired`` / ``_share``       notices whose deadline passed unanswered, share of the
                               ones that call for an answer
=============================  =====================================================

Only state-change notices (activated, ended, cancelled, no longer affected) are left out of
the lead-time figures: they carry no required lead time. A notice a party got about its own
activity (a protected site met it) is no pair and is not counted. Durations are computed by
the database to the millisecond. Shares and medians are None when there is nothing to
divide.

Need-to-know: a party sees only the pairs it is part of; an admin token may ask for every
pair (``all_pairs``). Each direction is one query (no per-notice queries).

>>> from uuid import UUID
>>> from deconfliction.model import NoticeReason, NoticeStatus
>>> a, b = UUID(int=1), UUID(int=2)
>>> rows = [NoticeStat(a, b, NoticeReason.NEW, NoticeStatus.ACKNOWLEDGED, 600.0, 3600.0,
...                    False, 30.0, False),
...         NoticeStat(a, b, NoticeReason.NEW, NoticeStatus.EXPIRED, 7200.0, 3600.0,
...                    True, None, True)]
>>> (f,) = pair_figures(rows)
>>> f.notices, f.median_lead_time_s, f.late_share, f.unanswered, f.expired_share
(2, 3900.0, 0.5, 1, 0.5)
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from deconfliction.errors import InvalidInput
from deconfliction.hotline._core import Core
from deconfliction.hotline._json import iso
from deconfliction.hotline._ports import NoticeStat, Principal
from deconfliction.model import Role

__all__ = ["FigureServices", "Figures", "PairFigures", "figures_json", "pair_figures"]


@dataclass(frozen=True, slots=True)
class PairFigures:
    """The figures of the notices one party (``sender``) gave another (``recipient``)."""

    sender: UUID
    recipient: UUID
    notices: int
    answer_expected: int
    median_lead_time_s: float | None
    late: int
    late_share: float | None
    insufficient: int
    insufficient_share: float | None
    answered: int
    median_time_to_ack_s: float | None
    unanswered: int
    expired: int
    expired_share: float | None


@dataclass(frozen=True, slots=True)
class Figures:
    """What :meth:`FigureServices.figures` returns: the pairs, and the names of the parties."""

    party: UUID
    since: datetime | None
    until: datetime | None
    all_pairs: bool
    pairs: tuple[PairFigures, ...]
    names: dict[UUID, str] = field(default_factory=dict)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _median(values: list[float]) -> float | None:
    return None if not values else round(statistics.median(values), 3)


@dataclass
class _Tally:
    notices: int = 0
    insufficient: int = 0
    leads: list[float] = field(default_factory=list)
    late: int = 0
    answers: list[float] = field(default_factory=list)
    unanswered: int = 0
    expired: int = 0

    def add(self, s: NoticeStat) -> None:
        self.notices += 1
        self.insufficient += s.insufficient
        if s.time_to_answer_s is not None:
            self.answers.append(s.time_to_answer_s)
        if s.needs_answer:
            self.leads.append(s.lead_time_s)
            self.late += s.late
            self.expired += s.expired
            self.unanswered += s.unanswered


def pair_figures(rows: Iterable[NoticeStat]) -> list[PairFigures]:
    """The figures of each (sender, recipient) pair in ``rows``, by sender then recipient id."""
    tallies: dict[tuple[UUID, UUID], _Tally] = {}
    for s in rows:
        key = (s.sender, s.recipient)
        t = tallies.get(key)
        if t is None:
            t = tallies[key] = _Tally()
        t.add(s)
    out = []
    for (sender, recipient), t in sorted(tallies.items(), key=lambda kv: tuple(map(str, kv[0]))):
        expected = len(t.leads)
        out.append(
            PairFigures(
                sender=sender,
                recipient=recipient,
                notices=t.notices,
                answer_expected=expected,
                median_lead_time_s=_median(t.leads),
                late=t.late,
                late_share=_share(t.late, expected),
                insufficient=t.insufficient,
                insufficient_share=_share(t.insufficient, t.notices),
                answered=len(t.answers),
                median_time_to_ack_s=_median(t.answers),
                unanswered=t.unanswered,
                expired=t.expired,
                expired_share=_share(t.expired, expected),
            )
        )
    return out


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, "naive datetime: a timezone (UTC) is required")
    return value.astimezone(UTC)


class FigureServices(Core):
    """Figures per party pair (see the module's documentation for each figure)."""

    def figures(
        self,
        p: Principal,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        all_pairs: bool = False,
    ) -> Figures:
        """The caller's pairs (both directions), or with ``all_pairs`` (admin only) every
        pair of the hub, over the notices sent in ``[since, until)``."""
        if all_pairs:
            self._need(p, Role.ADMIN)
        since, until = _aware(since, "since"), _aware(until, "until")
        if since is not None and until is not None and since >= until:
            raise InvalidInput("until", "must be after since")
        with self.store.read() as tx:
            if all_pairs:
                rows = tx.notice_stats(since=since, until=until)
            else:
                rows = tx.notice_stats(sender=p.party_id, since=since, until=until)
                rows += tx.notice_stats(recipient=p.party_id, since=since, until=until)
            names = {party.id: party.name for party in tx.list_parties()}
        me = p.party_id

        def order(x: PairFigures) -> tuple[str, str, bool]:
            if all_pairs:
                return names.get(x.sender, ""), names.get(x.recipient, ""), False
            other = x.recipient if x.sender == me else x.sender
            return names.get(other, ""), str(other), x.sender != me

        pairs = tuple(sorted(pair_figures(rows), key=order))
        return Figures(me, since, until, all_pairs, pairs, names)


def _share_json(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def figures_json(f: Figures) -> dict[str, Any]:
    """The figures as the API returns them: one row per pair, ``direction`` said from the
    caller's side (``sent``: notices it gave, ``received``: notices it got; null for a pair
    it is not part of, in the ``all`` view)."""

    def ref(party: UUID) -> dict[str, str]:
        return {"id": str(party), "name": f.names.get(party, str(party))}

    rows = []
    for x in f.pairs:
        if x.sender == f.party:
            direction, counterpart = "sent", ref(x.recipient)
        elif x.recipient == f.party:
            direction, counterpart = "received", ref(x.sender)
        else:
            direction, counterpart = None, None
        rows.append(
            {
                "from": ref(x.sender),
                "to": ref(x.recipient),
                "direction": direction,
                "counterpart": counterpart,
                "notices": x.notices,
                "answer_expected": x.answer_expected,
                "median_lead_time_s": x.median_lead_time_s,
                "late": x.late,
                "late_share": _share_json(x.late_share),
                "insufficient": x.insufficient,
                "insufficient_share": _share_json(x.insufficient_share),
                "answered": x.answered,
                "median_time_to_ack_s": x.median_time_to_ack_s,
                "unanswered": x.unanswered,
                "expired": x.expired,
                "expired_share": _share_json(x.expired_share),
            }
        )
    return {
        "party": ref(f.party),
        "since": iso(f.since),
        "until": iso(f.until),
        "all": f.all_pairs,
        "pairs": rows,
    }
