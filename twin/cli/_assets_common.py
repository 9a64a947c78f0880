"""Helpers shared by the asset command groups (assets, inspections, work-orders, plan)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from twin import db as dbm
from twin.cli._common import console, settings
from twin.errors import InputError

ACTOR_OPTION = typer.Option("cli", "--actor", help="Who makes the change (audit log).")


@contextmanager
def db_session() -> Iterator[Session]:
    """A session committed when the command succeeds (tests replace this)."""
    with dbm.session_scope(settings()) as sess:
        yield sess


def parse_date(value: str, field: str) -> dt.date:
    """A ``YYYY-MM-DD`` option value as a date (InputError naming the option otherwise)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field} = {value!r} is not a date YYYY-MM-DD") from None


def parse_json(value: str, field: str) -> Any:
    """A JSON option value, or ``@path`` to read it from a file."""
    text = value
    if value.startswith("@"):
        from pathlib import Path

        path = Path(value[1:])
        if not path.is_file():
            raise InputError(f"{field}: file {path} does not exist")
        text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{field} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def show_table(rows: list[dict[str, Any]], columns: list[str], *, title: str | None = None) -> None:
    """Print rows as a rich table with the given columns."""
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in columns])
    console.print(t)
