"""The PostGIS data model (GeoAlchemy2).

Geometry is stored in EPSG:4326; lengths are computed in EPSG:4548 (CGCS2000 / 3-degree
Gauss-Kruger CM 117E). Limits are integers in centimetres and kilograms: NULL means
unknown, ``unlimited = true`` means explicitly no limit. Every row that came from a file
keeps its ``source`` (file, OSM id, register row).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from assets import lifecycle

SRID = 4326
METRIC_SRID = 4548

ROAD_CLASSES = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "rural",
    "port",
    "other",
)
#: Asset kinds and lifecycle states: the domain's own lists (assets/lifecycle.py).
ASSET_KINDS = lifecycle.KINDS
LIFECYCLE_STATES = lifecycle.STATES
LIMIT_KINDS = ("height", "width", "length", "weight", "axle_load", "hazmat", "hgv")
LIMIT_SOURCES = ("sign", "inspection", "osm", "design", "bim", "condition", "register", "manual")
LIMIT_STATUSES = ("proposed", "approved", "rejected")
DIRECTIONS = ("both", "forward", "backward")
WORK_ORDER_KINDS = ("routine", "repair", "rehabilitation", "replacement", "inspection")
WORK_ORDER_STATUSES = ("open", "assigned", "in_progress", "closed", "cancelled")
V2X_MESSAGE_TYPES = ("BSM", "MAP", "SPAT", "RSI", "RSM")
RASTER_KINDS = ("dem", "water_depth")
#: Kinds of the water and land-use areas drawn under the roads (the offline basemap).
LAND_AREA_KINDS = (
    "water",
    "river",
    "sea",
    "wetland",
    "urban",
    "residential",
    "industrial",
    "farmland",
    "port",
    "park",
    "other",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def _valid(column: str = "geom") -> CheckConstraint:
    return CheckConstraint(f"ST_IsValid({column})", name="geom_valid")


class Base(DeclarativeBase):
    """Declarative base; naming convention keeps constraint names stable for Alembic."""

    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB}


Base.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Road(Base):
    """A named road (G2, S30, X012 ...) with its own stake measure."""

    __tablename__ = "road"
    __table_args__ = (
        CheckConstraint(_in("road_class", ROAD_CLASSES), name="road_class"),
        CheckConstraint("stake_end_m IS NULL OR stake_end_m >= stake_start_m", name="stake_range"),
        _valid(),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    road_class: Mapped[str] = mapped_column(String(24), default="other")
    admin_level: Mapped[str | None] = mapped_column(String(24))
    geom: Mapped[Any] = mapped_column(Geometry("MULTILINESTRING", srid=SRID), nullable=True)
    stake_start_m: Mapped[float] = mapped_column(Float, default=0.0)
    stake_end_m: Mapped[float | None] = mapped_column(Float)
    chain_breaks: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[dt.datetime] = _now()


class RoadNode(Base):
    """A vertex of the routable graph."""

    __tablename__ = "road_node"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    osm_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID), nullable=False)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class RoadEdge(Base):
    """A directed-or-two-way edge of the routable graph with its per-edge limits."""

    __tablename__ = "road_edge"
    __table_args__ = (
        CheckConstraint("length_m > 0", name="length_positive"),
        CheckConstraint("speed_kmh > 0", name="speed_positive"),
        CheckConstraint("max_height_cm IS NULL OR max_height_cm > 0", name="height_positive"),
        CheckConstraint("max_width_cm IS NULL OR max_width_cm > 0", name="width_positive"),
        CheckConstraint("max_length_cm IS NULL OR max_length_cm > 0", name="length_lim_positive"),
        CheckConstraint("max_weight_kg IS NULL OR max_weight_kg > 0", name="weight_positive"),
        CheckConstraint("max_axle_load_kg IS NULL OR max_axle_load_kg > 0", name="axle_positive"),
        CheckConstraint(
            "tunnel_category IS NULL OR tunnel_category IN ('A','B','C','D','E')",
            name="tunnel_category",
        ),
        _valid(),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    road_id: Mapped[int | None] = mapped_column(
        ForeignKey("road.id", ondelete="SET NULL"), index=True
    )
    source_node: Mapped[int] = mapped_column(
        ForeignKey("road_node.id", ondelete="CASCADE"), index=True
    )
    target_node: Mapped[int] = mapped_column(
        ForeignKey("road_node.id", ondelete="CASCADE"), index=True
    )
    osm_way_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    highway: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(64))
    length_m: Mapped[float] = mapped_column(Float, nullable=False)
    speed_kmh: Mapped[float] = mapped_column(Float, nullable=False, default=50.0)
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    stake_from_m: Mapped[float | None] = mapped_column(Float)
    stake_to_m: Mapped[float | None] = mapped_column(Float)
    max_height_cm: Mapped[int | None] = mapped_column(Integer)
    max_width_cm: Mapped[int | None] = mapped_column(Integer)
    max_length_cm: Mapped[int | None] = mapped_column(Integer)
    max_weight_kg: Mapped[int | None] = mapped_column(Integer)
    max_axle_load_kg: Mapped[int | None] = mapped_column(Integer)
    hgv: Mapped[str | None] = mapped_column(String(24))
    hazmat: Mapped[str | None] = mapped_column(String(24))
    tunnel_category: Mapped[str | None] = mapped_column(String(1))
    is_bridge: Mapped[bool] = mapped_column(Boolean, default=False)
    is_tunnel: Mapped[bool] = mapped_column(Boolean, default=False)
    conditional: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[Any] = mapped_column(Geometry("LINESTRING", srid=SRID), nullable=False)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Asset(Base):
    """Every physical thing on the network, through its whole life."""

    __tablename__ = "asset"
    __table_args__ = (
        CheckConstraint(_in("kind", ASSET_KINDS), name="kind"),
        CheckConstraint(_in("lifecycle_state", LIFECYCLE_STATES), name="lifecycle_state"),
        CheckConstraint("stake_m IS NULL OR stake_m >= 0", name="stake_nonneg"),
        _valid(),
        # road + stake range lookups (limits by stake, registers): one index scan
        Index("ix_asset_road_code_stake", "road_code", "stake_m"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(96), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    road_id: Mapped[int | None] = mapped_column(ForeignKey("road.id", ondelete="SET NULL"))
    road_code: Mapped[str | None] = mapped_column(String(32))
    stake_m: Mapped[float | None] = mapped_column(Float)
    stake_end_m: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=SRID), nullable=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    lifecycle_state: Mapped[str] = mapped_column(String(24), default="in_service")
    owner: Mapped[str | None] = mapped_column(Text)
    built_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()


class StructureLimit(Base):
    """A limit a structure imposes (height, weight, ...), with where it came from."""

    __tablename__ = "structure_limit"
    __table_args__ = (
        CheckConstraint(_in("kind", LIMIT_KINDS), name="kind"),
        CheckConstraint(_in("source_kind", LIMIT_SOURCES), name="source_kind"),
        CheckConstraint(_in("status", LIMIT_STATUSES), name="status"),
        CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint("value IS NULL OR value > 0", name="value_positive"),
        CheckConstraint("NOT (unlimited AND value IS NOT NULL)", name="unlimited_no_value"),
        CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from", name="valid_range"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[int | None] = mapped_column(Integer)
    value_text: Mapped[str | None] = mapped_column(String(32))
    unlimited: Mapped[bool] = mapped_column(Boolean, default=False)
    source_kind: Mapped[str] = mapped_column(String(16), default="sign")
    status: Mapped[str] = mapped_column(String(16), default="approved")
    direction: Mapped[str] = mapped_column(String(8), default="both")
    conditional: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[dt.datetime] = _now()


class AssetEdge(Base):
    """Which road edges an asset governs (a bridge's deck edges, a tunnel's bore, the edges
    through a height restrictor's node). Its limits and closures apply to these edges.

    ``direction`` is relative to the edge's digitised direction: ``both``, ``forward`` or
    ``backward``.
    """

    __tablename__ = "asset_edge"
    __table_args__ = (CheckConstraint(_in("direction", DIRECTIONS), name="direction"),)

    asset_id: Mapped[int] = mapped_column(
        ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True
    )
    edge_id: Mapped[int] = mapped_column(
        ForeignKey("road_edge.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    direction: Mapped[str] = mapped_column(String(8), default="both")


class Inspection(Base):
    """One inspection of an asset with component scores and the resulting grade."""

    __tablename__ = "inspection"
    __table_args__ = (
        CheckConstraint(
            "overall_score IS NULL OR (overall_score >= 0 AND overall_score <= 100)",
            name="score_range",
        ),
        CheckConstraint(
            "condition_class IS NULL OR condition_class BETWEEN 1 AND 5", name="class_range"
        ),
        Index("ix_inspection_asset_date", "asset_id", "inspected_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    inspected_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    inspector: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(24), default="periodic")
    method: Mapped[str | None] = mapped_column(String(32))
    component_scores: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    overall_score: Mapped[float | None] = mapped_column(Float)
    condition_class: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[dt.datetime] = _now()


class WorkOrder(Base):
    """Maintenance work on an asset, from an inspection or a plan."""

    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint(_in("kind", WORK_ORDER_KINDS), name="kind"),
        CheckConstraint(_in("status", WORK_ORDER_STATUSES), name="status"),
        CheckConstraint("cost_cny IS NULL OR cost_cny >= 0", name="cost_nonneg"),
        CheckConstraint(
            "estimated_cost_cny IS NULL OR estimated_cost_cny >= 0", name="estimate_nonneg"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection.id", ondelete="SET NULL")
    )
    plan_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="open")
    title: Mapped[str] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(Text)
    estimated_cost_cny: Mapped[float | None] = mapped_column(Numeric(14, 2))
    cost_cny: Mapped[float | None] = mapped_column(Numeric(14, 2))
    opened_on: Mapped[dt.date] = mapped_column(Date, server_default=func.current_date())
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()


class MaintenancePlan(Base):
    """A multi-year budgeted maintenance plan and its solution."""

    __tablename__ = "maintenance_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()


class AuditLog(Base):
    """Who changed what, when, with before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = _now()
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str] = mapped_column(String(48))
    entity_id: Mapped[str] = mapped_column(String(96))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class BimModel(Base):
    """An imported IFC file."""

    __tablename__ = "bim_model"
    __table_args__ = (_valid("footprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), index=True
    )
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    ifc_schema: Mapped[str] = mapped_column(String(24))
    authoring_app: Mapped[str | None] = mapped_column(Text)
    units: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    georef: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    footprint: Mapped[Any] = mapped_column(Geometry("POLYGON", srid=SRID), nullable=True)
    glb_path: Mapped[str | None] = mapped_column(Text)
    element_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = _now()


class BimElement(Base):
    """One IFC product of a model, with its property sets and quantities."""

    __tablename__ = "bim_element"
    __table_args__ = (UniqueConstraint("model_id", "global_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("bim_model.id", ondelete="CASCADE"), index=True
    )
    global_id: Mapped[str] = mapped_column(String(22))
    ifc_class: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(Text)
    container: Mapped[str | None] = mapped_column(Text)
    psets: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    quantities: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    mesh_index: Mapped[int | None] = mapped_column(Integer)


class PortYard(Base):
    """A port yard (container yard, gate area) of the autonomous-driving zone."""

    __tablename__ = "port_yard"
    __table_args__ = (_valid(),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(24), default="container_yard")
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=SRID), nullable=False)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class PortLane(Base):
    """A lane in a port yard; ``mode`` tells autonomous, manual or dual-lane operation."""

    __tablename__ = "port_lane"
    __table_args__ = (
        CheckConstraint("mode IN ('autonomous','manual','dual')", name="mode"),
        _valid(),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    yard_id: Mapped[int | None] = mapped_column(ForeignKey("port_yard.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    mode: Mapped[str] = mapped_column(String(16), default="dual")
    geom: Mapped[Any] = mapped_column(Geometry("LINESTRING", srid=SRID), nullable=False)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Village(Base):
    """A rural destination whose reachability scenarios report."""

    __tablename__ = "village"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    population: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID), nullable=False)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class LandArea(Base):
    """A water or land-use area (river, sea, lake, urban, industrial, farmland, port...)
    drawn under the roads as the offline basemap; from OSM areas (``loaders.osm_areas``)."""

    __tablename__ = "land_area"
    __table_args__ = (CheckConstraint(_in("kind", LAND_AREA_KINDS), name="kind"), _valid())

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str | None] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID), nullable=False)
    dataset: Mapped[str] = mapped_column(Text, index=True)
    source: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class NetworkRevision(Base):
    """One row (``id`` 1): a counter that statement triggers bump on every change routing
    may depend on (``road_node``, ``road_edge``, ``structure_limit``, ``asset_edge``, and
    ``asset`` rows inserted, deleted or changed in id, kind, external id or lifecycle
    state), and a token drawn when the table was made. A serving process reads it every
    few seconds (one row) and recomputes the network's fingerprint only when it moved;
    hashing every edge each time cost 0.15 s of database CPU per worker on 100k edges."""

    __tablename__ = "network_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    counter: Mapped[int] = mapped_column(BigInteger)


class V2xUnit(Base):
    """A roadside unit (RSU) of the vehicle-road cooperation corridor."""

    __tablename__ = "v2x_unit"
    __table_args__ = (CheckConstraint("range_m > 0", name="range_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    road_code: Mapped[str | None] = mapped_column(String(32))
    stake_m: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float] = mapped_column(Float, default=300.0)
    message_sets: Mapped[list[Any]] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(String(16), default="online")
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID), nullable=False)


class V2xMessage(Base):
    """A message a unit broadcasts (RSI low clearance, work zone, weight limit ...)."""

    __tablename__ = "v2x_message"
    __table_args__ = (CheckConstraint(_in("msg_type", V2X_MESSAGE_TYPES), name="msg_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("v2x_unit.id", ondelete="CASCADE"))
    msg_type: Mapped[str] = mapped_column(String(8))
    event_type: Mapped[str | None] = mapped_column(String(48))
    period_ms: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    valid_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID), nullable=True)


class Scenario(Base):
    """A planner's what-if: closures, floods, changed limits, and its result."""

    __tablename__ = "scenario"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(24))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()


class RasterLayer(Base):
    """A registered raster (DEM, water depth) kept as a file on disk."""

    __tablename__ = "raster_layer"
    __table_args__ = (
        CheckConstraint(_in("kind", RASTER_KINDS), name="kind"),
        CheckConstraint("res_x > 0 AND res_y > 0", name="res_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    crs: Mapped[str] = mapped_column(Text)
    bounds: Mapped[Any] = mapped_column(Geometry("POLYGON", srid=SRID), nullable=False)
    res_x: Mapped[float] = mapped_column(Float)
    res_y: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    nodata: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = _now()


class LoadRun(Base):
    """One import of a file: what, when, and its report (for idempotence and audit)."""

    __tablename__ = "load_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = _now()
    seconds: Mapped[float | None] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


TABLES = [t.name for t in Base.metadata.sorted_tables]
