"""Typed settings for RoadTwin, read from ``TWIN_*`` environment variables.

Nothing else in the project reads ``os.environ``; everything takes a :class:`Settings`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All configuration of the twin.

    Attributes
    ----------
    database_url:
        An existing PostgreSQL/PostGIS server (``postgresql+psycopg://user@host:port/db``).
        When unset the project-managed embedded cluster under ``home`` is used.
    home:
        Project-local state: the embedded cluster, graph snapshots, BIM meshes, logs.
    """

    model_config = SettingsConfigDict(env_prefix="TWIN_", env_file=None, extra="ignore")

    database_url: str | None = None
    home: Path = Field(default=PROJECT_ROOT / ".twin")
    database_name: str = "roadtwin"
    pg_bindir: Path | None = None
    pg_superuser: str = "twin"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    app_port: int = Field(default=8501, ge=1, le=65535)
    actor: str = "engineer"
    snap_radius_m: float = Field(default=500.0, gt=0)
    #: How often a serving process re-checks the network fingerprint for changes, s.
    graph_check_interval_s: float = Field(default=5.0, gt=0, le=3600)
    #: An API process loads the graph snapshot and customizes the vehicle presets' route
    #: metrics at start-up, before it accepts requests (for at most this many seconds;
    #: 0 turns the warm-up off and the first requests pay for it instead).
    api_warm_budget_s: float = Field(default=15.0, ge=0, le=600)
    sample_dir: Path = Field(default=PROJECT_ROOT / "data" / "sample")
    shared_data_dir: Path = Field(default=PROJECT_ROOT.parent / "shared" / "data")
    tile_url: str | None = None
    #: An IFC model linked to an asset is refused when its footprint lies farther away.
    bim_max_asset_distance_m: float = Field(default=2000.0, gt=0)
    #: Base URL of the API as the twin's browser reaches it (vector tiles); default
    #: ``http://{api_host}:{api_port}``.
    api_public_url: str | None = None
    #: Twin users allowed to record inspections / create work orders: user -> password hash
    #: ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` (``twin.services.app_users``).
    app_users: dict[str, str] = Field(default_factory=dict)
    install_missing: bool = True

    @property
    def snapshot_dir(self) -> Path:
        """Where compiled graph snapshots live."""
        return self.home / "graph"

    @property
    def bim_dir(self) -> Path:
        """Where triangulated BIM models (GLB) are stored."""
        return self.home / "bim"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
