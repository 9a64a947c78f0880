"""Asset inventory, lifecycle, inspections and condition-aware limits.

Every function takes a SQLAlchemy ``Session`` or ``Connection`` (tests pass the rolled-back
one) and plain data; every change is written to ``audit_log`` with who, when, before and
after. Input is validated before anything is written, so a rejected call leaves the
database as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, true, update
from sqlalchemy.orm import Session

from assets import bridge_condition, lifecycle, pavement, tunnel_condition
from assets.errors import GradingError
from assets.limits import propose_for_class
from twin.errors import Conflict, InputError, NotFound
from twin.schema import Asset, AuditLog, Inspection, StructureLimit

A = cast(Table, Asset.__table__)
I = cast(Table, Inspection.__table__)  # noqa: E741
L = cast(Table, StructureLimit.__table__)
AUD = cast(Table, AuditLog.__table__)

DbLike = Session | Connection

_ASSET_COLS = [c for c in A.c if c.name != "geom"]
_PAVEMENT_CLASS = {"excellent": 1, "good": 2, "fair": 3, "poor": 4, "bad": 5}


def conn_of(db: DbLike) -> Connection:
    """The Connection behind a Session (or the Connection itself)."""
    return db.connection() if isinstance(db, Session) else db


def jsonable(value: Any) -> Any:
    """Dates, decimals and nested values made JSON-ready (for audit and API replies)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return float(value) if hasattr(value, "__float__") else str(value)


def audit(
    db: DbLike,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: Any,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Write one ``audit_log`` row."""
    if not actor or not actor.strip():
        raise InputError("actor is empty; say who makes the change (a name or login)")
    conn_of(db).execute(
        insert(AUD).values(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=jsonable(dict(before)) if before is not None else None,
            after=jsonable(dict(after)) if after is not None else None,
        )
    )


def input_error(exc: GradingError) -> InputError:
    """A core grading error as the twin's InputError (field, value, what is valid)."""
    return InputError(str(exc), details={"field": exc.field, "value": jsonable(exc.value)})


# --------------------------------------------------------------------------- inventory


def _asset_row(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    return jsonable(d)  # type: ignore[no-any-return]


def get_asset(db: DbLike, asset_id: int) -> dict[str, Any]:
    """One asset with its latest condition and the next legal lifecycle states.

    Raises
    ------
    NotFound
        When no asset has ``asset_id``.
    """
    conn = conn_of(db)
    row = conn.execute(
        select(
            *_ASSET_COLS,
            func.ST_X(func.ST_PointOnSurface(A.c.geom)).label("lon"),
            func.ST_Y(func.ST_PointOnSurface(A.c.geom)).label("lat"),
        ).where(A.c.id == asset_id)
    ).first()
    if row is None:
        raise NotFound(f"asset id {asset_id} does not exist", hint="list assets with GET /assets")
    out = _asset_row(row)
    latest = conn.execute(
        select(I.c.id, I.c.inspected_on, I.c.overall_score, I.c.condition_class, I.c.grade)
        .where(I.c.asset_id == asset_id)
        .order_by(I.c.inspected_on.desc(), I.c.id.desc())
        .limit(1)
    ).first()
    out["latest_inspection"] = jsonable(dict(latest._mapping)) if latest else None
    out["next_states"] = list(lifecycle.allowed_next(out["kind"], out["lifecycle_state"]))
    return out


def _require_asset(conn: Connection, asset_id: int, *, lock: bool = False) -> dict[str, Any]:
    q = select(*_ASSET_COLS).where(A.c.id == asset_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(
            f"asset_id {asset_id} does not exist",
            hint="list assets with GET /assets or `twin assets list`",
        )
    return dict(row._mapping)


def list_assets(
    db: DbLike,
    *,
    kind: str | None = None,
    state: str | None = None,
    road_code: str | None = None,
    condition_class: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Assets filtered by kind, lifecycle state, road and latest condition class."""
    if kind is not None and kind not in lifecycle.KINDS:
        raise InputError(
            f"kind = {kind!r} is not an asset kind; use one of {', '.join(lifecycle.KINDS)}"
        )
    if state is not None and state not in lifecycle.STATES:
        raise InputError(
            f"state = {state!r} is not a lifecycle state; use one of {', '.join(lifecycle.STATES)}"
        )
    if not 1 <= limit <= 10_000:
        raise InputError(f"limit = {limit} is out of range; use 1..10000")
    latest = (
        select(I.c.condition_class, I.c.overall_score, I.c.inspected_on)
        .where(I.c.asset_id == A.c.id)
        .order_by(I.c.inspected_on.desc(), I.c.id.desc())
        .limit(1)
        .lateral("latest")
    )
    q = (
        select(
            *_ASSET_COLS,
            func.ST_X(func.ST_PointOnSurface(A.c.geom)).label("lon"),
            func.ST_Y(func.ST_PointOnSurface(A.c.geom)).label("lat"),
            latest.c.condition_class,
            latest.c.overall_score,
            latest.c.inspected_on.label("last_inspected_on"),
        )
        .select_from(A.outerjoin(latest, true()))
        .order_by(A.c.id)
        .limit(limit)
        .offset(offset)
    )
    if kind:
        q = q.where(A.c.kind == kind)
    if state:
        q = q.where(A.c.lifecycle_state == state)
    if road_code:
        q = q.where(A.c.road_code == road_code)
    if condition_class is not None:
        q = q.where(latest.c.condition_class == condition_class)
    return [_asset_row(r) for r in conn_of(db).execute(q)]


def create_asset(
    db: DbLike,
    *,
    external_id: str,
    kind: str,
    lon: float | None = None,
    lat: float | None = None,
    wkt: str | None = None,
    name_zh: str | None = None,
    name_en: str | None = None,
    road_code: str | None = None,
    stake_m: float | None = None,
    built_on: dt.date | None = None,
    owner: str | None = None,
    lifecycle_state: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    actor: str,
) -> dict[str, Any]:
    """Register an asset (point by lon/lat in EPSG:4326, or any geometry as WKT)."""
    try:
        state = lifecycle.initial_state(kind, lifecycle_state)
    except GradingError as exc:
        raise input_error(exc) from None
    if not external_id or len(external_id) > 96:
        raise InputError(f"external_id = {external_id!r} must be 1..96 characters")
    geom_wkt = _geometry_wkt(lon=lon, lat=lat, wkt=wkt)
    if stake_m is not None and stake_m < 0:
        raise InputError(f"stake_m = {stake_m} m is negative; stakes start at K0+000")
    if built_on is not None and built_on > dt.date.today():
        raise InputError(f"built_on = {built_on} is in the future")
    conn = conn_of(db)
    if conn.execute(select(A.c.id).where(A.c.external_id == external_id)).first():
        raise Conflict(f"external_id {external_id!r} is already registered")
    new_id = conn.execute(
        insert(A)
        .values(
            external_id=external_id,
            kind=kind,
            name_zh=name_zh,
            name_en=name_en,
            road_code=road_code,
            stake_m=stake_m,
            built_on=built_on,
            owner=owner,
            lifecycle_state=state,
            attributes=dict(attributes or {}),
            source={"created_by": actor},
            geom=func.ST_GeomFromText(geom_wkt, 4326),
        )
        .returning(A.c.id)
    ).scalar_one()
    after = get_asset(conn, new_id)
    audit(
        conn,
        actor=actor,
        action="create",
        entity="asset",
        entity_id=new_id,
        before=None,
        after=after,
    )
    return after


def _geometry_wkt(*, lon: float | None, lat: float | None, wkt: str | None) -> str:
    if wkt:
        import shapely

        try:
            g = shapely.from_wkt(wkt)
        except Exception as exc:  # shapely raises GEOSException with varying types
            raise InputError(f"wkt = {wkt[:60]!r} is not valid WKT: {exc}") from None
        if g.is_empty or not g.is_valid:
            raise InputError(f"wkt = {wkt[:60]!r} is empty or not a valid geometry")
        minx, miny, maxx, maxy = g.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise InputError("wkt coordinates must be lon/lat degrees (EPSG:4326)")
        return str(g.wkt)
    if lon is None or lat is None:
        raise InputError("geometry missing: give lon and lat (EPSG:4326 degrees) or wkt")
    if not -180 <= lon <= 180:
        raise InputError(f"lon = {lon} is out of range; use degrees -180..180 (EPSG:4326)")
    if not -90 <= lat <= 90:
        raise InputError(f"lat = {lat} is out of range; use degrees -90..90 (EPSG:4326)")
    return f"POINT({lon} {lat})"


def transition_asset(
    db: DbLike, asset_id: int, *, to_state: str, actor: str, reason: str | None = None
) -> dict[str, Any]:
    """Move an asset to another lifecycle state (legal moves only), audited.

    Raises
    ------
    NotFound
        Unknown asset.
    Conflict
        The move is not allowed from the current state (the message lists the legal ones).
    """
    conn = conn_of(db)
    row = _require_asset(conn, asset_id, lock=True)
    if to_state not in lifecycle.STATES:
        raise InputError(
            f"to_state = {to_state!r} is not a lifecycle state; use one of {', '.join(lifecycle.STATES)}"
        )
    try:
        lifecycle.transition(row["kind"], row["lifecycle_state"], to_state)
    except GradingError as exc:
        raise Conflict(
            f"asset {asset_id} ({row['kind']}) cannot move from {row['lifecycle_state']!r} to "
            f"{to_state!r}; expected {exc.valid}",
            details={"field": "to_state", "from": row["lifecycle_state"], "to": to_state},
        ) from None
    attrs = dict(row["attributes"] or {})
    if to_state in ("closed", "decommissioned"):
        attrs.pop("proposed_transition", None)
    conn.execute(
        update(A)
        .where(A.c.id == asset_id)
        .values(lifecycle_state=to_state, attributes=attrs, updated_at=func.now())
    )
    audit(
        conn,
        actor=actor,
        action="transition",
        entity="asset",
        entity_id=asset_id,
        before={"lifecycle_state": row["lifecycle_state"]},
        after={"lifecycle_state": to_state, "reason": reason},
    )
    _invalidate_routes(conn, [asset_id])
    return get_asset(conn, asset_id)


def _invalidate_routes(conn: Connection, asset_ids: list[int]) -> None:
    """Tell the route engine that limits or closures of these assets changed.

    ``twin.services.routing`` compiles per-edge limits from *approved* ``structure_limit``
    rows of assets linked through ``asset_edge`` and treats closed assets' edges as
    impassable; :func:`twin.services.routing.invalidate` makes its next graph request
    re-check the database fingerprint (which covers limit statuses and asset states).
    """
    from twin.services import routing

    routing.invalidate()


# --------------------------------------------------------------------------- inspections


def grade(kind: str, component_scores: Mapping[str, Any]) -> dict[str, Any]:
    """Grade component scores by the standard for the asset's kind.

    Bridges: JTG/T H21-2011; tunnels: JTG H12-2015 (unverified tables); pavement sections:
    JTG 5210-2018 MQI (grades mapped to classes excellent 1 ... bad 5); other kinds give
    ``{"score": 0..100}`` or ``{"class": 1..5}`` directly.
    """
    if not isinstance(component_scores, Mapping):
        raise InputError("component_scores must be a JSON object")
    try:
        if kind == "bridge":
            b = bridge_condition.assess_bridge_json(component_scores)
            return {
                "score": b.dr,
                "class": b.klass,
                "grade": f"class {b.klass}",
                "detail": b.to_dict(),
            }
        if kind == "tunnel":
            t = tunnel_condition.assess_tunnel_json(component_scores)
            return {
                "score": t.jgci,
                "class": t.klass,
                "grade": f"class {t.klass}",
                "detail": t.to_dict(),
            }
        if kind == "pavement_section":
            p = pavement.assess_section(component_scores)
            return {
                "score": p.mqi,
                "class": _PAVEMENT_CLASS[p.grade],
                "grade": p.grade,
                "detail": p.to_dict(),
            }
        return _generic_grade(component_scores)
    except GradingError as exc:
        raise input_error(exc) from None
    except (
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:  # wrong JSON shapes, e.g. a list for an object
        raise InputError(
            f"component_scores has the wrong shape for a {kind}: {exc}",
            hint="see docs/assets.md for the JSON each asset kind takes",
            details={"field": "component_scores"},
        ) from None


def _generic_grade(cs: Mapping[str, Any]) -> dict[str, Any]:
    if "score" in cs:
        s = cs["score"]
        if isinstance(s, bool) or not isinstance(s, int | float) or not 0 <= s <= 100:
            raise GradingError("component_scores.score", s, "a number in [0, 100]")
        k = bridge_condition.condition_class(float(s))
        return {"score": float(s), "class": k, "grade": f"class {k}", "detail": {}}
    if "class" in cs:
        k = cs["class"]
        if k not in (1, 2, 3, 4, 5) or isinstance(k, bool):
            raise GradingError("component_scores.class", k, "an integer 1..5")
        return {"score": None, "class": k, "grade": f"class {k}", "detail": {}}
    raise GradingError(
        "component_scores", dict(cs), "an object with 'score' (0..100) or 'class' (1..5)"
    )


def record_inspection(
    db: DbLike,
    asset_id: int,
    *,
    inspected_on: dt.date,
    component_scores: Mapping[str, Any],
    inspector: str | None = None,
    kind: str = "periodic",
    method: str | None = None,
    notes: str | None = None,
    synthetic: bool = False,
    source: Mapping[str, Any] | None = None,
    actor: str,
    propose_limits: bool = True,
) -> dict[str, Any]:
    """Record an inspection, grade it, and propose posted limits for class 4/5 bridges.

    Returns the stored inspection with its assessment and any proposals.

    Raises
    ------
    NotFound
        Unknown asset.
    InputError
        Scores out of range (naming the field), a date before the asset was built or in
        the future. Nothing is written then.
    """
    conn = conn_of(db)
    asset = _require_asset(conn, asset_id)
    _check_date(asset, inspected_on)
    result = grade(asset["kind"], component_scores)
    stored = {**dict(component_scores), "assessment": result["detail"]}
    new_id = conn.execute(
        insert(I)
        .values(
            asset_id=asset_id,
            inspected_on=inspected_on,
            inspector=inspector,
            kind=kind,
            method=method,
            component_scores=jsonable(stored),
            overall_score=None
            if result["score"] is None
            else round(min(100.0, result["score"]), 3),
            condition_class=result["class"],
            grade=result["grade"],
            notes=notes,
            synthetic=synthetic,
            source=dict(source or {}),
        )
        .returning(I.c.id)
    ).scalar_one()
    row = _inspection(conn, new_id)
    audit(
        conn,
        actor=actor,
        action="inspect",
        entity="inspection",
        entity_id=new_id,
        before=None,
        after=row,
    )
    proposals: list[dict[str, Any]] = []
    if propose_limits and asset["kind"] == "bridge" and result["class"] >= 4:
        proposals = propose_condition_limits(conn, asset_id, inspection_id=new_id, actor=actor)
    row["proposals"] = proposals
    return row


def _check_date(asset: Mapping[str, Any], inspected_on: dt.date) -> None:
    if not isinstance(inspected_on, dt.date):
        raise InputError(f"inspected_on = {inspected_on!r} is not a date (YYYY-MM-DD)")
    if asset["built_on"] is not None and inspected_on < asset["built_on"]:
        raise InputError(
            f"inspected_on = {inspected_on} is before asset {asset['id']} was built "
            f"(built_on = {asset['built_on']}); use a date on or after it",
            details={"field": "inspected_on"},
        )
    if inspected_on > dt.date.today():
        raise InputError(
            f"inspected_on = {inspected_on} is in the future", details={"field": "inspected_on"}
        )


def _inspection(conn: Connection, inspection_id: int) -> dict[str, Any]:
    row = conn.execute(select(I).where(I.c.id == inspection_id)).first()
    if row is None:
        raise NotFound(f"inspection id {inspection_id} does not exist")
    return jsonable(dict(row._mapping))  # type: ignore[no-any-return]


def list_inspections(db: DbLike, asset_id: int) -> list[dict[str, Any]]:
    """An asset's inspections, oldest first."""
    conn = conn_of(db)
    _require_asset(conn, asset_id)
    rows = conn.execute(
        select(I).where(I.c.asset_id == asset_id).order_by(I.c.inspected_on, I.c.id)
    )
    return [jsonable(dict(r._mapping)) for r in rows]


# --------------------------------------------------------------------------- limits


def list_limits(db: DbLike, asset_id: int, *, status: str | None = None) -> list[dict[str, Any]]:
    """The structure limits of an asset (all statuses unless one is given)."""
    conn = conn_of(db)
    _require_asset(conn, asset_id)
    q = select(L).where(L.c.asset_id == asset_id).order_by(L.c.id)
    if status:
        q = q.where(L.c.status == status)
    return [jsonable(dict(r._mapping)) for r in conn.execute(q)]


def propose_condition_limits(
    db: DbLike, asset_id: int, *, inspection_id: int | None, actor: str
) -> list[dict[str, Any]]:
    """Proposals for a class 4/5 bridge from its latest grade.

    Class 4: a ``structure_limit`` row (kind ``weight``, source_kind ``condition``, status
    ``proposed``). Class 5: a proposed lifecycle transition to ``closed`` kept in the
    asset's ``attributes.proposed_transition``. Both wait for an engineer's approval.
    """
    conn = conn_of(db)
    asset = _require_asset(conn, asset_id)
    klass = conn.execute(
        select(I.c.condition_class)
        .where(I.c.asset_id == asset_id)
        .order_by(I.c.inspected_on.desc(), I.c.id.desc())
        .limit(1)
    ).scalar()
    if klass is None:
        return []
    current = conn.execute(
        select(func.min(L.c.value)).where(
            L.c.asset_id == asset_id, L.c.kind == "weight", L.c.status == "approved"
        )
    ).scalar()
    prop = propose_for_class(int(klass), current_weight_kg=current)
    if prop.action == "weight_limit":
        dup = conn.execute(
            select(L.c.id).where(
                L.c.asset_id == asset_id,
                L.c.source_kind == "condition",
                L.c.status == "proposed",
                L.c.value == prop.weight_kg,
            )
        ).first()
        if dup:
            return [_limit(conn, dup[0])]
        lid = conn.execute(
            insert(L)
            .values(
                asset_id=asset_id,
                kind="weight",
                value=prop.weight_kg,
                unlimited=False,
                source_kind="condition",
                status="proposed",
                direction="both",
                note=prop.reason,
                source={"inspection_id": inspection_id, "condition_class": int(klass)},
            )
            .returning(L.c.id)
        ).scalar_one()
        row = _limit(conn, lid)
        audit(
            conn,
            actor=actor,
            action="propose_limit",
            entity="structure_limit",
            entity_id=lid,
            before=None,
            after=row,
        )
        return [{"type": "limit", **row}]
    if prop.action == "closure" and asset["lifecycle_state"] not in ("closed", "decommissioned"):
        attrs = dict(asset["attributes"] or {})
        proposal = {
            "to": "closed",
            "reason": prop.reason,
            "inspection_id": inspection_id,
            "proposed_at": dt.datetime.now(dt.UTC).isoformat(),
            "status": "proposed",
        }
        attrs["proposed_transition"] = proposal
        conn.execute(
            update(A).where(A.c.id == asset_id).values(attributes=attrs, updated_at=func.now())
        )
        audit(
            conn,
            actor=actor,
            action="propose_closure",
            entity="asset",
            entity_id=asset_id,
            before={"proposed_transition": (asset["attributes"] or {}).get("proposed_transition")},
            after={"proposed_transition": proposal},
        )
        return [{"type": "closure", "asset_id": asset_id, **proposal}]
    return []


def _limit(conn: Connection, limit_id: int) -> dict[str, Any]:
    row = conn.execute(select(L).where(L.c.id == limit_id)).first()
    if row is None:
        raise NotFound(f"structure_limit id {limit_id} does not exist")
    return jsonable(dict(row._mapping))  # type: ignore[no-any-return]


def decide_limit(
    db: DbLike,
    asset_id: int,
    limit_id: int,
    *,
    approve: bool,
    actor: str,
    value: int | None = None,
) -> dict[str, Any]:
    """Approve (optionally with a changed value) or reject a proposed limit.

    Approving a condition limit on an in-service asset also moves it to ``restricted``;
    the route engine is told to recompile either way.
    """
    conn = conn_of(db)
    asset = _require_asset(conn, asset_id)
    lim = _limit(conn, limit_id)
    if lim["asset_id"] != asset_id:
        raise NotFound(f"structure_limit {limit_id} does not belong to asset {asset_id}")
    if lim["status"] != "proposed":
        raise Conflict(
            f"structure_limit {limit_id} is {lim['status']!r}, only 'proposed' can be decided"
        )
    if value is not None and value <= 0:
        raise InputError(f"value = {value} must be a positive integer (kg or cm by the limit kind)")
    status = "approved" if approve else "rejected"
    values: dict[str, Any] = {"status": status}
    if approve:
        values["valid_from"] = func.now()
        if value is not None:
            values["value"] = value
    conn.execute(update(L).where(L.c.id == limit_id).values(**values))
    after = _limit(conn, limit_id)
    audit(
        conn,
        actor=actor,
        action="approve_limit" if approve else "reject_limit",
        entity="structure_limit",
        entity_id=limit_id,
        before=lim,
        after=after,
    )
    if (
        approve
        and asset["lifecycle_state"] == "in_service"
        and asset["kind"] in lifecycle.TRAFFIC_KINDS
    ):
        transition_asset(
            conn, asset_id, to_state="restricted", actor=actor, reason=f"limit {limit_id} approved"
        )
    else:
        _invalidate_routes(conn, [asset_id])
    return after


def approve_closure(db: DbLike, asset_id: int, *, actor: str) -> dict[str, Any]:
    """Approve a proposed closure: the asset moves to ``closed`` (audited) and routing
    treats its edges as impassable."""
    conn = conn_of(db)
    asset = _require_asset(conn, asset_id)
    prop = (asset["attributes"] or {}).get("proposed_transition")
    if not prop:
        raise Conflict(f"asset {asset_id} has no proposed closure to approve")
    return transition_asset(
        conn, asset_id, to_state=str(prop["to"]), actor=actor, reason=str(prop.get("reason"))
    )


def audit_trail(db: DbLike, *, entity: str, entity_id: Any) -> list[dict[str, Any]]:
    """Audit rows of one entity, oldest first."""
    rows = conn_of(db).execute(
        select(AUD)
        .where(AUD.c.entity == entity, AUD.c.entity_id == str(entity_id))
        .order_by(AUD.c.id)
    )
    return [jsonable(dict(r._mapping)) for r in rows]
