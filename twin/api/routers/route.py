"""``/route/check`` and ``/route/check/batch``: heavy-vehicle route checks.

Vehicle dimensions in metres (``height_m``) and tonnes (``weight_t``); answers give
lengths in metres, times in seconds, limits and margins in centimetres and kilograms.
The compiled graph lives in ``app.state.graph_store`` (loaded lazily from the snapshot
or compiled from the database, never per request). Endpoints are ``async`` on purpose:
the search is CPU-bound and short (about a millisecond), and running it on the event
loop keeps one search workspace per worker instead of one per thread-pool thread.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from road_network.graph import CompiledGraph
from road_network.route import RouteOptions
from road_network.vehicle import PRESETS, VehicleError, VehicleProfile, make_profile
from twin.errors import InputError
from twin.services import routing

router = APIRouter(tags=["route"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Point(_Strict):
    """A WGS84 position."""

    lon: float = Field(ge=-180, le=180, description="longitude, degrees (WGS84)")
    lat: float = Field(ge=-90, le=90, description="latitude, degrees (WGS84)")


class Vehicle(_Strict):
    """The vehicle; unset fields come from the preset (default ``gb1589``)."""

    preset: Literal[tuple(PRESETS)] | None = Field(  # type: ignore[valid-type]
        default=None, description="named profile: " + ", ".join(PRESETS)
    )
    height_m: float | None = Field(default=None, gt=0, le=10, description="height incl. load, m")
    width_m: float | None = Field(default=None, gt=0, le=10, description="width, m")
    length_m: float | None = Field(default=None, gt=0, le=100, description="length, m")
    weight_t: float | None = Field(default=None, gt=0, le=1000, description="gross mass, t")
    axle_load_t: float | None = Field(default=None, gt=0, le=100, description="heaviest axle, t")
    axle_count: int | None = Field(default=None, ge=1, le=40, description="number of axles")
    hazmat: bool | None = Field(default=None, description="carries dangerous goods")
    tunnel_code: Literal["B", "C", "D", "E"] | None = Field(
        default=None, description="ADR tunnel restriction code of the load"
    )

    def profile(self) -> VehicleProfile:
        """The validated core profile (errors name the field)."""
        try:
            return make_profile(**self.model_dump())
        except VehicleError as exc:
            raise InputError(f"vehicle.{exc}", details={"field": f"vehicle.{exc.field}"}) from exc


class Options(_Strict):
    """Route options."""

    metric: Literal["time", "distance"] = Field(default="time", description="what to minimise")
    unknown_limits: Literal["passable", "blocking"] = Field(
        default="passable",
        description="unknown limit values: passable (flagged in the answer) or blocking",
    )
    departure: dt.datetime | None = Field(
        default=None, description="departure time for conditional limits (all apply if unset)"
    )
    alternatives: int = Field(default=0, ge=0, le=3, description="alternative routes wanted")
    avoid_polygons: list[list[tuple[float, float]]] = Field(
        default_factory=list, description="polygons [[lon, lat], ...] to avoid", max_length=50
    )
    avoid_roads: list[str] = Field(default_factory=list, description="road codes to avoid")
    avoid_structures: list[str] = Field(
        default_factory=list, description="structure ids or external ids to avoid"
    )
    snap_radius_m: float | None = Field(
        default=None, gt=0, le=50_000, description="refuse points farther than this from roads, m"
    )
    geometry: bool = Field(default=True, description="include GeoJSON geometries")

    def core(self, default_radius_m: float) -> RouteOptions:
        """Core options."""
        return RouteOptions(
            metric=self.metric,
            unknown=self.unknown_limits,
            departure=self.departure,
            alternatives=self.alternatives,
            avoid_polygons=self.avoid_polygons,
            avoid_roads=self.avoid_roads,
            avoid_structures=self.avoid_structures,
            snap_radius_m=self.snap_radius_m or default_radius_m,
        )


class RouteRequest(_Strict):
    """One route check."""

    origin: Point
    destination: Point
    vehicle: Vehicle = Field(default_factory=Vehicle)
    options: Options = Field(default_factory=Options)


class BatchRequest(_Strict):
    """Many OD pairs for one vehicle."""

    pairs: list[tuple[Point, Point]] = Field(min_length=1, max_length=1000)
    vehicle: Vehicle = Field(default_factory=Vehicle)
    options: Options = Field(default_factory=Options)


class Limit(BaseModel):
    """A limit passed (or violated), with the vehicle's value and margin."""

    kind: str
    limit: int | str | None = Field(description="cm or kg; None when unknown")
    unit: str | None = None
    vehicle: int | str | bool | None = None
    margin: int | None = Field(default=None, description="limit - vehicle, cm or kg")


class PathOut(BaseModel):
    """A route."""

    length_m: float
    time_s: float
    edge_ids: list[int] = Field(description="road_edge ids in driving order")
    edge_directions: list[int] = Field(description="+1 along the edge's direction, -1 against")
    first_fraction: float | None = Field(description="share of the first edge driven")
    last_fraction: float | None = Field(description="share of the last edge driven")
    geometry: dict[str, Any] | None = Field(description="GeoJSON LineString, WGS84")


class RouteAnswer(BaseModel):
    """Legal route, structures passed, warnings, and why the direct route is illegal."""

    vehicle: dict[str, Any]
    origin: dict[str, Any] = Field(description="snapped origin with snap_distance_m")
    destination: dict[str, Any]
    route: PathOut
    structures: list[dict[str, Any]] = Field(description="structures passed, limits + margins")
    warnings: list[str]
    unknown_limits: bool = Field(description="the route passes limits of unknown value")
    alternatives: list[PathOut]
    direct_route_blocked: dict[str, Any] | None = Field(
        description="the unrestricted shortest route when illegal: blocking structures "
        "(violated limit, vehicle value, road, stake, coordinates) and detour_m / detour_s"
    )
    graph_version: str


class BatchAnswer(BaseModel):
    """One answer (or error) per pair, in order."""

    results: list[dict[str, Any]]


def graph_for(state: Any) -> CompiledGraph:
    """The compiled graph of an app's ``state`` (lazily created store; see
    :mod:`twin.services.routing`)."""
    store = getattr(state, "graph_store", None)
    if store is None:
        store = routing.graph_store(state.settings)
        state.graph_store = store
    conn = getattr(state, "connection", None)
    if conn is not None:  # tests: the rolled-back test transaction
        return store.get(conn)
    return store.get(None, connect=state.engine.connect, background=True)


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def answer_check(state: Any, body: RouteRequest) -> dict[str, Any]:
    """The answer to one route check for an app's ``state``: shared by the endpoint
    below and the lean ASGI path in :mod:`twin.api.fastpath`, so both answer alike.

    Raises
    ------
    TwinError
        Invalid vehicle, points off the network, no legal route, graph unavailable.
    """
    graph = graph_for(state)
    vehicle = body.vehicle.profile()
    return routing.check_route(
        graph,
        vehicle,
        (body.origin.lon, body.origin.lat),
        (body.destination.lon, body.destination.lat),
        body.options.core(state.settings.snap_radius_m),
        geometry=body.options.geometry,
    )


@router.post("/route/check", response_model=RouteAnswer)
async def route_check(request: Request, body: RouteRequest) -> Response:
    """Legal route for a heavy or oversize vehicle, with every structure passed and, when
    the unrestricted shortest route is illegal, the structures that block it and the
    detour cost. 422 with ``details.blocking`` when no legal route exists."""
    # a running app answers this path in twin.api.fastpath.RouteCheckFastPath (same
    # validation, answers and errors); this endpoint documents it and answers without it
    return _json(answer_check(request.app.state, body))


@router.post("/route/check/batch", response_model=BatchAnswer)
async def route_check_batch(request: Request, body: BatchRequest) -> Response:
    """Route checks for up to 1,000 OD pairs sharing a vehicle and options; a pair that
    fails carries its error instead of an answer."""
    graph = graph_for(request.app.state)
    vehicle = body.vehicle.profile()
    radius = request.app.state.settings.snap_radius_m
    pairs = [((o.lon, o.lat), (d.lon, d.lat)) for o, d in body.pairs]
    results = routing.check_routes(
        graph, vehicle, pairs, body.options.core(radius), geometry=body.options.geometry
    )
    return _json({"results": results})
