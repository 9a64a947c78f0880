"""The embedded cluster manager, on a throwaway cluster of its own."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from twin.cluster import Cluster, find_bindir
from twin.errors import Unavailable
from twin.settings import Settings

pytestmark = pytest.mark.skipif(
    bool(Settings().database_url), reason="TWIN_DATABASE_URL set: no embedded cluster in use"
)


@pytest.fixture()
def scratch_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Under /var/tmp (world-traversable) so the unprivileged server user can reach it.
    base = Path("/var/tmp") if os.geteuid() == 0 else tmp_path_factory.mktemp("c")
    home = base / f"roadtwin-cluster-test-{os.getpid()}"
    yield home
    cluster = Cluster(Settings(home=home))
    if cluster.initialised():
        cluster.stop()
    shutil.rmtree(home, ignore_errors=True)


def test_stop_and_start_keeps_data_and_port(scratch_home: Path) -> None:
    cluster = Cluster(Settings(home=scratch_home, install_missing=False))
    cluster.start()
    port = cluster.port()
    dsn = f"host=127.0.0.1 port={port} user=twin dbname=roadtwin"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
        assert conn.execute("SELECT postgis_version()").fetchone()
    st = cluster.status()
    assert st.running and st.port == port
    cluster.stop()
    assert not cluster.running()
    cluster.start()  # starting twice is harmless
    cluster.start()
    assert cluster.port() == port
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == (42,)


def test_missing_binaries_refused_clearly(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, pg_bindir=tmp_path / "nowhere", install_missing=False)
    with pytest.raises(Unavailable, match="PostgreSQL server binaries") as info:
        find_bindir(s, search=str(tmp_path / "none" / "*"), use_pg_config=False)
    assert "TWIN_DATABASE_URL" in (info.value.hint or "")


def test_finds_system_binaries() -> None:
    bindir = find_bindir(Settings(install_missing=False))
    assert (bindir / "initdb").exists() and (bindir / "pg_ctl").exists()
