"""Which arcs a vehicle may use: the passable mask (vectorised numpy, cached per profile).

An arc is passable when, for every limit kind, the limit is :data:`LIMIT_NONE`, or at
least the vehicle's value, or :data:`LIMIT_UNKNOWN` and the unknown-limit policy is
``passable``; and it is not closed, not ``hgv=no`` for a heavy vehicle, not ``hazmat=no``
for dangerous goods, and not a tunnel of a category the load's tunnel code forbids.

``blocked`` (a bool array per arc) lets callers add their own closures -- avoid areas,
what-if scenarios -- without touching the graph.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np

from road_network.graph import (
    FLAG_CLOSED,
    FLAG_HAZMAT_NO,
    FLAG_HGV_NO,
    LIMIT_KINDS,
    LIMIT_NONE,
    LIMIT_UNKNOWN,
    CompiledGraph,
)
from road_network.vehicle import VehicleProfile

UnknownPolicy = Literal["passable", "blocking"]
UNKNOWN_POLICIES = ("passable", "blocking")


def passable_mask(
    g: CompiledGraph,
    vehicle: VehicleProfile | None,
    *,
    unknown: UnknownPolicy = "passable",
    departure: dt.datetime | None = None,
    blocked: np.ndarray | None = None,
) -> np.ndarray:
    """uint8 mask per arc (1 = the vehicle may drive it).

    Parameters
    ----------
    g:
        The compiled graph.
    vehicle:
        The profile; None gives the unrestricted mask (only closures apply).
    unknown:
        ``passable`` (default; routes over unknown limits are flagged by the caller) or
        ``blocking``.
    departure:
        Departure time for conditional limits (None applies them all).
    blocked:
        Extra arcs to block (bool per arc).
    """
    if unknown not in UNKNOWN_POLICIES:
        raise ValueError(f"unknown={unknown!r}: must be one of {', '.join(UNKNOWN_POLICIES)}")
    key = (
        "mask",
        None if vehicle is None else vehicle.key(),
        unknown,
        None if departure is None else departure.isoformat(timespec="minutes"),
    )
    base = g.cache.get(key) if blocked is None else None
    if base is None:
        base = _compute(g, vehicle, unknown, departure)
        if blocked is None:
            if len(g.cache) > 512:
                _evict(g)
            g.cache[key] = base
    if blocked is not None:
        out = base.copy()
        out[np.asarray(blocked, bool)] = 0
        return out
    return base  # type: ignore[no-any-return]


def _evict(g: CompiledGraph) -> None:
    for k in [k for k in g.cache if isinstance(k, tuple) and k and k[0] == "mask"]:
        del g.cache[k]


def _compute(
    g: CompiledGraph,
    vehicle: VehicleProfile | None,
    unknown: UnknownPolicy,
    departure: dt.datetime | None,
) -> np.ndarray:
    ok = (g.arc_flags & FLAG_CLOSED) == 0
    if vehicle is not None:
        lim = g.effective_limits(departure)
        allow_unknown = unknown == "passable"
        for i, kind in enumerate(LIMIT_KINDS):
            row = lim[i]
            v = vehicle.value(kind)
            good = row >= v  # LIMIT_NONE is int32 max: always good
            if allow_unknown:
                good |= row == LIMIT_UNKNOWN
            ok &= good
        if vehicle.is_hgv:
            ok &= (g.arc_flags & FLAG_HGV_NO) == 0
        if vehicle.hazmat or vehicle.tunnel_code is not None:
            if vehicle.hazmat:
                ok &= (g.arc_flags & FLAG_HAZMAT_NO) == 0
            rank = vehicle.tunnel_rank
            if rank:
                ok &= g.arc_tunnel_rank < rank
    return ok.astype(np.uint8)


def violations(
    g: CompiledGraph,
    arc: int,
    vehicle: VehicleProfile,
    *,
    unknown: UnknownPolicy = "passable",
    departure: dt.datetime | None = None,
) -> list[dict[str, object]]:
    """Why ``arc`` is not passable for ``vehicle``: a list of ``{kind, limit, vehicle, unit}``
    (``limit`` None for unknown values under the blocking policy; kinds ``closed``,
    ``hgv``, ``hazmat``, ``tunnel_category`` for the non-numeric reasons)."""
    out: list[dict[str, object]] = []
    lim = g.effective_limits(departure)
    flags = int(g.arc_flags[arc])
    if flags & FLAG_CLOSED:
        out.append({"kind": "closed", "limit": None, "vehicle": None, "unit": None})
    for kind, val in zip(LIMIT_KINDS, lim[:, arc].tolist(), strict=True):
        if val == LIMIT_NONE:
            continue
        if val == LIMIT_UNKNOWN:
            if unknown == "blocking":
                out.append({"kind": kind, "limit": None, "vehicle": vehicle.value(kind)})
            continue
        if val < vehicle.value(kind):
            out.append({"kind": kind, "limit": val, "vehicle": vehicle.value(kind)})
    if vehicle.is_hgv and flags & FLAG_HGV_NO:
        out.append({"kind": "hgv", "limit": "no", "vehicle": vehicle.gross_weight_kg})
    if vehicle.hazmat and flags & FLAG_HAZMAT_NO:
        out.append({"kind": "hazmat", "limit": "no", "vehicle": True})
    rank = vehicle.tunnel_rank
    if rank and int(g.arc_tunnel_rank[arc]) >= rank:
        out.append(
            {
                "kind": "tunnel_category",
                "limit": "ABCDE"[int(g.arc_tunnel_rank[arc])],
                "vehicle": vehicle.tunnel_code,
            }
        )
    return out
