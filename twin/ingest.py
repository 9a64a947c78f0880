"""Atomic bulk writes into PostGIS with COPY.

Everything a load writes goes through one transaction on the caller's connection, so a
file that fails half-way leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text

#: COPY text-format escapes (``str.translate`` maps each character once: no double escaping).
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
#: COPY text for NULL.
COPY_NULL = "\\N"


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


def copy_escape(value: str) -> str:
    """``value`` escaped for COPY's text format (backslash, tab, newline, CR)."""
    return value.translate(_COPY_ESCAPES)


def copy_text(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    blocks: Iterable[str],
) -> None:
    """COPY pre-formatted text-format ``blocks`` (whole lines) into ``table`` on ``conn``.

    For loads that build the COPY text column-wise in bulk (one join per block rather
    than one ``write_row`` per row, which costs psycopg ~10 us per row in Python). Values
    must already be escaped with :func:`copy_escape` and NULLs written as ``\\N``.
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    cols = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as cp:
        for block in blocks:
            cp.write(block)


def _secondary_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of ``table``'s indexes not backing a constraint."""
    rows = conn.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1"
        ),
        {"t": table},
    ).all()
    return [(str(n), str(d)) for n, d in rows]


def _has_fewer_rows(conn: Connection, table: str, n: int) -> bool:
    """True when ``table`` holds fewer than ``n`` rows (counts at most ``n``)."""
    got = conn.execute(
        text(f'SELECT count(*) FROM (SELECT 1 FROM "{table}" LIMIT :n) s'), {"n": n}
    ).scalar_one()
    return int(got) < n


@contextmanager
def deferred_indexes(conn: Connection, incoming: dict[str, int]) -> Iterator[list[str]]:
    """Drop secondary indexes of tables about to receive many rows; rebuild them after.

    ``incoming`` maps table -> rows about to be written. A table's secondary indexes
    (those not backing a primary key or unique constraint) are dropped when it holds
    fewer rows than that -- building an index once over the data is several times
    cheaper than maintaining it row by row (a GiST index most of all); with a bigger
    table the rebuild would cost more than it saves, so its indexes stay. The drop and
    the rebuild are plain DDL in the caller's transaction, so a failed load rolls both
    back, and the definitions come from the catalogue, so the rebuilt indexes are
    exactly the schema's. The drop takes the table's exclusive lock until commit:
    readers of that table wait for the load, as they would for ``pg_restore``.

    Yields the names of the tables whose indexes were deferred.
    """
    dropped: list[tuple[str, str]] = []
    tables: list[str] = []
    for table, n in incoming.items():
        if n < 10_000 or not _has_fewer_rows(conn, table, n):
            continue
        idx = _secondary_indexes(conn, table)
        if idx:  # one statement (each round trip may wait for a busy caller's GIL)
            conn.execute(text("DROP INDEX " + ", ".join(f'"{name}"' for name, _ in idx)))
        dropped.extend(idx)
        tables.append(table)
    yield tables
    if dropped:
        # serial builds: at the sizes one load writes (10^4-10^6 rows) starting parallel
        # workers costs more than it saves (100k-edge road_edge: btree builds 20-25 %
        # slower with 2 workers), and the loader's own process is busy on the other core
        with local_settings(
            conn, maintenance_work_mem="256MB", max_parallel_maintenance_workers="0"
        ):
            for _, ddl in dropped:
                conn.execute(text(ddl))


@contextmanager
def local_settings(conn: Connection, **settings: str) -> Iterator[None]:
    """Server settings changed for the block only (``set_config(..., true)``: scoped to
    the transaction as well), the previous values put back afterwards."""
    names = list(settings)
    if not names:
        yield
        return
    cols = ", ".join(f"current_setting(:n{i})" for i in range(len(names)))
    params = {f"n{i}": n for i, n in enumerate(names)}
    previous = conn.execute(text(f"SELECT {cols}"), params).one()
    _set_local(conn, settings)
    try:
        yield
    finally:
        _set_local(conn, dict(zip(names, previous, strict=True)))


def _set_local(conn: Connection, values: dict[str, str]) -> None:
    exprs = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(values)))
    params: dict[str, str] = {}
    for i, (name, value) in enumerate(values.items()):
        params.update({f"n{i}": name, f"v{i}": str(value)})
    conn.execute(text(f"SELECT {exprs}"), params)


def reset_sequence(conn: Connection, table: str, column: str = "id") -> None:
    """Move ``table``'s id sequence past the largest id (after COPY with explicit ids)."""
    conn.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f'COALESCE((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'
        )
    )
