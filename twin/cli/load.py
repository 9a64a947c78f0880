"""``twin load``: bring data into the twin.

Each kind of input registers its own command on :data:`app` from its own module
(``twin/cli/load_<kind>.py``), imported by ``twin/cli/_app.py``.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Load data: OSM networks, asset registers, rasters, IFC models, the sample.",
    no_args_is_help=True,
)
