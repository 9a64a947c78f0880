"""Atomic bulk writes into PostGIS with COPY.

Everything a load writes goes through one transaction on the caller's connection, so a
file that fails half-way leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection


def copy_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """COPY ``rows`` into ``table`` on ``conn`` (inside its transaction).

    Geometry values are given as EWKT text (``SRID=4326;LINESTRING(...)``) or hex EWKB;
    JSONB values as JSON text. Returns the number of rows written.

    We use psycopg's COPY protocol directly (rather than ``executemany`` or
    ``GeoDataFrame.to_postgis``) because it is an order of magnitude faster for the
    hundreds of thousands of edges a network load writes.
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    cols = ", ".join(f'"{c}"' for c in columns)
    n = 0
    with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as cp:
        for row in rows:
            cp.write_row(row)
            n += 1
    return n


def reset_sequence(conn: Connection, table: str, column: str = "id") -> None:
    """Move ``table``'s id sequence past the largest id (after COPY with explicit ids)."""
    from sqlalchemy import text

    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f'COALESCE((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'
        )
    )
