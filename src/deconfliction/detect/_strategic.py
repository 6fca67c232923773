"""Strategic detection: which other parties' declared volumes does an activity meet?

Activities and protected sites live in one :class:`~deconfliction.geo.VolumeIndex` keyed
by :class:`Subject`, grouped by owner so that a party's own volumes are skipped in the
index itself (vectorised), not filtered afterwards. A protected site's buffer is stored as
the index's per-key margin, so every query honours it exactly, on top of the query's own
buffers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from deconfliction.geo import Buffers, Overlap, Volume4D, VolumeIndex

__all__ = ["Conflict", "Subject", "SubjectKind", "detect_conflicts", "index_subject"]


class SubjectKind(StrEnum):
    """What a set of indexed volumes belongs to."""

    ACTIVITY = "activity"
    PROTECTED_SITE = "protected_site"


@dataclass(frozen=True, slots=True)
class Subject:
    """An activity or protected site of one owner, as a key of the index."""

    kind: SubjectKind
    id: Hashable
    owner: Hashable


@dataclass(frozen=True, slots=True)
class Conflict:
    """One of the activity's volumes meets one volume of another owner's subject."""

    subject: Subject
    """The other party's activity or protected site."""
    volume_index: int
    """Which of the subject's volumes."""
    own_volume_index: int
    """Which of the activity's volumes."""
    overlap: Overlap


def index_subject(
    index: VolumeIndex,
    subject: Subject,
    volumes: Iterable[Volume4D],
    *,
    buffer_m: float = 0.0,
) -> None:
    """Add or replace ``subject``'s volumes in ``index`` (``buffer_m``: a site's buffer)."""
    index.replace(subject, volumes, group=subject.owner, margin_m=buffer_m)


def detect_conflicts(
    index: VolumeIndex,
    volumes: Sequence[Volume4D],
    owner: Hashable,
    buffers: Buffers,
) -> list[Conflict]:
    """Every volume of *other* owners in ``index`` that conflicts with one of ``volumes``.

    Never misses one (the index confirms every candidate with the exact overlap); sorted
    by subject, then volume, for stable output.
    """
    found: list[Conflict] = []
    for own_i, hits in enumerate(index.query_many(volumes, buffers, exclude_group=owner)):
        for hit in hits:
            subject = hit.key
            if not isinstance(subject, Subject) or subject.owner == owner:
                continue
            found.append(Conflict(subject, hit.position, own_i, hit.overlap))
    found.sort(
        key=lambda c: (c.subject.kind, str(c.subject.id), c.volume_index, c.own_volume_index)
    )
    return found
