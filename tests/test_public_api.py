"""The public names of each layer are pinned: changing them is a deliberate act."""

from __future__ import annotations

import deconfliction
import deconfliction.detect
import deconfliction.errors
import deconfliction.geo


def test_geo_exports():
    assert deconfliction.geo.__all__ == [
        "DEFAULT_LIMITS",
        "FEET_TO_METRES",
        "FRAME_MAX_RADIUS_M",
        "MAX_EXIT_M",
        "MAX_VERTICES",
        "AltitudeBand",
        "Buffers",
        "Circle",
        "Footprint",
        "Hit",
        "Limits",
        "Overlap",
        "Polygon",
        "TimeWindow",
        "Volume4D",
        "VolumeIndex",
        "check_limits",
        "exit_distance_m",
        "footprint_distance",
        "footprint_from_geojson",
        "footprint_to_geojson",
        "intersection_geojson",
        "overlap",
        "volume_from_geojson",
        "volume_from_record",
        "volume_to_geojson",
        "volume_to_record",
    ]
    for name in deconfliction.geo.__all__:
        assert hasattr(deconfliction.geo, name), name


def test_detect_errors_and_root_exports():
    assert deconfliction.detect.__all__ == [
        "ClearanceNeed",
        "Conflict",
        "Position",
        "Subject",
        "SubjectKind",
        "clearance_needs",
        "detect_conflicts",
        "index_subject",
    ]
    assert deconfliction.__all__ == ["__version__"]
    assert issubclass(deconfliction.errors.InvalidGeoJSON, deconfliction.errors.DeconflictionError)


PINNED = {
    "errors": [
        "DeconflictionError",
        "InvalidInput",
        "InvalidVolume",
        "InvalidGeoJSON",
        "InvalidPolicy",
        "NotFound",
        "Unauthorized",
        "Forbidden",
        "VersionConflict",
        "PreconditionRequired",
        "InvalidTransition",
        "IdempotencyConflict",
        "TooManyRequests",
        "InvalidSignature",
        "LedgerError",
    ],
    "model": [
        "DEFAULT_POLICY_TOML",
        "MAX_ASSET_SPEED_MPS",
        "MAX_SITE_BUFFER_M",
        "MAX_VOLUMES",
        "NAUTICAL_MILE_M",
        "SITE_DEFAULT_ALTITUDE",
        "Activity",
        "ActivityKind",
        "ActivityState",
        "Asset",
        "Conflict",
        "ConflictKind",
        "ConflictStatus",
        "KindPolicy",
        "Notice",
        "NoticeReason",
        "NoticeStatus",
        "Party",
        "PartyKind",
        "Policy",
        "Priority",
        "ProtectedSite",
        "Role",
        "SiteCategory",
        "SiteState",
        "VolumeOverlap",
    ],
    "hotline": [
        "ActivityDraft",
        "AssetReport",
        "CheckResult",
        "Clock",
        "Disclosure",
        "Event",
        "EventSink",
        "Fact",
        "FilingResult",
        "Hotline",
        "Idempotency",
        "IdempotencyRecord",
        "LiveActivity",
        "NoticeStep",
        "PreviewConflict",
        "Principal",
        "Receipt",
        "Recorder",
        "SiteResult",
        "Store",
        "SystemClock",
        "TokenInfo",
        "Transaction",
        "activity_json",
        "asset_json",
        "conflict_json",
        "disclosure_json",
        "event_json",
        "hash_secret",
        "iso",
        "new_secret",
        "notice_json",
        "overlap_json",
        "party_json",
        "site_json",
        "token_json",
    ],
    "store": [
        "SqlStore",
        "SqlTransaction",
        "open_store",
        "sqlite_url",
        "create_engine",
        "head_revision",
        "StoreError",
        "IntegrityViolation",
        "LedgerRow",
        "PartyKeyRow",
        "append_ledger_row",
        "append_ledger_rows",
        "ledger_head_row",
        "ledger_rows",
        "ledger_seq_at",
        "add_party_key",
        "list_party_keys",
        "revoke_party_key",
    ],
    "audit": [
        "Actor",
        "BundleReport",
        "BundleSummary",
        "Content",
        "Draft",
        "Entry",
        "Fault",
        "GENESIS",
        "HubKey",
        "KEY_REGISTERED",
        "KEY_REVOKED",
        "Ledger",
        "PartySignature",
        "Problem",
        "PublicKey",
        "Receipt",
        "Redacted",
        "Verifier",
        "VerifyResult",
        "canonical",
        "export",
        "seal",
        "sign_submission",
        "verify",
        "verify_bundle",
        "verify_rows",
        "verify_submission",
        "write_bundle",
    ],
    "bus": ["InProcessBus", "Subscription"],
    "api": [
        "Settings",
        "build_hotline",
        "configure_logging",
        "create_app",
        "load_policy",
        "load_settings",
    ],
}


def test_every_layer_pins_its_exports() -> None:
    import importlib

    for layer, names in PINNED.items():
        mod = importlib.import_module(f"deconfliction.{layer}")
        assert mod.__all__ == names, layer
        for name in names:
            assert hasattr(mod, name), f"{layer}.{name}"
