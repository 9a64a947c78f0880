"""``twin route`` (a heavy-vehicle route check) and ``twin limits`` (limit lookups)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from road_network.route import RouteOptions
from road_network.stake import StakeError, parse_stake
from road_network.vehicle import PRESETS, VehicleError, make_profile
from twin import db as dbm
from twin.cli._common import console, handle_errors, print_json, settings
from twin.errors import InputError, NoRoute
from twin.services import limits as lookups
from twin.services import routing

limits_app = typer.Typer(help="Structure limit lookups.", no_args_is_help=True)


def _lonlat(raw: str, name: str) -> tuple[float, float]:
    try:
        lon, lat = (float(x) for x in raw.split(","))
    except ValueError:
        raise InputError(
            f"{name} {raw!r}: expected LON,LAT in degrees (e.g. 117.20,39.13)"
        ) from None
    return lon, lat


def _stake(raw: str | None, name: str) -> float | None:
    if raw is None:
        return None
    try:
        return parse_stake(raw.strip())
    except StakeError as exc:
        raise InputError(f"{name} {raw!r}: {exc}") from None


def _vehicle(**kw: Any) -> Any:
    try:
        return make_profile(**kw)
    except VehicleError as exc:
        raise InputError(str(exc), hint=f"presets: {', '.join(PRESETS)}") from exc


@handle_errors
def route(
    origin: str = typer.Option(..., "--from", help="Origin LON,LAT (WGS84 degrees)."),
    destination: str = typer.Option(..., "--to", help="Destination LON,LAT."),
    preset: str | None = typer.Option(None, "--preset", help=f"One of {', '.join(PRESETS)}."),
    height: float | None = typer.Option(None, "--height", help="Vehicle height, m."),
    width: float | None = typer.Option(None, "--width", help="Vehicle width, m."),
    length: float | None = typer.Option(None, "--length", help="Vehicle length, m."),
    weight: float | None = typer.Option(None, "--weight", help="Gross mass, t."),
    axle_load: float | None = typer.Option(None, "--axle-load", help="Heaviest axle, t."),
    unknown: str = typer.Option("passable", "--unknown", help="Unknown limits: passable|blocking."),
    alternatives: int = typer.Option(0, "--alternatives", help="Alternative routes (0..3)."),
    metric: str = typer.Option("time", "--metric", help="time|distance."),
    as_json: bool = typer.Option(False, "--json", help="Print the full answer as JSON."),
) -> None:
    """Check a legal route for a heavy vehicle: route length/time, structures passed with
    margins, and which structures make the direct route illegal."""
    o = _lonlat(origin, "--from")
    d = _lonlat(destination, "--to")
    v = _vehicle(
        preset=preset,
        height_m=height,
        width_m=width,
        length_m=length,
        weight_t=weight,
        axle_load_t=axle_load,
    )
    s = settings()
    g = routing.get_graph(s)
    opts = RouteOptions(
        metric=metric,
        unknown=unknown,  # type: ignore[arg-type]
        alternatives=alternatives,
        snap_radius_m=s.snap_radius_m,
    )
    try:
        answer = routing.check_route(g, v, o, d, opts, geometry=as_json)
    except NoRoute as exc:
        if as_json:
            print_json(exc.to_dict())
        else:
            _print_blocking(exc.details.get("blocking", []) if exc.details else [], "Blocking")
        raise
    if as_json:
        print_json(answer)
        return
    _print_answer(answer)


def _print_answer(a: dict[str, Any]) -> None:
    v = a["vehicle"]
    r = a["route"]
    t = Table(title=f"Legal route for {v['name']}", show_header=True)
    for col in ("length (m)", "time (min)", "edges", "origin snap (m)", "dest. snap (m)"):
        t.add_column(col, justify="right")
    t.add_row(
        f"{r['length_m']:,.0f}",
        f"{r['time_s'] / 60:.1f}",
        str(len(r["edge_ids"])),
        f"{a['origin']['snap_distance_m']:.1f}",
        f"{a['destination']['snap_distance_m']:.1f}",
    )
    for alt in a["alternatives"]:
        t.add_row(
            f"{alt['length_m']:,.0f}",
            f"{alt['time_s'] / 60:.1f}",
            str(len(alt["edge_ids"])),
            "alt",
            "",
        )
    console.print(t)
    console.print(
        f"vehicle: height {v['height_cm']} cm, width {v['width_cm']} cm, "
        f"weight {v['gross_weight_kg'] / 1000:g} t, axle {v['axle_load_kg'] / 1000:g} t"
    )
    if a["structures"]:
        s = Table(title="Structures passed")
        for col in ("structure", "road", "stake (m)", "limit", "value", "vehicle", "margin"):
            s.add_column(col)
        for st in a["structures"]:
            for lim in st["limits"]:
                unit = lim.get("unit") or ""
                s.add_row(
                    str(st.get("name") or st.get("external_id") or st.get("edge_id")),
                    str(st.get("road_code") or ""),
                    "" if st.get("stake_m") is None else f"{st['stake_m']:,.0f}",
                    lim["kind"],
                    "unknown" if lim["limit"] is None else f"{lim['limit']} {unit}",
                    f"{lim['vehicle']} {unit}",
                    "" if lim.get("margin") is None else f"{lim['margin']} {unit}",
                )
        console.print(s)
    blocked = a.get("direct_route_blocked")
    if blocked:
        console.print(
            f"[yellow]The shortest unrestricted route ({blocked['length_m']:,.0f} m) is "
            f"illegal; detour +{blocked['detour_m']:,.0f} m, +{blocked['detour_s'] / 60:.1f} min"
        )
        _print_blocking(blocked["blocking"], "Blocking the direct route")
    for w in a["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")


def _print_blocking(items: list[dict[str, Any]], title: str) -> None:
    if not items:
        return
    t = Table(title=title)
    for col in (
        "structure",
        "kind",
        "road",
        "stake (m)",
        "lon, lat",
        "violated",
        "limit",
        "vehicle",
    ):
        t.add_column(col)
    for b in items:
        for w in b["violated"]:
            unit = w.get("unit") or ""
            t.add_row(
                str(b.get("name") or b.get("external_id") or b.get("edge_id")),
                str(b.get("kind")),
                str(b.get("road_code") or ""),
                "" if b.get("stake_m") is None else f"{b['stake_m']:,.0f}",
                f"{b['lon']:.5f}, {b['lat']:.5f}",
                str(w["kind"]),
                "unknown" if w["limit"] is None else f"{w['limit']} {unit}",
                "" if w["vehicle"] is None else f"{w['vehicle']} {unit}",
            )
    console.print(t)


def _print_limits(items: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json({"count": len(items), "structures": items})
        return
    t = Table(title=f"{len(items)} structure(s)")
    for col in ("id", "external id", "kind", "name", "road", "stake (m)", "state", "limits"):
        t.add_column(col)
    for s in items:
        lims = ", ".join(
            f"{x['kind']} {'?' if x['value'] is None else x['value']}{x.get('unit') or ''}"
            f"{'' if x['status'] == 'approved' else ' (' + x['status'] + ')'}"
            for x in s["limits"]
        )
        t.add_row(
            str(s["id"]),
            str(s["external_id"]),
            str(s["kind"]),
            str(s.get("name_en") or s.get("name_zh") or ""),
            str(s.get("road_code") or ""),
            "" if s.get("stake_m") is None else f"{s['stake_m']:,.0f}",
            str(s["lifecycle_state"]),
            lims,
        )
    console.print(t)


@limits_app.command("bbox")
@handle_errors
def limits_bbox(
    bbox: str = typer.Argument(..., help="MIN_LON,MIN_LAT,MAX_LON,MAX_LAT"),
    limit: int = typer.Option(1000, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Structures with limits inside a bounding box."""
    try:
        x0, y0, x1, y1 = (float(x) for x in bbox.split(","))
    except ValueError:
        raise InputError(f"bbox {bbox!r}: expected MIN_LON,MIN_LAT,MAX_LON,MAX_LAT") from None
    with dbm.get_engine(settings()).connect() as conn:
        _print_limits(lookups.limits_in_bbox(conn, (x0, y0, x1, y1), limit=limit), as_json)


@limits_app.command("near")
@handle_errors
def limits_near(
    point: str = typer.Argument(..., help="LON,LAT"),
    radius: float = typer.Option(500.0, "--radius", help="Radius, m."),
    limit: int = typer.Option(1000, "--limit"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Structures with limits within a radius of a point, nearest first."""
    lon, lat = _lonlat(point, "point")
    with dbm.get_engine(settings()).connect() as conn:
        _print_limits(lookups.limits_near(conn, lon, lat, radius_m=radius, limit=limit), as_json)


@limits_app.command("road")
@handle_errors
def limits_road(
    code: str = typer.Argument(..., help="Road code, e.g. G2"),
    stake_from: str | None = typer.Option(None, "--from", help="Stake from: K12+345 or metres."),
    stake_to: str | None = typer.Option(None, "--to", help="Stake to: K12+345 or metres."),
    blocking: str | None = typer.Option(
        None, "--blocking", help="Only structures blocking this preset vehicle."
    ),
    height: float | None = typer.Option(None, "--height", help="With --blocking: height, m."),
    weight: float | None = typer.Option(None, "--weight", help="With --blocking: mass, t."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Structures with limits on a road (optionally a stake range, or only those that
    block a vehicle)."""
    with dbm.get_engine(settings()).connect() as conn:
        if blocking or height is not None or weight is not None:
            v = _vehicle(preset=blocking, height_m=height, weight_t=weight)
            items = lookups.blocking_on_road(conn, code, v)
        else:
            items = lookups.limits_on_road(
                conn,
                code,
                stake_from_m=_stake(stake_from, "--from"),
                stake_to_m=_stake(stake_to, "--to"),
            )
        _print_limits(items, as_json)


@limits_app.command("show")
@handle_errors
def limits_show(
    ident: str = typer.Argument(..., help="Asset id or external id"),
    as_json: bool = typer.Option(True, "--json/--table"),
) -> None:
    """One structure with its limits and the edges it governs."""
    with dbm.get_engine(settings()).connect() as conn:
        item = lookups.structure_by_id(conn, ident)
    if as_json:
        print_json(item)
    else:
        _print_limits([item], False)
