"""Deterioration forecasts and budgeted maintenance plans from the database.

Reads graded inspections, fits Markov matrices per asset kind (and per kind and age band,
per kind and traffic band where there are enough pairs; a sparse band is pooled to its
kind's fit and says so), forecasts class shares with credible bands, draws the
figures, and solves multi-year plans (exact milp and worst-first, same alternatives),
storing each plan in ``maintenance_plan`` and turning a plan year into work orders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, insert, select, text

from assets import markov, planning, plots
from assets.errors import GradingError
from twin.errors import InputError, NotFound
from twin.schema import MaintenancePlan
from twin.services.assets import DbLike, audit, conn_of, get_asset, input_error, jsonable
from twin.services.work_orders import create_work_order

P = cast(Table, MaintenancePlan.__table__)

PLAN_KINDS = ("bridge", "tunnel", "culvert", "underpass", "pavement_section")
#: Lane width (m) and verge used to estimate a bridge's deck area from its length.
LANE_WIDTH_M = 3.75
VERGE_M = 2.0


def _observations(
    conn: Any, kind: str | None
) -> tuple[list[markov.Observation], dict[int, dict[str, Any]]]:
    rows = conn.execute(
        text(
            "SELECT i.asset_id, i.inspected_on, i.condition_class, a.kind, a.built_on, "
            "(i.source->>'assumed_built_year')::int AS assumed, a.attributes->'aadt', "
            "a.attributes->'heavy_vehicle_share' FROM inspection i "
            "JOIN asset a ON a.id = i.asset_id WHERE i.condition_class IS NOT NULL "
            "AND (CAST(:k AS text) IS NULL OR a.kind = :k) ORDER BY i.asset_id, i.inspected_on"
        ),
        {"k": kind},
    ).all()
    obs = [markov.Observation(r[0], r[1], int(r[2])) for r in rows]
    info: dict[int, dict[str, Any]] = {}
    for r in rows:
        built = r[4].year if r[4] else r[5]
        info.setdefault(
            r[0], {"kind": r[3], "built_year": built, "traffic": markov.traffic_band(r[6], r[7])}
        )
    return obs, info


#: A traffic or age band with fewer yearly pairs than this uses its kind's fit.
MIN_PAIRS = 30


def fit_models(
    db: DbLike, *, kind: str | None = None, min_pairs: int = MIN_PAIRS
) -> dict[str, markov.MarkovFit]:
    """Transition matrices: ``"all"``, one per kind, per kind and age band (age at the
    earlier inspection of a pair: < 15, 15-30, >= 30 years) and per kind and traffic band
    (``"bridge|traffic heavy"``, :func:`assets.markov.traffic_band`) where the group has
    at least ``min_pairs`` yearly pairs (sparser bands are left out: their assets use the
    kind's fit, see :func:`band_models`); groups borrow strength from the pooled fit."""
    conn = conn_of(db)
    obs, info = _observations(conn, kind)
    if not obs:
        raise NotFound(
            "no graded inspections to fit a deterioration model"
            + (f" for kind {kind!r}" if kind else ""),
            hint="record inspections or run `twin assets generate-history`",
        )

    def by_kind(o: markov.Observation) -> str:
        return str(info[int(o.asset_id)]["kind"])  # type: ignore[call-overload]

    def by_kind_age(o: markov.Observation) -> str:
        a = info[int(o.asset_id)]  # type: ignore[call-overload]
        if a["built_year"] is None:
            return f"{a['kind']}|age unknown"
        return f"{a['kind']}|{markov.age_band(o.inspected_on.year - a['built_year'])}"

    def by_kind_traffic(o: markov.Observation) -> str:
        a = info[int(o.asset_id)]  # type: ignore[call-overload]
        return f"{a['kind']}|{a['traffic']}"

    fits = markov.fit_groups(obs, group_of=by_kind)
    for grouping in (by_kind_age, by_kind_traffic):
        for g, f in markov.fit_groups(obs, group_of=grouping).items():
            if g != "all" and f.n_pairs >= min_pairs and not g.endswith("unknown"):
                fits[g] = f
    return fits


def band_models(db: DbLike, *, kind: str, min_pairs: int = MIN_PAIRS) -> dict[str, dict[str, Any]]:
    """Per traffic band of ``kind``: the model its assets use (the band's own fit, or the
    kind's fit when the band has fewer than ``min_pairs`` yearly pairs: ``pooled``), the
    band's own pair count and its current assets' classes."""
    conn = conn_of(db)
    fits = fit_models(conn, kind=kind, min_pairs=min_pairs)
    obs, info = _observations(conn, kind)
    pairs: dict[str, int] = {}
    for band in {a["traffic"] for a in info.values()}:
        band_obs = [o for o in obs if info[int(o.asset_id)]["traffic"] == band]  # type: ignore[call-overload]
        pairs[band] = int(markov.yearly_pairs(band_obs)[0].sum())
    latest = _latest_classes(conn, kind)
    out: dict[str, dict[str, Any]] = {}
    for band in sorted(pairs):
        group = f"{kind}|{band}"
        fit = fits.get(group) or fits.get(kind, fits["all"])
        classes = [c for a, c in latest.items() if info.get(a, {}).get("traffic") == band]
        out[band] = {
            "fit": fit,
            "model_group": fit.group,
            "pooled": group not in fits,
            "band_pairs": pairs[band],
            "classes": classes,
        }
    return out


def _latest_classes(conn: Any, kind: str | None) -> dict[int, int]:
    rows = conn.execute(
        text(
            "SELECT DISTINCT ON (i.asset_id) i.asset_id, i.condition_class FROM inspection i "
            "JOIN asset a ON a.id = i.asset_id WHERE i.condition_class IS NOT NULL "
            "AND a.lifecycle_state NOT IN ('decommissioned', 'planned') "
            "AND (CAST(:k AS text) IS NULL OR a.kind = :k) "
            "ORDER BY i.asset_id, i.inspected_on DESC, i.id DESC"
        ),
        {"k": kind},
    ).all()
    return {int(r[0]): int(r[1]) for r in rows}


def forecast_network(
    db: DbLike, *, kind: str = "bridge", years: int = 30, seed: int = 0, band: str | None = None
) -> dict[str, Any]:
    """Class shares of ``kind`` for the next ``years`` years from the latest grades, with the
    fit's credible band (posterior draws of the transition matrix), and the same per
    traffic band (``traffic_bands``: each names the model it used and whether it was
    pooled to the kind's fit for want of pairs). With ``band`` (``"heavy"`` or
    ``"traffic heavy"``), the top-level forecast is that band's."""
    if not 1 <= years <= 30:
        raise InputError(f"years = {years} is out of range; forecasts cover 1..30 years")
    conn = conn_of(db)
    fits = fit_models(conn, kind=kind)
    fit = fits.get(kind, fits["all"])
    latest = _latest_classes(conn, kind)
    bands = band_models(conn, kind=kind)
    start = dt.date.today().year
    per_band = []
    for name, b in bands.items():
        if not b["classes"]:
            continue
        counts = np.bincount(np.array(b["classes"]) - 1, minlength=5).astype(float)
        fb = markov.forecast_bands(b["fit"], counts, years=years, seed=seed)
        per_band.append(
            {
                "band": name,
                "assets": len(b["classes"]),
                "model_group": b["model_group"],
                "pooled": b["pooled"],
                "band_pairs": b["band_pairs"],
                "shares": np.round(fb["mean"], 5).tolist(),
                "lower": np.round(fb["lower"], 5).tolist(),
                "upper": np.round(fb["upper"], 5).tolist(),
                "class_4_or_5": _worse(fb),
                "_bands": fb,
                "_fit": b["fit"],
            }
        )
    title = kind
    if band is not None:
        want = band if band.startswith("traffic ") else f"traffic {band}"
        names = [n for n, _ in markov.TRAFFIC_BAND_EDGES_HV_PER_DAY] + ["unknown"]
        if want.removeprefix("traffic ") not in names:
            raise InputError(
                f"band = {band!r} is not a traffic band; use one of {', '.join(names)}"
            )
        chosen = next((b for b in per_band if b["band"] == want), None)
        if chosen is None:
            have = ", ".join(b["band"].removeprefix("traffic ") for b in per_band) or "none"
            raise NotFound(f"no {kind} in traffic band {band!r}; bands with assets: {have}")
        fit, latest_n, fb_top = chosen["_fit"], chosen["assets"], chosen["_bands"]
        title = f"{kind}, {want}" + (f" (pooled: {kind} model)" if chosen["pooled"] else "")
    else:
        counts = np.bincount(np.array(list(latest.values())) - 1, minlength=5).astype(float)
        fb_top = markov.forecast_bands(fit, counts, years=years, seed=seed)
        latest_n = len(latest)
    return {
        "kind": kind,
        "band": band,
        "assets": latest_n,
        "start_year": start,
        "years": list(range(start, start + years + 1)),
        "shares": np.round(fb_top["mean"], 5).tolist(),
        "lower": np.round(fb_top["lower"], 5).tolist(),
        "upper": np.round(fb_top["upper"], 5).tolist(),
        "class_4_or_5": _worse(fb_top),
        "model": fit.to_dict(),
        "traffic_bands": [{k: v for k, v in b.items() if not k.startswith("_")} for b in per_band],
        "groups": {g: f.to_dict() for g, f in fits.items()},
        "_bands": fb_top,
        "_title": title,
    }


def _worse(fb: dict[str, Any]) -> dict[str, list[float]]:
    """Share in class 4 or 5 by year with its credible band."""
    return {
        "mean": np.round(fb["mean"][:, 3:].sum(axis=1), 5).tolist(),
        "lower": np.round(fb["worse_lower"], 5).tolist(),
        "upper": np.round(fb["worse_upper"], 5).tolist(),
    }


def forecast_asset(db: DbLike, asset_id: int, *, years: int = 30) -> dict[str, Any]:
    """One asset's expected class and probability of class 4/5 for the next ``years``."""
    if not 1 <= years <= 30:
        raise InputError(f"years = {years} is out of range; forecasts cover 1..30 years")
    conn = conn_of(db)
    asset = get_asset(conn, asset_id)
    latest = asset["latest_inspection"]
    if not latest or latest["condition_class"] is None:
        raise NotFound(f"asset {asset_id} has no graded inspection to forecast from")
    fits = fit_models(conn, kind=asset["kind"])
    attrs = asset.get("attributes") or {}
    band = markov.traffic_band(attrs.get("aadt"), attrs.get("heavy_vehicle_share"))
    built = asset["built_on"][:4] if asset["built_on"] else None
    group = asset["kind"]
    if f"{asset['kind']}|{band}" in fits:  # traffic first: it drives wear in the history
        group = f"{asset['kind']}|{band}"
    elif built:
        g = f"{asset['kind']}|{markov.age_band(dt.date.today().year - int(built))}"
        group = g if g in fits else group
    fit = fits.get(group, fits["all"])
    path = markov.expected_path(fit.matrix, int(latest["condition_class"]), years=years)
    start = dt.date.today().year
    return {
        "asset_id": asset_id,
        "group": fit.group,
        "traffic_band": band,
        "traffic_synthetic": bool(attrs.get("traffic_synthetic")),
        "start_class": latest["condition_class"],
        "years": list(range(start, start + years + 1)),
        "expected_class": np.round(path["expected_class"], 4).tolist(),
        "p_class_4_or_5": np.round(path["p_class_4_or_5"], 4).tolist(),
        "distribution": np.round(path["distribution"], 5).tolist(),
        "_path": path,
        "_name": asset.get("name_en") or asset.get("name_zh") or asset["external_id"],
    }


def public(d: dict[str, Any]) -> dict[str, Any]:
    """A forecast without its private array fields (for JSON replies)."""
    return {k: v for k, v in d.items() if not k.startswith("_")}


def network_forecast_png(
    db: DbLike, *, kind: str = "bridge", years: int = 30, band: str | None = None
) -> bytes:
    """Stacked class shares over time for ``kind`` (or one traffic band of it) as PNG."""
    f = forecast_network(db, kind=kind, years=years, band=band)
    return plots.stacked_shares_png(
        f["_bands"]["mean"], start_year=f["start_year"], bands=f["_bands"],
        title=f"{f['_title']}: forecast class shares ({f['assets']} assets, "
        f"model {f['model']['group']}, {f['model']['n_pairs']} yearly pairs)",
    )  # fmt: skip


def asset_forecast_png(db: DbLike, asset_id: int, *, years: int = 30) -> bytes:
    """One asset's expected path as PNG."""
    f = forecast_asset(db, asset_id, years=years)
    return plots.expected_path_png(
        f["_path"],
        start_year=f["years"][0],
        title=f"{f['_name']}: expected condition (model {f['group']})",
    )


# --------------------------------------------------------------------------- plans


def _plan_assets(
    conn: Any, kinds: Sequence[str], fits: dict[str, markov.MarkovFit]
) -> list[planning.PlanAsset]:
    rows = conn.execute(
        text(
            "SELECT DISTINCT ON (a.id) a.id, a.kind, i.condition_class, "
            "COALESCE(ST_Length(a.geom::geography), 0), a.attributes FROM asset a "
            "JOIN inspection i ON i.asset_id = a.id WHERE a.kind = ANY(:kinds) "
            "AND i.condition_class IS NOT NULL "
            "AND a.lifecycle_state NOT IN ('decommissioned', 'planned', 'under_construction') "
            "ORDER BY a.id, i.inspected_on DESC, i.id DESC"
        ),
        {"kinds": list(kinds)},
    ).all()
    out = []
    for aid, kind, klass, length_m, attrs in rows:
        a = attrs or {}
        band = f"{kind}|{markov.traffic_band(a.get('aadt'), a.get('heavy_vehicle_share'))}"
        out.append(
            planning.PlanAsset(
                asset_id=int(aid),
                kind=kind,
                distribution=np.eye(5)[int(klass) - 1],
                group=band if band in fits else kind if kind in fits else "all",
                size=_size(kind, float(length_m), attrs or {}),
                weight=_weight(attrs or {}),
            )
        )
    return out


def _size(kind: str, length_m: float, attrs: dict[str, Any]) -> float:
    """Deck area m² for bridges (attribute, else length x lanes), metres for tunnels; whole
    m² and metres (geodesic lengths differ by millimetres between otherwise identical
    structures, which would hide that they are interchangeable to the planner)."""
    for key in ("deck_area_m2", "area_m2"):
        v = attrs.get(key)
        if isinstance(v, int | float) and v > 0:
            return float(max(1, round(v)))
    length = float(round(length_m)) if length_m > 1 else 30.0
    if kind == "bridge":
        lanes = (
            attrs.get("osm_tags", {}).get("lanes")
            if isinstance(attrs.get("osm_tags"), dict)
            else None
        )
        try:
            n = max(1, int(str(lanes))) if lanes else 2
        except ValueError:
            n = 2
        return float(round(length * (n * LANE_WIDTH_M + VERGE_M)))
    return length


def _weight(attrs: dict[str, Any]) -> float:
    v = attrs.get("aadt")
    return float(max(0.2, min(5.0, v / 20_000.0))) if isinstance(v, int | float) and v > 0 else 1.0


def run_plan(
    db: DbLike,
    *,
    name: str,
    budgets_cny: Sequence[float],
    kinds: Sequence[str] = ("bridge", "tunnel"),
    time_limit_s: float = 30.0,
    mip_rel_gap: float = 1e-4,
    actor: str,
) -> dict[str, Any]:
    """Solve a multi-year plan for the assets of ``kinds`` (latest grades, fitted matrices)
    by milp and worst-first, store both in ``maintenance_plan`` and return them."""
    bad = [k for k in kinds if k not in PLAN_KINDS]
    if bad:
        raise InputError(f"kinds: {bad} cannot be planned; use some of {', '.join(PLAN_KINDS)}")
    if not 1 <= len(budgets_cny) <= 30:
        raise InputError(
            f"budgets_cny has {len(budgets_cny)} years; give 1..30 yearly budgets (CNY)"
        )
    if any(b < 0 for b in budgets_cny):
        raise InputError("budgets_cny: every yearly budget must be >= 0 CNY")
    if not 0 < time_limit_s <= 3600:
        raise InputError(f"time_limit_s = {time_limit_s}; use (0, 3600] seconds")
    conn = conn_of(db)
    # per kind and traffic band where the band has its own fit (age bands: forecasts only)
    fits = {k: v for k, v in fit_models(conn).items() if "|" not in k or "|traffic " in k}
    items = _plan_assets(conn, kinds, fits)
    if not items:
        raise NotFound(
            f"no graded {', '.join(kinds)} to plan for", hint="record or generate inspections first"
        )
    try:
        problem = planning.build_problem(
            items, transition={k: f.matrix for k, f in fits.items()}, budgets_cny=list(budgets_cny)
        )
        best = planning.solve_milp(problem, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
        wf = planning.worst_first(problem)
    except GradingError as exc:
        raise input_error(exc) from None
    start = dt.date.today().year + 1
    result = {
        "first_year": start,
        "assets": len(items),
        "do_nothing_objective": round(float(problem.base.sum()), 3),
        "milp": best.to_dict(),
        "worst_first": wf.to_dict(),
        "improvement_over_worst_first_pct": round(
            100.0 * (best.objective - wf.objective) / abs(wf.objective), 4
        )
        if wf.objective
        else None,
        "assumptions": {
            "unit_costs_cny": {
                a: dict(v.unit_cost_cny) for a, v in planning.DEFAULT_ACTIONS.items()
            },
            "condition_index": planning.CONDITION_INDEX.tolist(),
            "one_treatment_per_asset": True,
            "asset_weight": "AADT / 20,000 within 0.2..5 (1 without traffic data)",
            "deterioration_models": sorted({a.group for a in items}),
        },
    }
    params = {
        "budgets_cny": [float(b) for b in budgets_cny],
        "kinds": list(kinds),
        "time_limit_s": time_limit_s,
        "mip_rel_gap": mip_rel_gap,
    }
    pid = conn.execute(
        insert(P)
        .values(name=name, params=params, result=jsonable(result), created_by=actor)
        .returning(P.c.id)
    ).scalar_one()
    audit(conn, actor=actor, action="plan", entity="maintenance_plan", entity_id=pid, before=None,
          after={"name": name, **params, "objective": best.objective})  # fmt: skip
    return {"id": pid, "name": name, "params": params, "result": result}


def get_plan(db: DbLike, plan_id: int) -> dict[str, Any]:
    """A stored plan."""
    row = conn_of(db).execute(select(P).where(P.c.id == plan_id)).first()
    if row is None:
        raise NotFound(f"plan id {plan_id} does not exist")
    return jsonable(dict(row._mapping))  # type: ignore[no-any-return]


def list_plans(db: DbLike) -> list[dict[str, Any]]:
    """Stored plans (without their full results), newest first."""
    rows = conn_of(db).execute(
        select(P.c.id, P.c.name, P.c.params, P.c.created_by, P.c.created_at).order_by(P.c.id.desc())
    )
    return [jsonable(dict(r._mapping)) for r in rows]


def plan_work_orders(
    db: DbLike, plan_id: int, *, year_index: int = 0, method: str = "milp", actor: str
) -> list[dict[str, Any]]:
    """Open work orders for the actions a plan schedules in one year (idempotent)."""
    conn = conn_of(db)
    plan = get_plan(conn, plan_id)
    if method not in ("milp", "worst_first"):
        raise InputError(f"method = {method!r}; use milp or worst_first")
    years = len(plan["params"]["budgets_cny"])
    if not 0 <= year_index < years:
        raise InputError(f"year_index = {year_index} is outside the plan's 0..{years - 1}")
    existing = {
        r[0]
        for r in conn.execute(
            text("SELECT asset_id FROM work_order WHERE plan_id = :p"), {"p": plan_id}
        )
    }
    first = int(plan["result"]["first_year"])
    out = []
    for a in plan["result"][method]["actions"]:
        if a["year_index"] != year_index or a["asset_id"] in existing:
            continue
        out.append(
            create_work_order(
                conn, asset_id=a["asset_id"], kind=a["action"], plan_id=plan_id,
                estimated_cost_cny=a["cost_cny"], due_on=dt.date(first + year_index, 12, 31),
                title=f"{a['action']} (plan {plan_id}, {first + year_index})", actor=actor,
            )
        )  # fmt: skip
    return out
