"""A seeded generator of realistic road networks of any size, for tests and benchmarks.

The network looks like a Chinese port city seen from above, centred on Tianjin
(117.2 E, 39.1 N):

- an urban grid with jittered intersections, a few one-way street pairs (alternate rows
  one-way east / one-way west, which keeps the grid strongly connected), arterials every
  eighth row/column;
- two ring expressways (an inner ring crossing the grid, an outer ring in the countryside)
  tied to the local network at interchanges;
- rural roads: a random spanning tree of a coarse grid around the city, plus a share of
  its other edges for loops, joined to the urban boundary;
- structures: bridges (weight and axle-load limits), tunnels and underpasses (height,
  sometimes width limits) and height restrictors on about ``limited_share`` of the edges,
  a few with an unknown value, a few conditional by time of day, a few one-directional.

Everything is invented; nothing here is survey data. The output is plain numpy arrays and
dataclasses (:class:`SyntheticNetwork`) so any writer can reuse it: the database writer in
``twin/services/synthetic.py`` and an OSM writer alike. The same ``(edges, seed)`` always
gives the same network.

Examples
--------
>>> net = generate_network(edges=2_000, seed=1)
>>> net.n_edges > 1_500, len(net.structures) > 0
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree

CENTER_LON = 117.2
CENTER_LAT = 39.1
#: metres per degree of latitude / of longitude at the centre (spherical approximation,
#: good to 0.5 % over the generated extent -- enough for invented data).
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTER_LAT))

#: road class -> design speed in km/h
SPEED_KMH = {
    "motorway": 100.0,
    "trunk": 70.0,
    "primary": 60.0,
    "secondary": 50.0,
    "residential": 30.0,
    "rural": 40.0,
}
#: limit kinds a structure may carry, in integer centimetres / kilograms
LIMIT_KINDS = ("height", "width", "length", "weight", "axle_load")


@dataclass(frozen=True)
class Road:
    """A named road of the generated network (one row/column of the grid, a ring ...)."""

    code: str
    name_en: str
    name_zh: str
    road_class: str


@dataclass(frozen=True)
class Structure:
    """A bridge, tunnel, underpass or height restrictor on one or more edges.

    Attributes
    ----------
    kind:
        ``bridge``, ``tunnel``, ``underpass`` or ``height_restrictor``.
    edges:
        Indices into the network's edge arrays that the structure governs.
    limits:
        Limit kind -> value in cm (height, width, length) or kg (weight, axle_load);
        ``None`` means a limit is posted but its value is unknown.
    direction:
        ``both``, ``forward`` or ``backward`` relative to the edges' digitised direction.
    conditional:
        An OSM-style condition such as ``Mo-Fr 07:00-19:00`` during which the limits
        apply; ``None`` means always.
    """

    external_id: str
    kind: str
    name_en: str
    name_zh: str
    road_code: str
    stake_m: float
    lon: float
    lat: float
    edges: tuple[int, ...]
    limits: dict[str, int | None]
    direction: str = "both"
    conditional: str | None = None


@dataclass
class SyntheticNetwork:
    """A generated network as plain arrays.

    Node arrays have length ``n_nodes``; edge arrays ``n_edges``. Edge geometry is stored
    flat: the vertices of edge ``i`` are ``geom_lon[geom_offsets[i]:geom_offsets[i + 1]]``
    (and ``geom_lat``), first vertex at the source node, last at the target node.
    """

    seed: int
    node_lon: np.ndarray
    node_lat: np.ndarray
    edge_source: np.ndarray
    edge_target: np.ndarray
    edge_length_m: np.ndarray
    edge_speed_kmh: np.ndarray
    edge_oneway: np.ndarray
    edge_class: np.ndarray  # object array of road class strings
    edge_road: np.ndarray  # index into ``roads``
    edge_stake_from_m: np.ndarray
    edge_stake_to_m: np.ndarray
    edge_is_bridge: np.ndarray
    edge_is_tunnel: np.ndarray
    geom_offsets: np.ndarray
    geom_lon: np.ndarray
    geom_lat: np.ndarray
    roads: list[Road]
    structures: list[Structure] = field(default_factory=list)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_lon.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of (undirected or one-way) edges."""
        return int(self.edge_source.shape[0])

    def edge_coords(self, i: int) -> np.ndarray:
        """The (k, 2) lon/lat vertices of edge ``i``."""
        a, b = self.geom_offsets[i], self.geom_offsets[i + 1]
        return np.column_stack([self.geom_lon[a:b], self.geom_lat[a:b]])

    def edge_wkt(self, i: int) -> str:
        """EWKT of edge ``i`` in EPSG:4326."""
        xy = self.edge_coords(i)
        pts = ", ".join(f"{x:.7f} {y:.7f}" for x, y in xy)
        return f"SRID=4326;LINESTRING({pts})"


def generate_network(
    edges: int = 10_000,
    *,
    seed: int = 0,
    limited_share: float = 0.03,
    unknown_share: float = 0.05,
    conditional_share: float = 0.05,
    oneway_every: int = 6,
) -> SyntheticNetwork:
    """Generate a network of about ``edges`` edges (within a few percent).

    Parameters
    ----------
    edges:
        Target number of edges (>= 200).
    seed:
        Random seed; the same seed and size give the same network.
    limited_share:
        Share of edges governed by a structure with limits (0..0.5).
    unknown_share:
        Share of structures whose posted limit value is unknown.
    conditional_share:
        Share of structures whose limits apply only in a time window.
    oneway_every:
        Every n-th grid row is a one-way pair (0 disables one-way streets).

    Returns
    -------
    SyntheticNetwork
    """
    if edges < 200:
        raise ValueError(f"edges={edges}: the generator needs at least 200 edges")
    if not 0 <= limited_share <= 0.5:
        raise ValueError(f"limited_share={limited_share}: must be within 0..0.5")
    rng = np.random.default_rng(seed)
    b = _Builder()
    k = max(6, round(math.sqrt(0.36 * edges)))
    spacing_m = 120.0
    urban_ids = _urban_grid(b, rng, k=k, spacing_m=spacing_m, oneway_every=oneway_every)
    half_m = (k - 1) * spacing_m / 2
    rural_budget = max(60, edges - len(b.src) - 80)
    _rural(b, rng, urban_ids=urban_ids, half_m=half_m, edges=rural_budget)
    _rings(b, rng, half_m=half_m)
    net = b.finish(seed)
    _structures(net, rng, limited_share, unknown_share, conditional_share)
    return net


class _Builder:
    """Accumulates nodes (metric x/y around the centre) and edges."""

    def __init__(self) -> None:
        self.x: list[np.ndarray] = []
        self.y: list[np.ndarray] = []
        self.n = 0
        self.src: list[int] = []
        self.dst: list[int] = []
        self.cls: list[str] = []
        self.oneway: list[bool] = []
        self.road: list[int] = []
        self.mid: list[tuple[float, float] | None] = []
        self.roads: list[Road] = []
        self._src_a: list[np.ndarray] = []

    def add_nodes(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ids = np.arange(self.n, self.n + len(x))
        self.x.append(np.asarray(x, float))
        self.y.append(np.asarray(y, float))
        self.n += len(x)
        return ids

    def add_road(self, code: str, name_en: str, name_zh: str, cls: str) -> int:
        self.roads.append(Road(code, name_en, name_zh, cls))
        return len(self.roads) - 1

    def add_edges(
        self,
        src: np.ndarray,
        dst: np.ndarray,
        *,
        cls: str | np.ndarray,
        road: int | np.ndarray,
        oneway: bool | np.ndarray = False,
        mids: list[tuple[float, float] | None] | None = None,
    ) -> None:
        m = len(src)
        self.src.extend(int(v) for v in src)
        self.dst.extend(int(v) for v in dst)
        self.cls.extend([cls] * m if isinstance(cls, str) else list(cls))
        self.road.extend([road] * m if isinstance(road, int) else [int(r) for r in road])
        self.oneway.extend([oneway] * m if isinstance(oneway, bool) else [bool(o) for o in oneway])
        self.mid.extend(mids if mids is not None else [None] * m)

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.x), np.concatenate(self.y)

    def finish(self, seed: int) -> SyntheticNetwork:
        x, y = self.xy()
        src = np.asarray(self.src, np.int64)
        dst = np.asarray(self.dst, np.int64)
        cls = np.asarray(self.cls, dtype=object)
        speed = np.array([SPEED_KMH[c] for c in self.cls])
        # geometry: 2 vertices, or 3 when the edge has a bend point
        counts = np.array([2 if m is None else 3 for m in self.mid])
        offsets = np.zeros(len(src) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        gx = np.empty(offsets[-1])
        gy = np.empty(offsets[-1])
        gx[offsets[:-1]] = x[src]
        gy[offsets[:-1]] = y[src]
        gx[offsets[1:] - 1] = x[dst]
        gy[offsets[1:] - 1] = y[dst]
        bend = np.flatnonzero(counts == 3)
        for i in bend:
            mx, my = self.mid[i]  # type: ignore[misc]
            gx[offsets[i] + 1] = mx
            gy[offsets[i] + 1] = my
        seg = np.hypot(np.diff(gx), np.diff(gy))
        seg[offsets[1:-1] - 1] = 0.0  # gaps between consecutive edges
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        length = cum[offsets[1:] - 1] - cum[offsets[:-1]]
        length = np.maximum(np.round(length, 2), 1.0)
        stake_from, stake_to = _stakes(src, dst, np.asarray(self.road), length)
        return SyntheticNetwork(
            seed=seed,
            node_lon=CENTER_LON + x / M_PER_DEG_LON,
            node_lat=CENTER_LAT + y / M_PER_DEG_LAT,
            edge_source=src,
            edge_target=dst,
            edge_length_m=length,
            edge_speed_kmh=speed,
            edge_oneway=np.asarray(self.oneway, bool),
            edge_class=cls,
            edge_road=np.asarray(self.road, np.int64),
            edge_stake_from_m=stake_from,
            edge_stake_to_m=stake_to,
            edge_is_bridge=np.zeros(len(src), bool),
            edge_is_tunnel=np.zeros(len(src), bool),
            geom_offsets=offsets,
            geom_lon=CENTER_LON + gx / M_PER_DEG_LON,
            geom_lat=CENTER_LAT + gy / M_PER_DEG_LAT,
            roads=self.roads,
        )


def _stakes(
    src: np.ndarray, dst: np.ndarray, road: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Stake measure per edge: cumulative length along each road in insertion order."""
    order = np.argsort(road, kind="stable")
    cum = np.empty(len(src))
    r_sorted = road[order]
    l_sorted = length[order]
    c = np.cumsum(l_sorted)
    starts = np.flatnonzero(np.r_[True, r_sorted[1:] != r_sorted[:-1]])
    base = np.repeat(c[starts] - l_sorted[starts], np.diff(np.r_[starts, len(src)]))
    cum[order] = c - base
    return np.round(cum - length, 1), np.round(cum, 1)


def _urban_grid(
    b: _Builder, rng: np.random.Generator, *, k: int, spacing_m: float, oneway_every: int
) -> np.ndarray:
    half = (k - 1) * spacing_m / 2
    gx, gy = np.meshgrid(np.arange(k) * spacing_m - half, np.arange(k) * spacing_m - half)
    jitter = spacing_m * 0.18
    x = gx.ravel() + rng.uniform(-jitter, jitter, k * k)
    y = gy.ravel() + rng.uniform(-jitter, jitter, k * k)
    ids = b.add_nodes(x, y).reshape(k, k)  # ids[row, col]
    # rows (east-west streets)
    for r in range(k):
        arterial = r % 8 == 0
        cls = "primary" if arterial else ("secondary" if r % 4 == 0 else "residential")
        road = b.add_road(
            f"U{r:03d}", f"Weft Road {r}", f"纬{r}路", "primary" if arterial else "residential"
        )
        src, dst = ids[r, :-1], ids[r, 1:]
        oneway = bool(oneway_every) and not arterial and r % oneway_every in (1, 2)
        if oneway and r % oneway_every == 2:  # westbound partner of an eastbound street
            src, dst = dst, src
        b.add_edges(src, dst, cls=cls, road=road, oneway=oneway)
    # columns (north-south streets)
    for c in range(k):
        arterial = c % 8 == 0
        cls = "primary" if arterial else ("secondary" if c % 4 == 0 else "residential")
        road = b.add_road(
            f"V{c:03d}", f"Warp Road {c}", f"经{c}路", "primary" if arterial else "residential"
        )
        b.add_edges(ids[:-1, c], ids[1:, c], cls=cls, road=road)
    return ids


def _rural(
    b: _Builder, rng: np.random.Generator, *, urban_ids: np.ndarray, half_m: float, edges: int
) -> None:
    """A tree-like rural network around the city: random spanning tree + loops."""
    spacing = 450.0
    # annulus of a coarse grid: area needed ~ nodes * spacing^2, tree+loops ~1.25 edges/node
    n_nodes = max(40, int(edges / 1.25))
    inner = half_m + spacing
    outer = math.sqrt(n_nodes * spacing**2 + (2 * inner) ** 2) / 2
    m = math.ceil(2 * outer / spacing) + 1
    gx, gy = np.meshgrid(np.arange(m) * spacing - outer, np.arange(m) * spacing - outer)
    keep = (np.abs(gx) > inner) | (np.abs(gy) > inner)
    idx = -np.ones((m, m), np.int64)
    n = int(keep.sum())
    idx[keep] = np.arange(n)
    # candidate edges between kept grid neighbours
    cand = []
    for a, bb in ((idx[:, :-1], idx[:, 1:]), (idx[:-1, :], idx[1:, :])):
        ok = (a >= 0) & (bb >= 0)
        cand.append(np.column_stack([a[ok], bb[ok]]))
    ce = np.concatenate(cand)
    w = rng.uniform(1.0, 2.0, len(ce))
    tree = minimum_spanning_tree(coo_matrix((w, (ce[:, 0], ce[:, 1])), shape=(n, n))).tocoo()
    in_tree = set(zip(tree.row.tolist(), tree.col.tolist(), strict=True))
    is_tree = np.array([(u, v) in in_tree or (v, u) in in_tree for u, v in ce])
    n_loops = max(0, min(int((~is_tree).sum()), edges - int(is_tree.sum()) - 40))
    loops = rng.choice(np.flatnonzero(~is_tree), size=n_loops, replace=False)
    chosen = np.concatenate([np.flatnonzero(is_tree), loops])
    jitter = spacing * 0.25
    x = gx[keep] + rng.uniform(-jitter, jitter, n)
    y = gy[keep] + rng.uniform(-jitter, jitter, n)
    ids = b.add_nodes(x, y)
    e = ce[chosen]
    # a bend point on each rural edge so geometry is not a perfect grid
    mids: list[tuple[float, float] | None] = []
    off = rng.uniform(-0.15, 0.15, len(e)) * spacing
    for (u, v), o in zip(e, off, strict=True):
        dx, dy = x[v] - x[u], y[v] - y[u]
        ln = math.hypot(dx, dy) or 1.0
        mids.append(((x[u] + x[v]) / 2 - dy / ln * o, (y[u] + y[v]) / 2 + dx / ln * o))
    # one road per 50 edges (county roads X001...)
    roads = [
        b.add_road(f"X{i:03d}", f"County Road {i}", f"县道{i}", "rural")
        for i in range(len(e) // 50 + 1)
    ]
    b.add_edges(
        ids[e[:, 0]],
        ids[e[:, 1]],
        cls="rural",
        road=np.asarray(roads)[np.arange(len(e)) // 50],
        mids=mids,
    )
    # join rural nodes on the inner border of the annulus to the urban boundary
    ux, uy = b.xy()
    border = urban_ids[[0, -1], :].ravel().tolist() + urban_ids[:, [0, -1]].ravel().tolist()
    border_arr = np.unique(np.asarray(border))
    tree_u = cKDTree(np.column_stack([ux[border_arr], uy[border_arr]]))
    ring_in = np.flatnonzero(
        np.maximum(np.abs(gx[keep]), np.abs(gy[keep])) <= inner + spacing * 1.01
    )
    join = ring_in[:: max(1, len(ring_in) // 24)]
    _, nearest = tree_u.query(np.column_stack([x[join], y[join]]))
    link = b.add_road("S001", "Suburban Link", "城郊联络线", "trunk")
    b.add_edges(border_arr[nearest], ids[join], cls="trunk", road=link)


def _rings(b: _Builder, rng: np.random.Generator, *, half_m: float) -> None:
    """Inner ring expressway through the grid and an outer ring in the countryside."""
    x, y = b.xy()
    kd = cKDTree(np.column_stack([x, y]))
    for code, zh, radius in (
        ("G2501", "外环快速路", half_m * 0.6),
        ("G2502", "绕城高速", half_m * 1.6 + 3000),
    ):
        n = max(12, int(2 * math.pi * radius / 600))
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        rx, ry = radius * np.cos(t), radius * np.sin(t)
        ids = b.add_nodes(rx, ry)
        road = b.add_road(code, f"Ring Expressway {code}", zh, "motorway")
        b.add_edges(ids, np.roll(ids, -1), cls="motorway", road=road)
        # interchange every 4th ring node to the nearest local node
        sel = np.arange(0, n, 4)
        _, near = kd.query(np.column_stack([rx[sel], ry[sel]]))
        ramp = b.add_road(f"{code}R", f"{code} ramps", f"{code}匝道", "trunk")
        b.add_edges(ids[sel], near, cls="trunk", road=ramp)


def _structures(
    net: SyntheticNetwork,
    rng: np.random.Generator,
    limited_share: float,
    unknown_share: float,
    conditional_share: float,
) -> None:
    """Place structures with limits on about ``limited_share`` of the edges."""
    m = net.n_edges
    chosen = rng.choice(m, size=round(limited_share * m), replace=False)
    chosen.sort()
    kinds = rng.choice(
        ["bridge", "tunnel", "underpass", "height_restrictor"],
        size=len(chosen),
        p=[0.45, 0.1, 0.3, 0.15],
    )
    out: list[Structure] = []
    for n, (e, kind) in enumerate(zip(chosen.tolist(), kinds.tolist(), strict=True)):
        limits: dict[str, int | None] = {}
        if kind == "bridge":
            limits["weight"] = int(rng.choice([10, 15, 20, 30, 40, 46, 55])) * 1000
            if rng.random() < 0.6:
                limits["axle_load"] = int(rng.choice([8, 10, 11.5, 13]) * 1000)
            net.edge_is_bridge[e] = True
        else:
            limits["height"] = int(rng.choice([250, 320, 350, 380, 400, 420, 450, 480, 500]))
            if kind == "tunnel":
                net.edge_is_tunnel[e] = True
                if rng.random() < 0.5:
                    limits["width"] = int(rng.choice([300, 350, 400]))
        if rng.random() < unknown_share:
            limits[next(iter(limits))] = None
        conditional = "Mo-Fr 07:00-19:00" if rng.random() < conditional_share else None
        direction = "forward" if rng.random() < 0.05 and not net.edge_oneway[e] else "both"
        road = net.roads[int(net.edge_road[e])]
        xy = net.edge_coords(e)
        mid = xy[len(xy) // 2] if len(xy) > 2 else xy.mean(axis=0)
        label = {
            "bridge": ("Bridge", "桥"),
            "tunnel": ("Tunnel", "隧道"),
            "underpass": ("Underpass", "下穿通道"),
            "height_restrictor": ("Height Barrier", "限高架"),
        }[kind]
        out.append(
            Structure(
                external_id=f"SYN-{net.seed}-{n:06d}",
                kind=kind,
                name_en=f"{road.name_en} {label[0]} {n}",
                name_zh=f"{road.name_zh}{label[1]}{n}",
                road_code=road.code,
                stake_m=float(round((net.edge_stake_from_m[e] + net.edge_stake_to_m[e]) / 2, 1)),
                lon=float(mid[0]),
                lat=float(mid[1]),
                edges=(e,),
                limits=limits,
                direction=direction,
                conditional=conditional,
            )
        )
    net.structures = out


def to_graph_inputs(net: SyntheticNetwork) -> dict[str, object]:
    """Keyword arguments for :func:`road_network.graph.build_graph` (node/edge ids are the
    array indices + 1, as the database writer assigns them; structure ids likewise)."""
    from road_network.graph import EdgeInput

    roads = np.array([r.code for r in net.roads], dtype=object)
    edges = EdgeInput(
        ids=np.arange(1, net.n_edges + 1),
        source=net.edge_source + 1,
        target=net.edge_target + 1,
        length_m=net.edge_length_m,
        speed_kmh=net.edge_speed_kmh,
        oneway=net.edge_oneway,
        geom_offsets=net.geom_offsets,
        geom_lon=net.geom_lon,
        geom_lat=net.geom_lat,
        road_code=list(roads[net.edge_road]),
    )
    structures = [
        {
            "id": i + 1,
            "external_id": s.external_id,
            "kind": s.kind,
            "name": s.name_en,
            "road_code": s.road_code,
            "stake_m": s.stake_m,
            "lon": s.lon,
            "lat": s.lat,
            "state": "in_service",
            "limits": [
                {"kind": k, "value": v, "direction": s.direction, "conditional": s.conditional}
                for k, v in s.limits.items()
            ],
            "edges": [(e + 1, "both") for e in s.edges],
        }
        for i, s in enumerate(net.structures)
    ]
    return {
        "node_ids": np.arange(1, net.n_nodes + 1),
        "node_lon": net.node_lon,
        "node_lat": net.node_lat,
        "edges": edges,
        "structures": structures,
    }
