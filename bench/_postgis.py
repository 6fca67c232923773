"""PostGIS baseline for the spatio-temporal conflict-query benchmark.

Two pieces:

* ``PostgisCluster`` -- a throw-away PostgreSQL 15 + PostGIS 3 server in a temp
  directory, listening only on a Unix socket inside that directory
  (``listen_addresses=''``), tuned for benchmarking (fsync off etc.).  As root
  the server binaries are run as the ``postgres`` user via ``runuser``.
* ``PostgisBaseline`` -- loads ``PgVolume`` records into a table and answers
  the same closed conflict query as the engine under test.

Schema::

    vol(key int PRIMARY KEY, g geography, radius_m float8,
        alt_lo float8, alt_hi float8, t0 float8, t1 float8)

Polygons are stored as geography polygons with ``radius_m = 0``; circles are
stored as geography *points* with their radius in ``radius_m``, so that
``ST_DWithin(g, qg, horizontal_m + radius_m + q.radius_m)`` is exact for
circles (distance point->shape minus radius).  ``ST_DWithin`` on geography
uses the spheroid (``use_spheroid`` defaults to true).

Index choice (measured, see bench/test_postgis_smoke.py ``--index``):

* Pitfall: ``ST_DWithin(g, qg, d)`` only becomes an index condition when
  ``d`` is a constant/parameter.  Our per-row distance ``h + radius_m + qr``
  references a column, so a plain GiST on ``g`` is silently *not used*
  (sequential scan: 140 ms vs 1-2 ms at 100k).  We therefore index the expression
  ``_ST_Expand(g, radius_m)`` (PostGIS' own helper that ST_DWithin's index
  support uses: it grows the cached geocentric bounding box by
  ``1.01*dist + tol``) and filter with
  ``_ST_Expand(g, radius_m) && _ST_Expand(qg, h + qr)`` -- boxes grown by
  ``r`` and ``d`` overlap iff the box grown by ``r + d`` does, so this is
  exactly the box prefilter ST_DWithin would use for ``d + r``.  The exact
  ``ST_DWithin`` follows as a filter.
* Time/altitude, three layouts (``PostgisBaseline(conn, index=...)``):
  ``"gist"`` = the spatial GiST only, time and altitude as plain filters;
  ``"btree"`` = that GiST plus a btree on ``(t0, t1)`` (the planner
  BitmapAnds them, but ``t0 <= q.t1 + s`` alone is ~50 % selective, so the
  btree scan costs more than it saves); ``"gist3"`` (default) = one
  composite GiST on ``(_ST_Expand(g, radius_m), f8range(t0, t1, '[]'),
  f8range(alt_lo, alt_hi, '[]'))`` with a float8 range type created by
  ``load`` (range types have native GiST opclasses, so no btree_gist and no
  numeric/timestamptz conversions).  GiST checks every key column on every
  index entry, so rows outside the time/altitude window are dropped inside
  the index scan and never reach the heap or ST_DWithin.
  Measured on this 2-core machine, 500 queries, buffers 9,260 m / 305 m /
  300 s (p50 / p99 ms; load = COPY + indexes + ANALYZE):

  ============  =====================  ======================
  layout        100k                   1M
  ============  =====================  ======================
  gist3         1.08 / 5.79, 4.5 s     6.36 / 19.5, 48 s
  gist          2.14 / 9.04, 4.9 s     13.9 / 30.2, 38 s
  btree         2.49 / 13.6, 6.0 s     --
  ============  =====================  ======================

  Generic plan (after psycopg/PG switch to it) of the default layout::

    Index Scan using vol_g on vol
      Index Cond: ((_st_expand(g, radius_m) && _st_expand($1, ($2 + $3)))
        AND (f8range(t0, t1, '[]') && f8range($4 - $5 - 0.001, $6 + $5 + 0.001, '[]'))
        AND (f8range(alt_lo, alt_hi, '[]') && f8range($7 - $8 - 0.001, $9 + $8 + 0.001, '[]')))
      Filter: ((t0 <= ($6 + $5)) AND ($4 <= (t1 + $5)) AND (alt_lo <= ($9 + $8))
        AND ($7 <= (alt_hi + $8)) AND st_dwithin(g, $1, (($2 + radius_m) + $3), true))

  Most of the remaining query time is the exact spheroidal ST_DWithin on
  the true hits (~0.1-0.2 ms per polygon pair).

The table is UNLOGGED (no WAL: the cluster is throw-away anyway; with
fsync off the difference is CPU only).

The time and altitude predicates are the closed forms
``t0 <= q.t1 + time_s AND q.t0 <= t1 + time_s`` (same for altitude) in
float8, written exactly like that so results match the reference
implementation bit for bit; the index-range conditions of the "gist3"
variant are a slightly widened superset of them.

Antimeridian: rings are passed with longitudes as given (e.g. 179.9 then
-179.9); geography treats each edge as the short great-circle arc, so a
polygon straddling 180 deg works (checked in the smoke script).
"""

from __future__ import annotations

import contextlib
import glob
import os
import struct
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, for tests/
from tests.pgcluster import PgCluster

__all__ = ["PgVolume", "PostgisCluster", "PostgisBaseline", "ewkb_hex"]

_INSTALL_HINT = "run make bench, which installs postgresql-15-postgis-3"


@dataclass(slots=True)
class PgVolume:
    """One volume: a polygon (``ring`` set, ``center`` None) or a circle.

    ``ring``: lon/lat vertices in degrees, not closed.  ``center``: lon/lat of
    a circle of ``radius_m`` metres (``radius_m`` is ignored for polygons).
    Altitudes in metres, times in epoch seconds.
    """

    key: int
    ring: list[tuple[float, float]] | None  # or an (n, 2) float array
    center: tuple[float, float] | None
    radius_m: float
    alt_lo: float
    alt_hi: float
    t0: float
    t1: float


# ---------------------------------------------------------------------------
# EWKB encoding (little endian, SRID 4326) -- hex text is accepted by the
# geography input function, both in COPY and as a ``%s::geography`` parameter.

_SRID_FLAG = 0x20000000
_POINT_HDR = struct.pack("<BII", 1, 1 | _SRID_FLAG, 4326)
_POLY_HDR = struct.pack("<BII", 1, 3 | _SRID_FLAG, 4326)


def ewkb_hex(v: PgVolume) -> str:
    """Hex EWKB of the stored shape: polygon for rings, point for circles."""
    if v.ring is not None:
        # Accepts a list of (lon, lat) pairs or an (n, 2) array.
        a = np.asarray(v.ring, dtype="<f8")
        if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 3:
            raise ValueError(f"volume {v.key}: ring must be >= 3 (lon, lat) pairs")
        if not (a[0] == a[-1]).all():
            a = np.concatenate([a, a[:1]])
        return (_POLY_HDR + struct.pack("<II", 1, a.shape[0]) + a.tobytes()).hex()
    if v.center is None:
        raise ValueError(f"volume {v.key}: needs a ring or a center")
    return (_POINT_HDR + struct.pack("<dd", v.center[0], v.center[1])).hex()


def _radius(v: PgVolume) -> float:
    return 0.0 if v.ring is not None else float(v.radius_m)


# ---------------------------------------------------------------------------
# Cluster


def _find_bindir() -> str:
    env = os.environ.get("PG_BINDIR")
    cands = [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for bindir in cands:
        if not bindir or not os.path.isfile(os.path.join(bindir, "postgres")):
            continue
        ver = os.path.basename(os.path.dirname(bindir))
        if glob.glob(f"/usr/share/postgresql/{ver}/extension/postgis.control") or env:
            return bindir
    raise RuntimeError(f"PostgreSQL/PostGIS server binaries not found: {_INSTALL_HINT}")


class PostgisCluster(PgCluster):
    """Throw-away PostgreSQL+PostGIS server; ``with PostgisCluster() as pg:``.

    The cluster itself is ``tests/pgcluster.py``'s (the one the test suite starts), here
    on a Unix socket only and tuned for benchmarking, with a database holding PostGIS.
    """

    SERVER_SETTINGS: ClassVar[dict[str, str]] = {
        "listen_addresses": "",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "512MB",
        "work_mem": "64MB",
        "max_wal_size": "4GB",
        "jit": "off",
    }

    def __init__(self, dbname: str = "bench", *, extra_settings: dict[str, str] | None = None):
        super().__init__({**self.SERVER_SETTINGS, **(extra_settings or {})})
        self.dbname = dbname
        self._conns: list[Any] = []

    def find_bindir(self) -> str:
        return _find_bindir()

    def __enter__(self) -> PostgisCluster:
        import psycopg  # noqa: F401  (fail early with a clear message)

        super().__enter__()
        try:
            with self._connect("postgres") as c:
                c.execute(f'CREATE DATABASE "{self.dbname}"')
            with self._connect(self.dbname) as c:
                c.execute("CREATE EXTENSION postgis")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for c in self._conns:
            with contextlib.suppress(Exception):
                c.close()
        self._conns.clear()
        super().stop()

    def _connect(self, dbname: str) -> Any:
        import psycopg

        return psycopg.connect(
            host=self.tmpdir, port=self.port, user=self.user, dbname=dbname, autocommit=True
        )

    def connect(self) -> Any:
        """A new autocommit psycopg connection to the benchmark database
        (closed automatically when the cluster exits)."""
        c = self._connect(self.dbname)
        self._conns.append(c)
        return c


# ---------------------------------------------------------------------------
# Baseline

_EXPR = "_ST_Expand(g, radius_m)"

_INDEX_DDL: dict[str, list[str]] = {
    "gist": [f"CREATE INDEX vol_g ON vol USING gist (({_EXPR}))"],
    "btree": [
        f"CREATE INDEX vol_g ON vol USING gist (({_EXPR}))",
        "CREATE INDEX vol_t ON vol (t0, t1)",
    ],
    "gist3": [
        "CREATE INDEX vol_g ON vol USING gist "
        f"(({_EXPR}), f8range(t0, t1, '[]'), f8range(alt_lo, alt_hi, '[]'))"
    ],
}

# The 1e-3 below widens the index-range conditions so they stay a superset of the
# exact float8 predicates despite rounding (seconds / metres; values ~1.7e9 / 1e4,
# ulp ~2.4e-7); the exact predicates are always applied as the filter.

_QUERY_COMMON = """
SELECT key FROM vol
WHERE {index_cond}
  AND t0 <= %(qt1)s + %(ts)s AND %(qt0)s <= t1 + %(ts)s
  AND alt_lo <= %(qhi)s + %(vs)s AND %(qlo)s <= alt_hi + %(vs)s
  AND ST_DWithin(g, %(qg)s::geography, %(hs)s + radius_m + %(qr)s)
"""

_IDX_COND = {
    "gist": f"{_EXPR} && _ST_Expand(%(qg)s::geography, %(hs)s + %(qr)s)",
    "btree": (
        f"{_EXPR} && _ST_Expand(%(qg)s::geography, %(hs)s + %(qr)s)"
        " AND t0 <= %(qt1)s + %(ts)s AND t1 >= %(qt0)s - %(ts)s - 1e-3"
    ),
    "gist3": (
        f"{_EXPR} && _ST_Expand(%(qg)s::geography, %(hs)s + %(qr)s)"
        " AND f8range(t0, t1, '[]') && f8range(%(qt0)s - %(ts)s - 1e-3,"
        " %(qt1)s + %(ts)s + 1e-3, '[]')"
        " AND f8range(alt_lo, alt_hi, '[]') && f8range(%(qlo)s - %(vs)s - 1e-3,"
        " %(qhi)s + %(vs)s + 1e-3, '[]')"
    ),
}


class PostgisBaseline:
    """The PostGIS side of the benchmark, on one psycopg connection.

    ``index`` picks the index layout (see module docstring); default "gist3".
    """

    def __init__(self, conn: Any, *, index: str = "gist3"):
        if index not in _INDEX_DDL:
            raise ValueError(f"index must be one of {sorted(_INDEX_DDL)}, got {index!r}")
        self.conn = conn
        self.index = index
        self._query_sql = _QUERY_COMMON.format(index_cond=_IDX_COND[index])
        self._add_sql = (
            "INSERT INTO vol (key, g, radius_m, alt_lo, alt_hi, t0, t1) "
            "VALUES (%s, %s::geography, %s, %s, %s, %s, %s)"
        )
        self._remove_sql = "DELETE FROM vol WHERE key = %s"
        self.load_timings: dict[str, float] = {}

    # -- loading ------------------------------------------------------------
    def load(self, volumes: Iterable[PgVolume], *, batch_rows: int = 20000) -> None:
        """(Re)create table ``vol``, COPY all volumes in, build indexes, ANALYZE.

        Phase durations (seconds) are left in ``self.load_timings``
        (``copy_s`` includes generating/encoding the input in Python).
        """
        c = self.conn
        t = time.perf_counter()
        c.execute("DROP TABLE IF EXISTS vol")
        c.execute(
            "DO $$ BEGIN CREATE TYPE f8range AS RANGE (subtype = float8, "
            "subtype_diff = float8mi); EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        c.execute(
            "CREATE UNLOGGED TABLE vol (key int NOT NULL, g geography NOT NULL, "
            "radius_m float8 NOT NULL, alt_lo float8 NOT NULL, alt_hi float8 NOT NULL, "
            "t0 float8 NOT NULL, t1 float8 NOT NULL)"
        )
        with (
            c.cursor() as cur,
            cur.copy("COPY vol (key, g, radius_m, alt_lo, alt_hi, t0, t1) FROM STDIN") as cp,
        ):
            buf: list[str] = []
            for v in volumes:
                buf.append(
                    f"{v.key}\t{ewkb_hex(v)}\t{_radius(v)!r}\t{float(v.alt_lo)!r}\t"
                    f"{float(v.alt_hi)!r}\t{float(v.t0)!r}\t{float(v.t1)!r}\n"
                )
                if len(buf) >= batch_rows:
                    cp.write("".join(buf))
                    buf.clear()
            if buf:
                cp.write("".join(buf))
        t_copy = time.perf_counter()
        c.execute("SET maintenance_work_mem = '1GB'")
        c.execute("ALTER TABLE vol ADD PRIMARY KEY (key)")
        for ddl in _INDEX_DDL[self.index]:
            c.execute(ddl)
        c.execute("RESET maintenance_work_mem")
        t_index = time.perf_counter()
        c.execute("VACUUM ANALYZE vol")
        t_end = time.perf_counter()
        self.load_timings = {
            "copy_s": t_copy - t,
            "index_s": t_index - t_copy,
            "analyze_s": t_end - t_index,
        }

    # -- queries --------------------------------------------------------------
    def _params(
        self, q: PgVolume, horizontal_m: float, vertical_m: float, time_s: float
    ) -> dict[str, Any]:
        return {
            "qg": ewkb_hex(q),
            "qr": _radius(q),
            "hs": float(horizontal_m),
            "vs": float(vertical_m),
            "ts": float(time_s),
            "qt0": float(q.t0),
            "qt1": float(q.t1),
            "qlo": float(q.alt_lo),
            "qhi": float(q.alt_hi),
        }

    def query(self, q: PgVolume, horizontal_m: float, vertical_m: float, time_s: float) -> set[int]:
        """Keys of stored volumes in conflict with ``q`` under the given buffers."""
        cur = self.conn.execute(
            self._query_sql, self._params(q, horizontal_m, vertical_m, time_s), prepare=True
        )
        return {r[0] for r in cur.fetchall()}

    def explain(
        self,
        q: PgVolume,
        horizontal_m: float,
        vertical_m: float,
        time_s: float,
        *,
        analyze: bool = False,
    ) -> str:
        """EXPLAIN text of the query (custom plan for these parameter values)."""
        cur = self.conn.execute(
            ("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ") + self._query_sql,
            self._params(q, horizontal_m, vertical_m, time_s),
        )
        return "\n".join(r[0] for r in cur.fetchall())

    def add(self, v: PgVolume) -> None:
        self.conn.execute(
            self._add_sql,
            (
                v.key,
                ewkb_hex(v),
                _radius(v),
                float(v.alt_lo),
                float(v.alt_hi),
                float(v.t0),
                float(v.t1),
            ),
            prepare=True,
        )

    def remove(self, key: int) -> None:
        self.conn.execute(self._remove_sql, (key,), prepare=True)

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM vol").fetchone()[0])
