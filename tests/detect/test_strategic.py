"""Strategic detection: other owners only, sites' buffers honoured, nothing missed."""

from __future__ import annotations

from hypothesis import given, settings

from deconfliction.detect import Subject, SubjectKind, detect_conflicts, index_subject
from deconfliction.geo import (
    AltitudeBand,
    Buffers,
    Circle,
    Polygon,
    TimeWindow,
    Volume4D,
    VolumeIndex,
    overlap,
)
from tests.strategies import EPOCH, buffers_st, scenes

W = TimeWindow.from_epoch(EPOCH, EPOCH + 3_600)


def test_own_volumes_are_skipped_and_sites_buffers_apply():
    index = VolumeIndex()
    own = Subject(SubjectKind.ACTIVITY, "mine", "air-force")
    other = Subject(SubjectKind.ACTIVITY, "theirs", "ansp")
    site = Subject(SubjectKind.PROTECTED_SITE, "school", "ngo")
    box = Polygon([(10.0, 47.0), (10.1, 47.0), (10.1, 47.1), (10.0, 47.1)])
    index_subject(index, own, [Volume4D(box, AltitudeBand(0, 1000), W)])
    index_subject(index, other, [Volume4D(box, AltitudeBand(500, 1500), W)])
    # ~950 m east of the box's edge (edge to edge), buffer 1,000 m: within reach
    school = Circle((10.1 + 1_050 / 76_046, 47.05), 100.0)
    index_subject(index, site, [Volume4D(school, AltitudeBand(0, 50), W)], buffer_m=1_000.0)
    mine = [Volume4D(box, AltitudeBand(0, 1000), W)]
    found = detect_conflicts(index, mine, "air-force", Buffers())
    assert [c.subject.id for c in found] == ["theirs", "school"]
    assert found[0].overlap.altitude_band == AltitudeBand(500, 1000)
    index_subject(index, site, [Volume4D(school, AltitudeBand(0, 50), W)], buffer_m=0.0)
    assert [c.subject.id for c in detect_conflicts(index, mine, "air-force", Buffers())] == [
        "theirs"
    ]


@settings(max_examples=40)
@given(scenes(max_size=10), buffers_st)
def test_detects_every_conflict_with_other_owners(scene, buffers):
    index = VolumeIndex()
    subjects = []
    for i, v in enumerate(scene):
        s = Subject(SubjectKind.ACTIVITY, f"a{i}", f"party{i % 3}")
        subjects.append((s, v))
        index_subject(index, s, [v])
    b = Buffers(*buffers)
    for s, v in subjects:
        got = {c.subject.id for c in detect_conflicts(index, [v], s.owner, b)}
        want = {
            t.id
            for t, w in subjects
            if t.owner != s.owner
            and overlap(v, w, horizontal_m=b.horizontal_m, vertical_m=b.vertical_m, time_s=b.time_s)
        }
        assert got == want
