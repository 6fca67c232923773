"""Policy TOML: documented defaults, layering, and one clear error per bad key."""

from __future__ import annotations

import pytest

from deconfliction.errors import InvalidPolicy
from deconfliction.model import DEFAULT_POLICY_TOML, ActivityKind, Policy


def test_defaults_match_the_reference_numbers() -> None:
    p = Policy.default()
    flight = p.for_kind(ActivityKind.FLIGHT)
    assert flight.buffers.horizontal_m == 5 * 1852.0
    assert flight.buffers.vertical_m == pytest.approx(304.8)
    assert flight.buffers.time_s == 300.0
    assert flight.min_lead_time_s == 3600.0
    assert p.for_kind("ground_movement").min_lead_time_s == 48 * 3600.0
    assert p.for_kind("airspace_reservation").min_lead_time_s == 48 * 3600.0
    assert p.for_kind("hazard").ack_deadline_s == 300.0


def test_the_default_document_is_the_default_policy() -> None:
    assert Policy.from_toml(DEFAULT_POLICY_TOML) == Policy.default()


def test_user_defaults_apply_to_every_kind_unless_its_own_table_says_otherwise() -> None:
    p = Policy.from_toml(
        "[defaults]\nmin_lead_time_min = 10\n[kinds.hazard]\nmin_lead_time_min = 120\n"
    )
    assert p.for_kind("flight").min_lead_time_s == 600.0
    assert p.for_kind("ground_movement").min_lead_time_s == 600.0
    assert p.for_kind("hazard").min_lead_time_s == 7200.0


def test_metre_and_nautical_mile_keys_set_the_same_buffer() -> None:
    p = Policy.from_toml("[kinds.flight]\nbuffer_horizontal_m = 1000\nbuffer_vertical_m = 100\n")
    assert p.for_kind("flight").buffers.horizontal_m == 1000.0
    assert p.for_kind("flight").buffers.vertical_m == 100.0


def test_max_buffers_cover_every_kind() -> None:
    p = Policy.default()
    m = p.max_buffers
    for k in ActivityKind:
        b = p.for_kind(k).buffers
        assert b.horizontal_m <= m.horizontal_m
        assert b.vertical_m <= m.vertical_m
        assert b.time_s <= m.time_s


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[defaults]\nmin_lead_time_min = -1\n", "defaults.min_lead_time_min"),
        ("[defaults]\nmin_lead_time_min = 'x'\n", "defaults.min_lead_time_min"),
        ("[defaults]\nmin_lead_time_min = nan\n", "defaults.min_lead_time_min"),
        ("[defaults]\nlead = 3\n", "defaults.lead"),
        ("[kinds.picnic]\nmin_lead_time_min = 3\n", "kinds.picnic"),
        ("[kinds.flight]\nmax_area_km2 = 0\n", "kinds.flight.max_area_km2"),
        ("[other]\n", "other"),
        ("kinds = 3\n", "kinds"),
        ("[defaults\n", "policy"),
    ],
)
def test_each_bad_policy_names_its_key(text: str, field: str) -> None:
    with pytest.raises(InvalidPolicy) as e:
        Policy.from_toml(text)
    assert e.value.field == field
