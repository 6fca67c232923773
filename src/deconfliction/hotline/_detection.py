"""Which other parties' activities and sites does an activity (or a site) meet?

Buffers are symmetric: a pair of activities is checked with the larger of the two kinds'
buffers in each dimension, whichever of the two was filed last. The index is queried once
per distinct pair-buffer set (two with the default policy), so each decision stays the
index's own exact one — nothing is filtered afterwards by an approximate distance.
A site is checked with the activity kind's buffers plus the site's own buffer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from deconfliction.detect import Subject, SubjectKind, detect_conflicts
from deconfliction.geo import Buffers, Volume4D, VolumeIndex
from deconfliction.model import ActivityKind, Policy, VolumeOverlap

__all__ = ["Found", "activity_conflicts", "pair_buffers", "site_conflicts"]


@dataclass(frozen=True, slots=True)
class Found:
    """Everything one subject of another party meets, as volume overlaps."""

    subject: Subject
    overlaps: tuple[VolumeOverlap, ...]


def pair_buffers(policy: Policy, a: ActivityKind, b: ActivityKind) -> Buffers:
    """The buffers for a pair of activity kinds: the larger in each dimension."""
    x, y = policy.for_kind(a).buffers, policy.for_kind(b).buffers
    return Buffers(
        max(x.horizontal_m, y.horizontal_m),
        max(x.vertical_m, y.vertical_m),
        max(x.time_s, y.time_s),
    )


def _collect(
    found: dict[UUID, list[VolumeOverlap]],
    subjects: dict[UUID, Subject],
    subject: Subject,
    ov: VolumeOverlap,
) -> None:
    assert isinstance(subject.id, UUID)
    subjects[subject.id] = subject
    found.setdefault(subject.id, []).append(ov)


def _finish(
    found: dict[UUID, list[VolumeOverlap]], subjects: dict[UUID, Subject]
) -> dict[UUID, Found]:
    return {
        k: Found(subjects[k], tuple(sorted(v, key=lambda o: (o.volume, o.other_volume))))
        for k, v in sorted(found.items(), key=lambda kv: str(kv[0]))
    }


def activity_conflicts(
    index: VolumeIndex,
    policy: Policy,
    kinds: Mapping[UUID, ActivityKind],
    volumes: Sequence[Volume4D],
    owner: UUID,
    kind: ActivityKind,
) -> dict[UUID, Found]:
    """Other owners' activities and sites in ``index`` that ``volumes`` meet.

    ``kinds`` maps each indexed activity id to its kind (to pick the pair's buffers).
    """
    own = policy.for_kind(kind).buffers
    groups: dict[Buffers, set[ActivityKind]] = {}
    for other in ActivityKind:
        groups.setdefault(pair_buffers(policy, kind, other), set()).add(other)
    found: dict[UUID, list[VolumeOverlap]] = {}
    subjects: dict[UUID, Subject] = {}
    for buffers, other_kinds in groups.items():
        for c in detect_conflicts(index, volumes, owner, buffers):
            s = c.subject
            if s.kind is SubjectKind.PROTECTED_SITE:
                if buffers != own:
                    continue
            elif kinds.get(s.id) not in other_kinds:  # type: ignore[call-overload]
                continue
            ov = VolumeOverlap.from_overlap(c.own_volume_index, c.volume_index, c.overlap)
            _collect(found, subjects, s, ov)
    if own not in groups:  # sites are checked with the kind's own buffers
        for c in detect_conflicts(index, volumes, owner, own):
            if c.subject.kind is SubjectKind.PROTECTED_SITE:
                ov = VolumeOverlap.from_overlap(c.own_volume_index, c.volume_index, c.overlap)
                _collect(found, subjects, c.subject, ov)
    return _finish(found, subjects)


def site_conflicts(
    index: VolumeIndex,
    policy: Policy,
    kinds: Mapping[UUID, ActivityKind],
    volume: Volume4D,
    buffer_m: float,
    owner: UUID,
) -> dict[UUID, Found]:
    """Other owners' activities in ``index`` that a site's ``volume`` (with its buffer) meets."""
    groups: dict[Buffers, set[ActivityKind]] = {}
    for k in ActivityKind:
        b = policy.for_kind(k).buffers
        groups.setdefault(Buffers(b.horizontal_m + buffer_m, b.vertical_m, b.time_s), set()).add(k)
    found: dict[UUID, list[VolumeOverlap]] = {}
    subjects: dict[UUID, Subject] = {}
    for buffers, group_kinds in groups.items():
        for c in detect_conflicts(index, [volume], owner, buffers):
            s = c.subject
            if s.kind is not SubjectKind.ACTIVITY or kinds.get(s.id) not in group_kinds:  # type: ignore[call-overload]
                continue
            # Seen from the activity's side: its volume first.
            ov = VolumeOverlap.from_overlap(c.volume_index, 0, c.overlap)
            _collect(found, subjects, s, ov)
    return _finish(found, subjects)
