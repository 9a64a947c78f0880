"""Foundation: schema, constraints, health, CLI, settings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from twin import db as dbm
from twin.errors import ERROR_CODES, InputError, NotFound, http_status
from twin.schema import TABLES
from twin.settings import Settings


def test_every_table_exists_with_spatial_indexes(connection: Connection) -> None:
    present = {
        r[0]
        for r in connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
    }
    assert set(TABLES) <= present
    gist = {
        r[0]
        for r in connection.execute(
            text("SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")
        )
    }
    for t in ("road", "road_node", "road_edge", "asset", "port_yard", "village", "v2x_unit"):
        assert t in gist, f"{t} has no spatial index"


def test_schema_version_is_head(engine) -> None:  # type: ignore[no-untyped-def]
    assert dbm.schema_version(engine) == dbm.head_revision()


def _asset(conn: Connection, **kw: object) -> None:
    row = {
        "external_id": "T-1",
        "kind": "bridge",
        "wkt": "POINT(117.2 39.1)",
        "srid": 4326,
        "state": "in_service",
    }
    row.update(kw)
    conn.execute(
        text(
            "INSERT INTO asset (external_id, kind, geom, lifecycle_state, attributes, source) "
            "VALUES (:external_id, :kind, ST_GeomFromText(:wkt, :srid), :state, '{}', '{}')"
        ),
        row,
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"kind": "spaceship"}, "ck_asset_kind"),
        ({"state": "melted"}, "ck_asset_lifecycle_state"),
        ({"wkt": "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))"}, "ck_asset_geom_valid"),
        ({"srid": 3857}, "SRID"),
    ],
)
def test_asset_constraints_keep_bad_data_out(
    connection: Connection, change: dict[str, object], fragment: str
) -> None:
    with pytest.raises(Exception) as info, connection.begin_nested():
        _asset(connection, **change)
    assert fragment.lower() in str(info.value).lower()


def test_limit_must_be_positive(connection: Connection) -> None:
    _asset(connection)
    aid = connection.execute(text("SELECT id FROM asset WHERE external_id='T-1'")).scalar()
    with pytest.raises(IntegrityError, match="value_positive"), connection.begin_nested():
        connection.execute(
            text(
                "INSERT INTO structure_limit (asset_id, kind, value, unlimited, source_kind, status, "
                "direction, source) VALUES (:a, 'height', -5, false, 'sign', 'approved', 'both', '{}')"
            ),
            {"a": aid},
        )
    connection.execute(
        text(
            "INSERT INTO structure_limit (asset_id, kind, value, unlimited, source_kind, status, "
            "direction, source) VALUES (:a, 'height', 450, false, 'sign', 'approved', 'both', '{}')"
        ),
        {"a": aid},
    )
    assert connection.execute(text("SELECT value FROM structure_limit")).scalar() == 450


def test_health_reports_ok(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"] is True
    assert body["schema_version"] == body["schema_head"]


def test_openapi_documents_health(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    assert "/health" in spec["paths"]


def test_error_tree_maps_to_codes() -> None:
    assert http_status(InputError("x")) == 422
    assert http_status(NotFound("x")) == 404
    assert all(400 <= h < 600 and c > 0 for h, c in ERROR_CODES.values())


def _twin(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "TWIN_DATABASE_URL": settings.database_url or "",
        "PATH": "/usr/bin:/bin",
        "TWIN_HOME": str(settings.home),
    }
    return subprocess.run(
        [sys.executable, "-m", "twin", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_status_through_database_url(settings: Settings) -> None:
    """TWIN_DATABASE_URL switches the CLI to a server given by URL (here: the test db)."""
    res = _twin(settings, "db", "status", "--json")
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["external"] is True
    assert info["reachable"] is True
    assert info["schema_version"] == info["schema_head"]
    assert set(TABLES) <= set(info["rows"])


def test_cli_help_everywhere(settings: Settings) -> None:
    for args in (["--help"], ["db", "--help"], ["db", "status", "--help"]):
        res = _twin(settings, *args)
        assert res.returncode == 0, res.stderr
        assert "Usage" in res.stdout


def test_cli_unreachable_server_is_a_clear_error(settings: Settings) -> None:
    env_url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    res = subprocess.run(
        [sys.executable, "-m", "twin", "db", "migrate"],
        capture_output=True,
        text=True,
        env={"TWIN_DATABASE_URL": env_url, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert res.returncode == 5, res.stdout + res.stderr
    assert "cannot reach the database" in res.stderr
    assert "Traceback" not in res.stderr


def test_models_and_migrations_agree(settings: Settings) -> None:
    """A change to twin/schema.py without an Alembic revision fails here."""
    from alembic import command
    from alembic.util.exc import AutogenerateDiffsDetected

    try:
        command.check(dbm.alembic_config(settings.database_url or ""))
    except AutogenerateDiffsDetected as exc:  # pragma: no cover - the failure message
        pytest.fail(f"twin/schema.py differs from the migrations: {exc}")
