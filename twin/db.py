"""Database lifecycle: resolving the URL, engines, sessions, migrations.

The only module that creates engines. ``TWIN_DATABASE_URL`` points everything at an
existing server; otherwise the embedded cluster is started on demand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from twin.errors import Unavailable
from twin.settings import Settings

_engines: dict[str, Engine] = {}
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The URL to use: ``TWIN_DATABASE_URL`` or the embedded cluster (started when asked)."""
    if settings.database_url:
        return _normalise(settings.database_url)
    from twin.cluster import Cluster

    cluster = Cluster(settings)
    if start:
        cluster.start()
    return cluster.url()


def _normalise(url: str) -> str:
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def get_engine(settings: Settings, *, url: str | None = None) -> Engine:
    """A pooled engine for the settings' database (one per URL per process)."""
    url = url or database_url(settings)
    eng = _engines.get(url)
    if eng is None:
        eng = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            connect_args={"connect_timeout": 5},
        )
        _engines[url] = eng
    return eng


def dispose_engines() -> None:
    """Close every pool (app shutdown, tests)."""
    for eng in _engines.values():
        eng.dispose()
    _engines.clear()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    sess = session_factory(get_engine(settings))()
    try:
        yield sess
        sess.commit()
    except Exception:
        sess.rollback()
        raise
    finally:
        sess.close()


def ping(engine: Engine) -> bool:
    """True when the database answers."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False


def alembic_config(url: str) -> Any:
    """Alembic configuration pointing at our migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(settings: Settings, *, url: str | None = None, revision: str = "head") -> str:
    """Upgrade the schema to ``revision``; returns the version now in force."""
    from alembic import command

    url = url or database_url(settings)
    try:
        command.upgrade(alembic_config(url), revision)
    except OperationalError as exc:
        raise Unavailable(f"cannot reach the database to migrate: {exc.orig}") from exc
    return schema_version(get_engine(settings, url=url)) or "none"


def schema_version(engine: Engine) -> str | None:
    """The Alembic revision in force, or None when never migrated."""
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar()
        if not exists:
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision among our migration scripts (read once per process)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    return str(script.get_current_head())


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the data model."""
    from twin.schema import TABLES

    out: dict[str, int] = {}
    with engine.connect() as conn:
        for name in TABLES:
            if conn.execute(text("SELECT to_regclass(:n)"), {"n": f"public.{name}"}).scalar():
                out[name] = int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar() or 0)
    return out
