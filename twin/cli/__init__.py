"""The ``twin`` command: one typer app, one sub-module per command group."""

from __future__ import annotations

from twin.cli._app import app, main

__all__ = ["app", "main"]
