"""Application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from twin import db as dbm
from twin.api import errors
from twin.api.fastpath import RouteCheckFastPath
from twin.api.routers import (
    assets,
    bim,
    health,
    limits,
    plans,
    rasters,
    roads,
    route,
    scenarios,
    tiles,
    work_orders,
)
from twin.services import routing
from twin.settings import Settings, get_settings

#: Every resource's router, one module each.
ROUTERS = [
    health.router,
    route.router,
    limits.router,
    scenarios.router,
    assets.router,
    work_orders.router,
    plans.router,
    bim.router,
    roads.router,
    rasters.router,
    tiles.router,
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for ``settings`` (the environment's when None)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a served app warms its route graph before accepting requests; an app bound to a
        # test's connection (app.state.connection) compiles inside that transaction instead
        if settings.api_warm_budget_s > 0 and getattr(app.state, "connection", None) is None:
            routing.warm(
                settings, connect=app.state.engine.connect, budget_s=settings.api_warm_budget_s
            )
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
    app.add_middleware(RouteCheckFastPath)
    for r in ROUTERS:
        app.include_router(r)
    return app
