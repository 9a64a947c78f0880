"""``twin db``: the embedded PostGIS cluster and the schema."""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict

import typer

from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.errors import Unavailable

app = typer.Typer(
    help="Manage the database: the embedded PostGIS cluster and the schema.", no_args_is_help=True
)


@app.command()
@handle_errors
def up() -> None:
    """Initialise (first time) and start the embedded cluster, then migrate the schema."""
    s = settings()
    url = dbm.database_url(s)
    version = dbm.migrate(s, url=url)
    console.print(f"database up at [bold]{_safe(url)}[/], schema version {version}")


@app.command()
@handle_errors
def down() -> None:
    """Stop the embedded cluster (data is kept)."""
    s = settings()
    if s.database_url:
        raise Unavailable("TWIN_DATABASE_URL points at an external server; nothing to stop")
    from twin.cluster import Cluster

    dbm.dispose_engines()
    Cluster(s).stop()
    console.print("embedded cluster stopped")


@app.command()
@handle_errors
def migrate(revision: str = typer.Option("head", help="Alembic revision to upgrade to.")) -> None:
    """Upgrade the schema to the newest revision (or ``--revision``)."""
    version = dbm.migrate(settings(), revision=revision)
    console.print(f"schema at version {version}")


@app.command()
@handle_errors
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """Show the server, schema version and row counts per table."""
    s = settings()
    info: dict[str, object] = {"external": bool(s.database_url)}
    if not s.database_url:
        from twin.cluster import Cluster

        info["cluster"] = asdict(Cluster(s).status())
    url = dbm.database_url(s, start=False)
    eng = dbm.get_engine(s, url=url)
    info["url"] = _safe(url)
    info["reachable"] = dbm.ping(eng)
    if info["reachable"]:
        info["schema_version"] = dbm.schema_version(eng)
        info["schema_head"] = dbm.head_revision()
        info["rows"] = dbm.row_counts(eng)
    if as_json:
        print_json(info)
        return
    from rich.table import Table

    console.print(f"database: {info['url']}  reachable: {info['reachable']}")
    if "cluster" in info:
        c = info["cluster"]
        assert isinstance(c, dict)
        console.print(
            f"embedded cluster: running={c['running']} port={c['port']} "
            f"PostgreSQL {c['version']} data={c['data_dir']}"
        )
    if info["reachable"]:
        console.print(f"schema version: {info['schema_version']} (head {info['schema_head']})")
        t = Table("table", "rows")
        rows = info["rows"]
        assert isinstance(rows, dict)
        for k, v in rows.items():
            t.add_row(k, f"{v:,}")
        console.print(t)


@app.command()
@handle_errors
def psql(args: list[str] = typer.Argument(None, help="Extra arguments passed to psql.")) -> None:
    """Open psql on the twin's database."""
    from sqlalchemy.engine import make_url

    u = make_url(dbm.database_url(settings()))
    env = {**os.environ}
    if u.password:
        env["PGPASSWORD"] = u.password
    cmd = [
        "psql",
        "-h",
        u.host or "127.0.0.1",
        "-p",
        str(u.port or 5432),
        "-U",
        u.username or "",
        "-d",
        u.database or "",
        *(args or []),
    ]
    raise typer.Exit(subprocess.call(cmd, env=env))


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
