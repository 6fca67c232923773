"""The packaged Alembic migrations build exactly the schema of ``_schema.metadata``."""

from __future__ import annotations

import fnmatch
import io
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from deconfliction.store import StoreError, create_engine, head_revision, open_store, sqlite_url
from deconfliction.store._migrate import MIGRATIONS_DIR, alembic_config, current_revision, upgrade
from deconfliction.store._schema import metadata

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no table, no revision) on each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    cluster = request.getfixturevalue("pg_cluster")
    return str(cluster.create_database())


def _diffs(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(ctx, metadata))


def test_migration_builds_exactly_the_metadata(empty_url: str) -> None:
    with open_store(empty_url) as store:
        assert _diffs(store.engine) == []
        tables = set(sa.inspect(store.engine).get_table_names())
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_comparison_sees_a_difference(tmp_path: Path) -> None:
    """Control: the comparison above would report a missing index or column."""
    with open_store(sqlite_url(tmp_path)) as store, store.engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_activities_owner")
        conn.exec_driver_sql("ALTER TABLE parties ADD COLUMN extra INTEGER")
    engine = create_engine(sqlite_url(tmp_path))
    kinds = {d[0] for d in _diffs(engine) if isinstance(d, tuple)}
    engine.dispose()
    assert {"add_index", "remove_column"} <= kinds


def test_database_is_at_head(empty_url: str) -> None:
    assert head_revision() == "0011"
    with open_store(empty_url) as store:
        assert current_revision(store.engine) == head_revision()
    with open_store(empty_url, migrate=False) as store:  # reopening: nothing to do
        assert current_revision(store.engine) == head_revision()


def test_unmigrated_database_is_refused_without_migrate(empty_url: str) -> None:
    with pytest.raises(StoreError, match="revision none"):
        open_store(empty_url, migrate=False)


def test_a_schema_from_a_newer_version_is_refused_in_one_line(empty_url: str) -> None:
    with open_store(empty_url) as store:
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
        engine = store.engine
        with pytest.raises(StoreError, match=r"revision 9999, which this version .* does not know"):
            upgrade(engine)
        assert current_revision(engine) == "9999"  # untouched
    with pytest.raises(StoreError, match="a newer version wrote it"):
        open_store(empty_url)


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        create_engine("mysql://localhost/hotline")


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    engine = create_engine(empty_url)
    upgrade(engine)
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "base")
        conn.commit()
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert _diffs(engine) == []
    engine.dispose()


def test_every_revision_up_and_down_one_step(empty_url: str) -> None:
    """Each migration, and each downgrade, runs on its own (batch mode only on SQLite)."""
    engine = create_engine(empty_url)
    revisions = [f"{n:04d}" for n in range(1, int(head_revision()) + 1)]
    for rev in revisions:
        upgrade(engine, rev)
        assert current_revision(engine) == rev
    for rev in ["base", *revisions[:-1]][::-1]:
        with engine.connect() as conn:
            command.downgrade(alembic_config(conn), rev)
            conn.commit()
        assert current_revision(engine) == (None if rev == "base" else rev)
    upgrade(engine)
    assert _diffs(engine) == []
    engine.dispose()


def test_concurrent_first_opens_in_threads(empty_url: str) -> None:
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_store(empty_url).close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = create_engine(empty_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_concurrent_first_opens_in_processes(empty_url: str) -> None:
    code = (
        "import sys\nfrom deconfliction.store import open_store\nopen_store(sys.argv[1]).close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, empty_url], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    engine = create_engine(empty_url)
    assert current_revision(engine) == head_revision()
    assert _diffs(engine) == []
    engine.dispose()


def test_env_requires_a_connection() -> None:
    with pytest.raises(RuntimeError, match="open_store"):
        command.upgrade(alembic_config(), "head")


def test_offline_sql_rendering() -> None:
    cfg = alembic_config()
    cfg.set_main_option("sqlalchemy.url", "sqlite://")
    cfg.output_buffer = io.StringIO()
    command.upgrade(cfg, "head", sql=True)
    sql = cfg.output_buffer.getvalue()
    assert "CREATE TABLE parties" in sql
    assert "CREATE INDEX ix_conflicts_other_id" in sql


def test_migrations_do_not_import_the_application() -> None:
    """A revision must stay valid when the schema module changes later."""
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        assert "deconfliction" not in path.read_text(encoding="utf-8"), path


def test_migration_files_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["deconfliction"]
    package = MIGRATIONS_DIR.parents[1]
    files = [
        p.relative_to(package).as_posix()
        for p in MIGRATIONS_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert "store/migrations/env.py" in files
    for rel in files:
        assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), rel
