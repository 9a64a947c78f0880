"""Test fixtures: a real PostGIS database, one rolled-back transaction per test.

The embedded cluster hosts a separate ``roadtwin_test`` database (migrated once per run),
so the sample served by ``make run`` is never touched. With ``TWIN_DATABASE_URL`` set,
``TWIN_TEST_DATABASE_URL`` (or that URL itself) is used instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from twin import db as dbm
from twin.settings import PROJECT_ROOT, Settings

TEST_DB = "roadtwin_test"
DATA_DIR = Path(__file__).resolve().parent / "data"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def _test_url(base: Settings) -> str:
    explicit = os.environ.get("TWIN_TEST_DATABASE_URL")
    if explicit:
        return explicit
    if base.database_url:
        return base.database_url
    from twin.cluster import Cluster

    cluster = Cluster(base)
    cluster.start()
    cluster.ensure_database(TEST_DB)
    return cluster.url(TEST_DB)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the migrated test database; state files in a temp dir."""
    base = Settings()
    url = _test_url(base)
    dbm.migrate(base, url=url)
    home = tmp_path_factory.mktemp("twin-home")
    return base.model_copy(update={"database_url": url, "home": home})


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Engine:
    """Engine of the test database."""
    return dbm.get_engine(settings)


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()


@pytest.fixture()
def session(connection: Connection) -> Iterator[Session]:
    """An ORM session whose commits become savepoints of the rolled-back transaction."""
    sess = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield sess
    finally:
        sess.close()


@pytest.fixture()
def client(settings: Settings, connection: Connection) -> Iterator[TestClient]:
    """The API in process, its sessions bound to the test's rolled-back transaction."""
    from twin.api import create_app

    app = create_app(settings)
    app.state.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    app.state.connection = connection
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real third-party files); skips when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: real third-party test files not available")
    return SHARED_DATA


SAMPLE_DB = "roadtwin_sample_test"


@pytest.fixture(scope="session")
def sample_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a committed database holding the bundled Tianjin sample.

    Loaded once per run (the loader skips steps whose files are unchanged), so tests and
    subprocess servers (browser tests) can read it; tests get a rolled-back transaction
    on it through ``sample_connection``. Needs the embedded cluster (or
    ``TWIN_SAMPLE_DATABASE_URL``): with only ``TWIN_DATABASE_URL`` such tests skip.
    """
    from twin.services.sample import load_sample

    url = os.environ.get("TWIN_SAMPLE_DATABASE_URL")
    if url is None:
        base = Settings()
        if base.database_url:
            pytest.skip("sample database: set TWIN_SAMPLE_DATABASE_URL with TWIN_DATABASE_URL")
        from twin.cluster import Cluster

        cluster = Cluster(base)
        cluster.ensure_database(SAMPLE_DB)
        url = cluster.url(SAMPLE_DB)
    dbm.migrate(settings, url=url)
    eng = dbm.get_engine(settings, url=url)
    with eng.begin() as conn:
        load_sample(conn)
    home = tmp_path_factory.mktemp("twin-sample-home")
    return settings.model_copy(update={"database_url": url, "home": home})


@pytest.fixture()
def sample_connection(sample_settings: Settings) -> Iterator[Connection]:
    """A connection to the sample database inside a transaction rolled back after the test."""
    conn = dbm.get_engine(sample_settings).connect()
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()
        conn.close()
