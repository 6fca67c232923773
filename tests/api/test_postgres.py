"""The real server on PostgreSQL (``DECONFLICTION_DATABASE_URL``): a filing over another
party's activity reaches it as a notice on its stream, and a restart keeps everything (the
restart scenario of ``test_e2e.py``, on a throwaway PostgreSQL database)."""

from __future__ import annotations

import time

import sqlalchemy as sa

from tests.api._hub import Hub, activity_body, add_parties, bootstrap, data_dir, feature, spot
from tests.api.test_e2e import _restart, is_notice_about


def test_filing_over_another_partys_activity_notifies_it(pg_url: str) -> None:
    with data_dir("pg-notice") as data:
        hub = Hub(data, database_url=pg_url)
        admin = bootstrap(data, pg_url)
        hub.start()
        try:
            ps = add_parties(hub, admin)
            blue, red = ps["Blue"], ps["Red"]
            lon, lat = spot()
            b = blue.file(activity_body("Blue patrol", feature(lon, lat)))
            with blue.stream(since=blue.last_seq()) as s:
                time.sleep(0.1)
                r = red.file(activity_body("Red strike", feature(lon + 0.02, lat)))
                e, _ = s.until(is_notice_about(r["activity"]["id"]), timeout=2.0)
            assert e["data"]["notice"]["recipient"] == blue.id
            assert [c["other"]["id"] for c in e["data"]["conflicts"]] == [b["activity"]["id"]]
            for p in ps.values():
                p.close()
        finally:
            hub.stop()
        assert not (data / "hotline.db").exists()  # nothing went to SQLite
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            ids = {str(i) for i in conn.execute(sa.text("SELECT id FROM activities")).scalars()}
            ledger = conn.execute(sa.text("SELECT count(*) FROM ledger")).scalar_one()
    finally:
        engine.dispose()
    assert ids == {b["activity"]["id"], r["activity"]["id"]}
    assert ledger > 0


def test_restart_on_postgresql_keeps_everything(pg_url: str) -> None:
    with data_dir("pg-restart") as data:
        _restart(data, pg_url)
