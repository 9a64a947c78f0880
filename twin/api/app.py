"""Application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from twin import db as dbm
from twin.api import errors
from twin.api.routers import assets as assets_router
from twin.api.routers import health
from twin.api.routers import work_orders as work_orders_router
from twin.settings import Settings, get_settings

ROUTERS = [health.router]
ROUTERS += [assets_router.router, work_orders_router.router]
from twin.api.routers import plans as plans_router  # noqa: E402

ROUTERS += [plans_router.router]
from twin.api.routers import bim as bim_router  # noqa: E402

ROUTERS += [bim_router.router]
from twin.api.routers import tiles as tiles_router  # noqa: E402

ROUTERS += [tiles_router.router]
from twin.api.routers import scenarios as scenarios_router  # noqa: E402

ROUTERS += [scenarios_router.router]
from twin.api.routers import limits as limits_router  # noqa: E402
from twin.api.routers import route as route_router  # noqa: E402

ROUTERS += [route_router.router, limits_router.router]
from twin.api.routers import rasters as rasters_router  # noqa: E402

ROUTERS += [rasters_router.router]
from twin.api.routers import roads as roads_router  # noqa: E402

ROUTERS += [roads_router.router]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (the environment's when None)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="RoadTwin API",
        version="0.1.0",
        description="Route checks for heavy and oversize vehicles, structure limits, assets, "
        "inspections and scenarios on Tianjin's road network. Lengths in metres, limits in "
        "centimetres and kilograms unless a field says otherwise.",
        lifespan=lifespan,
    )
    url = dbm.database_url(settings)
    app.state.settings = settings
    app.state.engine = dbm.get_engine(settings, url=url)
    app.state.session_factory = dbm.session_factory(app.state.engine)
    errors.install(app)
    for r in ROUTERS:
        app.include_router(r)
    return app
