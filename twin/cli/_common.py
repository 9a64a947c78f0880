"""Shared helpers for CLI command modules: settings, console, error translation."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from twin.errors import TwinError, exit_code
from twin.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def settings() -> Settings:
    """The process settings (one place, so tests can override through the environment)."""
    return get_settings()


def handle_errors(func: F) -> F:
    """Turn :class:`TwinError` into a readable message and the mapped exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TwinError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}")
            if exc.hint:
                err_console.print(f"[yellow]hint:[/] {exc.hint}")
            raise typer.Exit(exit_code(exc)) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Machine-readable output for ``--json``."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
