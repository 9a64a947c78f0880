"""Write the bundled Tianjin sample under ``data/sample/`` (seeded, deterministic).

No Tianjin OpenStreetMap extract can be downloaded where this project is built, so the
sample is written here: the corridors follow their real alignments only approximately,
the street mesh, villages, structures, limits, registers and rasters are invented. See
``data/sample/README.md``. Run::

    .venv/bin/python scripts/make_tianjin_sample.py [--out data/sample] [--seed 20260]

The same seed always writes byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import math
import random
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
from pyproj import Transformer
from shapely import LineString, Point, Polygon, STRtree
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260
#: External ids the OSM importer gives assets made from ways (kept in one place here).
OSM_WAY_EXTERNAL_ID = "osm:way/{}"

_TO_M = Transformer.from_crs(4326, 4548, always_xy=True)
_TO_LL = Transformer.from_crs(4548, 4326, always_xy=True)


def m_xy(lon: float, lat: float) -> tuple[float, float]:
    """WGS84 -> EPSG:4548 metres."""
    x, y = _TO_M.transform(lon, lat)
    return float(x), float(y)


def ll(x: float, y: float) -> tuple[float, float]:
    """EPSG:4548 metres -> WGS84 lon/lat rounded to 7 decimals (about 1 cm)."""
    lon, lat = _TO_LL.transform(x, y)
    return round(float(lon), 7), round(float(lat), 7)


def mline(points: Sequence[tuple[float, float]], *, step_m: float = 150.0) -> LineString:
    """A smooth metric line through lon/lat control points (Catmull-Rom, resampled)."""
    pts = np.array([m_xy(*p) for p in points])
    if len(pts) > 2:
        ext = np.vstack([2 * pts[0] - pts[1], pts, 2 * pts[-1] - pts[-2]])
        out = []
        for i in range(1, len(ext) - 2):
            p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
            n = max(2, int(np.linalg.norm(p2 - p1) / step_m))
            for t in np.linspace(0, 1, n, endpoint=False):
                t2, t3 = t * t, t * t * t
                out.append(
                    0.5
                    * (
                        2 * p1
                        + (-p0 + p2) * t
                        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                        + (-p0 + 3 * p1 - 3 * p2 + p3) * t3
                    )
                )
        out.append(pts[-1])
        pts = np.array(out)
    return LineString(np.round(pts, 2))


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


@dataclass
class Line:
    """A line of the sample before it is cut into OSM ways."""

    geom: LineString
    tags: dict[str, str]
    level: int = 0
    role: str = "road"  # road | ramp | rail | water
    major: bool = False
    key: str = ""
    cuts: list[tuple[float, tuple[float, float]]] = field(default_factory=list)
    intervals: list[tuple[float, float, dict[str, str] | None]] = field(default_factory=list)

    def attach(self, dist_m: float) -> tuple[float, float]:
        """A vertex at ``dist_m`` along the line others can connect to."""
        p = self.geom.interpolate(dist_m)
        xy = (round(p.x, 2), round(p.y, 2))
        self.cuts.append((dist_m, xy))
        return xy


def dual(center: LineString, *, sep_m: float = 16.0) -> tuple[LineString, LineString]:
    """Right-hand (forward) and left-hand (backward, reversed) carriageways."""
    fwd = center.offset_curve(-sep_m / 2, join_style="round")
    bwd = center.offset_curve(sep_m / 2, join_style="round")
    assert isinstance(fwd, LineString) and isinstance(bwd, LineString)
    fwd = LineString(np.round(np.asarray(fwd.coords), 2))
    bwd = LineString(np.round(np.asarray(bwd.coords)[::-1], 2))
    return fwd, bwd


# --------------------------------------------------------------------------------------
# names
CITY_EW = [
    ("成都道", "Chengdu Road"),
    ("重庆道", "Chongqing Road"),
    ("大理道", "Dali Road"),
    ("睦南道", "Munan Road"),
    ("马场道", "Machang Road"),
    ("西康路", "Xikang Road"),
    ("卫津路", "Weijin Road"),
    ("南京路", "Nanjing Road"),
    ("贵州路", "Guizhou Road"),
    ("湖北路", "Hubei Road"),
    ("昆明路", "Kunming Road"),
    ("长春道", "Changchun Road"),
    ("哈密道", "Hami Road"),
    ("新华路", "Xinhua Road"),
    ("营口道", "Yingkou Road"),
    ("滨江道", "Binjiang Road"),
    ("和平路", "Heping Road"),
    ("锦州道", "Jinzhou Road"),
    ("赤峰道", "Chifeng Road"),
    ("承德道", "Chengde Road"),
    ("沈阳道", "Shenyang Road"),
    ("山西路", "Shanxi Road"),
    ("保定道", "Baoding Road"),
    ("唐山道", "Tangshan Road"),
    ("开封道", "Kaifeng Road"),
    ("福州道", "Fuzhou Road"),
    ("广州道", "Guangzhou Road"),
    ("泰安道", "Tai'an Road"),
    ("大连道", "Dalian Road"),
    ("郑州道", "Zhengzhou Road"),
]
BINHAI = [
    ("新港路", "Xingang Road"),
    ("津塘路", "Jintang Road"),
    ("河北路", "Hebei Road"),
    ("上海道", "Shanghai Road"),
    ("东江道", "Dongjiang Road"),
    ("福建路", "Fujian Road"),
    ("新北路", "Xinbei Road"),
    ("营口路", "Yingkou Road"),
    ("烟台道", "Yantai Road"),
    ("杭州道", "Hangzhou Road"),
    ("太原道", "Taiyuan Road"),
    ("济南路", "Jinan Road"),
    ("中心路", "Zhongxin Road"),
    ("南海路", "Nanhai Road"),
    ("黄海路", "Huanghai Road"),
    ("渤海路", "Bohai Road"),
    ("东海路", "Donghai Road"),
    ("第一大街", "1st Avenue"),
    ("第二大街", "2nd Avenue"),
    ("第三大街", "3rd Avenue"),
    ("第五大街", "5th Avenue"),
    ("第七大街", "7th Avenue"),
    ("第九大街", "9th Avenue"),
    ("第十一大街", "11th Avenue"),
    ("第十三大街", "13th Avenue"),
    ("洞庭路", "Dongting Road"),
    ("泰达大街", "TEDA Avenue"),
    ("宏达街", "Hongda Street"),
    ("北海路", "Beihai Road"),
    ("西环路", "Xihuan Road"),
]
WUQING = [
    ("雍阳西道", "Yongyang West Road"),
    ("雍阳东道", "Yongyang East Road"),
    ("泉州路", "Quanzhou Road"),
    ("京津公路", "Jingjin Highway"),
    ("福源道", "Fuyuan Road"),
    ("杨村大街", "Yangcun Street"),
    ("光明道", "Guangming Road"),
    ("广贤路", "Guangxian Road"),
    ("前进道", "Qianjin Road"),
    ("南蔡村路", "Nancaicun Road"),
    ("下朱庄路", "Xiazhuzhuang Road"),
    ("东蒲洼路", "Dongpuwa Road"),
    ("翠通路", "Cuitong Road"),
    ("富民道", "Fumin Road"),
    ("振华路", "Zhenhua Road"),
    ("强国道", "Qiangguo Road"),
    ("和谐道", "Hexie Road"),
    ("运河西路", "Yunhe West Road"),
    ("运河东路", "Yunhe East Road"),
    ("曹子里路", "Caozili Road"),
    ("南湖路", "Nanhu Road"),
    ("北湖路", "Beihu Road"),
    ("新开路", "Xinkai Road"),
]
VILLAGES = [
    ("王庄村", "Wangzhuang"),
    ("李家台村", "Lijiatai"),
    ("张家窝村", "Zhangjiawo"),
    ("小站村", "Xiaozhan"),
    ("葛沽村", "Gegu"),
    ("八里台村", "Balitai"),
    ("双桥河村", "Shuangqiaohe"),
    ("辛庄村", "Xinzhuang"),
    ("北闸口村", "Beizhakou"),
    ("咸水沽村", "Xianshuigu"),
    ("东嘴村", "Dongzui"),
    ("南洋村", "Nanyang"),
    ("刘家园村", "Liujiayuan"),
    ("郝庄村", "Haozhuang"),
    ("官港村", "Guangang"),
    ("三合村", "Sanhe"),
    ("赵北村", "Zhaobei"),
    ("大孙庄村", "Dasunzhuang"),
    ("西小站村", "Xixiaozhan"),
    ("新房子村", "Xinfangzi"),
    ("邓岑子村", "Dengcenzi"),
    ("盘沽村", "Pangu"),
    ("小韩庄村", "Xiaohanzhuang"),
    ("东泥沽村", "Dongnigu"),
    ("高庄村", "Gaozhuang"),
    ("中塘村", "Zhongtang"),
    ("窦庄子村", "Douzhuangzi"),
    ("马厂村", "Machang"),
]


def name_tags(zh: str, en: str, **extra: str) -> dict[str, str]:
    return {"name": zh, "name:zh": zh, "name:en": en, **extra}


# --------------------------------------------------------------------------------------
# the network


class Sample:
    """Builds the sample's lines, cuts them at crossings and writes OSM and side files."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.nrng = np.random.default_rng(seed)
        self.lines: list[Line] = []
        self.routes: dict[str, dict[str, Any]] = {}
        self.villages: list[dict[str, Any]] = []
        self.barriers: list[tuple[tuple[float, float], dict[str, str]]] = []

    def add(self, line: Line) -> Line:
        self.lines.append(line)
        return line

    # ---- corridors -------------------------------------------------------------------
    def expressway(
        self,
        key: str,
        points: Sequence[tuple[float, float]],
        tags: dict[str, str],
        *,
        level: int,
        stake_start_m: float = 0.0,
        chain_breaks: Sequence[dict[str, str]] = (),
        sep_m: float = 22.0,
    ) -> tuple[LineString, Line, Line]:
        center = mline(points)
        fwd, bwd = dual(center, sep_m=sep_m)
        base = {**tags, "oneway": "yes"}
        a = self.add(Line(fwd, base, level=level, major=True, key=f"{key}:fwd"))
        b = self.add(Line(bwd, base, level=level, major=True, key=f"{key}:bwd"))
        self.route(key, center, tags, stake_start_m=stake_start_m, chain_breaks=chain_breaks)
        return center, a, b

    def route(
        self,
        code: str,
        center: LineString,
        tags: dict[str, str],
        *,
        stake_start_m: float = 0.0,
        chain_breaks: Sequence[dict[str, str]] = (),
    ) -> None:
        self.routes[code] = {
            "center": center,
            "code": code,
            "name_zh": tags.get("name:zh"),
            "name_en": tags.get("name:en"),
            "road_class": tags.get("highway", "other").replace("_link", ""),
            "stake_start_m": stake_start_m,
            "chain_breaks": list(chain_breaks),
        }

    # ---- grids -----------------------------------------------------------------------
    def grid(
        self,
        key: str,
        *,
        lon: tuple[float, float],
        lat: tuple[float, float],
        spacing_m: float,
        names: list[tuple[str, str]],
        hgv_no: bool = False,
        drop_share: float = 0.07,
    ) -> None:
        x0, y0 = m_xy(lon[0], lat[0])
        x1, y1 = m_xy(lon[1], lat[1])
        nx = int((x1 - x0) / spacing_m) + 1
        ny = int((y1 - y0) / spacing_m) + 1
        jit = spacing_m * 0.12
        xs = x0 + np.arange(nx) * spacing_m
        ys = y0 + np.arange(ny) * spacing_m
        node = np.zeros((nx, ny, 2))
        for i in range(nx):
            for j in range(ny):
                node[i, j] = (
                    xs[i] + self.nrng.uniform(-jit, jit),
                    ys[j] + self.nrng.uniform(-jit, jit),
                )
        node = np.round(node, 2)
        for axis in (0, 1):
            count = nx if axis == 0 else ny
            for k in range(count):
                pts = node[k, :, :] if axis == 0 else node[:, k, :]
                cls = (
                    "primary"
                    if k % 5 == 2
                    else "secondary"
                    if k % 5 == 0
                    else "tertiary"
                    if k % 2
                    else "residential"
                )
                zh, en = names[(k * 2 + axis) % len(names)]
                if axis == 1:
                    zh, en = names[(k * 2 + 1 + 7) % len(names)]
                tags = name_tags(zh, en, highway=cls)
                tags["maxspeed"] = {"primary": "60", "secondary": "50"}.get(cls, "40")
                if hgv_no and cls in ("residential", "tertiary"):
                    tags["hgv"] = "no"
                if hgv_no and cls == "primary" and k % 2:
                    tags["hazmat"] = "no"  # dangerous goods kept out of the centre
                line = self.add(
                    Line(
                        LineString(pts),
                        tags,
                        level=0,
                        major=cls in ("primary", "secondary"),
                        key=f"{key}:{axis}:{k}",
                    )
                )
                if cls in ("residential", "tertiary"):
                    dist = 0.0
                    for s in range(len(pts) - 1):
                        seg = float(np.hypot(*(pts[s + 1] - pts[s])))
                        if self.rng.random() < drop_share:
                            line.intervals.append((dist + 0.3 * seg, dist + 0.7 * seg, None))
                        dist += seg

    # ---- rural ----------------------------------------------------------------------
    def rural(self) -> None:
        """County (X) roads south of Tianjin Avenue, village (Y) roads, villages, canals."""
        starts = [117.375, 117.43, 117.49, 117.535]
        xroads: list[Line] = []
        for n, lon0 in enumerate(starts):
            pts = [(lon0, 39.062)]
            lon, lat = lon0, 39.062
            while lat > 38.93:
                lat -= 0.012
                lon += self.rng.uniform(-0.006, 0.006)
                pts.append((lon, lat))
            code = f"X{201 + n}"
            zh, en = [
                ("津沽公路", "Jingu Highway"),
                ("小站路", "Xiaozhan Road"),
                ("葛万公路", "Gewan Highway"),
                ("海景大道", "Haijing Avenue"),
            ][n]
            tags = name_tags(zh, en, highway="tertiary", ref=code, maxspeed="60")
            center = mline(pts, step_m=120)
            xroads.append(self.add(Line(center, tags, level=0, major=True, key=code)))
            self.route(code, center, tags)
        # an east-west county road tying the X roads together
        ew = [(117.36, 38.975), (117.42, 38.972), (117.48, 38.978), (117.55, 38.974)]
        tags = name_tags(
            "咸葛公路", "Xiange Highway", highway="tertiary", ref="X205", maxspeed="60"
        )
        center = mline(ew)
        xroads.append(self.add(Line(center, tags, level=0, major=True, key="X205")))
        self.route("X205", center, tags)
        # village roads: branches off the county roads, ending at villages
        vi = 0
        for n, xr in enumerate(xroads[:4]):
            length = xr.geom.length
            for b in range(6):
                d = length * (0.12 + 0.14 * b) + self.rng.uniform(-200, 200)
                d = min(max(d, 200.0), length - 200.0)
                root = xr.geom.interpolate(d)
                side = 1 if (b + n) % 2 else -1
                pts_m = [(root.x, root.y)]
                x, y = root.x, root.y
                for _ in range(self.rng.randint(2, 4)):
                    x += side * self.rng.uniform(500, 900)
                    y += self.rng.uniform(-350, 350)
                    pts_m.append((x, y))
                code = f"Y{101 + vi}"
                vzh, ven = VILLAGES[vi % len(VILLAGES)]
                tags = name_tags(
                    f"{vzh[:-1]}路", f"{ven} Road", highway="unclassified", ref=code, maxspeed="40"
                )
                line = LineString(np.round(pts_m, 2))
                y_line = self.add(Line(line, tags, level=0, key=code))
                xr.cuts.append((d, (round(root.x, 2), round(root.y, 2))))
                y_line.cuts.append((0.0, (round(root.x, 2), round(root.y, 2))))
                self.route(code, line, tags)
                end = Point(pts_m[-1])
                pop = int(self.rng.triangular(250, 4200, 900))
                self.villages.append(
                    {
                        "code": f"V{vi + 1:03d}",
                        "name_zh": vzh,
                        "name_en": ven,
                        "population": pop,
                        "xy": (end.x, end.y),
                        "road": code,
                    }
                )
                if b % 3 == 1:
                    # a height restrictor at the village road's entrance (trucks kept out)
                    p = line.interpolate(60.0)
                    xy = y_line.attach(60.0)
                    self.barriers.append(
                        (
                            xy,
                            {
                                "barrier": "height_restrictor",
                                "maxheight": self.rng.choice(["2.5", "2.8", "3.0 m", "2.2"]),
                                "name": f"{vzh}限高架",
                                "name:en": f"{ven} height restrictor",
                            },
                        )
                    )
                    del p
                vi += 1
        # drainage canals: every road crossing them gets a small bridge
        for i, pts in enumerate(
            [
                [(117.35, 39.0), (117.45, 38.995), (117.56, 39.0)],
                [(117.35, 38.95), (117.45, 38.955), (117.56, 38.945)],
            ]
        ):
            zh, en = [("马厂减河", "Machang Jianhe canal"), ("八米河", "Bami River")][i]
            self.add(
                Line(
                    mline(pts),
                    name_tags(zh, en, waterway="canal"),
                    level=-1,
                    role="water",
                    key=f"canal{i}",
                )
            )

    # ---- crossing logic ---------------------------------------------------------------
    def resolve(self) -> None:
        """Junctions where same-level roads cross; bridges, underpasses, tunnels elsewhere."""
        geoms = [ln.geom for ln in self.lines]
        tree = STRtree(geoms)
        bridges: dict[int, list[tuple[float, str, str]]] = {}
        for i, a in enumerate(self.lines):
            for j in tree.query(a.geom):
                j = int(j)
                if j <= i:
                    continue
                b = self.lines[j]
                if "ramp" in (a.role, b.role):
                    continue
                if a.key.split(":")[0] == b.key.split(":")[0] and ":" in a.key:
                    continue
                inter = a.geom.intersection(b.geom)
                if inter.is_empty:
                    continue
                pts = (
                    [inter]
                    if isinstance(inter, Point)
                    else [g for g in getattr(inter, "geoms", []) if isinstance(g, Point)]
                )
                for p in pts:
                    self._cross(i, a, b, p, bridges)
                    self._cross(j, b, a, p, bridges)
        for i, items in bridges.items():
            self._bridge_intervals(self.lines[i], items)

    def _cross(
        self, i: int, a: Line, b: Line, p: Point, bridges: dict[int, list[tuple[float, str, str]]]
    ) -> None:
        if a.role in ("water", "rail"):
            return
        d = float(a.geom.project(p))
        xy = (round(p.x, 2), round(p.y, 2))
        bname_zh = b.tags.get("name:zh", b.tags.get("name", ""))
        bname_en = b.tags.get("name:en", bname_zh)
        if b.role == "water":
            if b.tags.get("name:en", "").startswith("Haihe") and not a.major:
                a.intervals.append((d - 70, d + 70, None))  # minor streets end at the river
                return
            if a.tags.get("tunnel_under_river") == "yes":
                a.intervals.append(
                    (
                        d - 300,
                        d + 300,
                        {
                            "tunnel": "yes",
                            "layer": "-1",
                            "maxheight": "4.5",
                            "hazmat": "no",
                            "hazmat:adr_tunnel_cat": "E",
                            "tunnel:name": f"{a.tags['name:zh']}海河隧道",
                            "tunnel:name:en": f"{a.tags['name:en']} Haihe Tunnel",
                        },
                    )
                )
                return
            bridges.setdefault(i, []).append((d, bname_zh, bname_en))
            return
        if b.role == "rail":
            # Trunk roads and expressways cross railways on bridges; only lesser roads
            # dip under them through low underpasses.
            if a.level > 0 or a.tags.get("highway", "").startswith(("motorway", "trunk")):
                bridges.setdefault(i, []).append((d, bname_zh, bname_en))
            else:
                h = self._pick(f"rail{a.key}{d:.0f}", ["3.8", "4.2", "3.5 m", "4.5", "3.2"])
                a.intervals.append(
                    (
                        d - 30,
                        d + 30,
                        {
                            "tunnel": "yes",
                            "layer": "-1",
                            "maxheight": h,
                            "tunnel:name": f"{a.tags.get('name:zh', '')}下穿铁路通道",
                            "tunnel:name:en": f"{a.tags.get('name:en', '')} rail underpass",
                        },
                    )
                )
            return
        if a.level == b.level:
            if a.role == "road" and b.role == "road":
                a.cuts.append((d, xy))
            return
        if a.level > b.level:
            bridges.setdefault(i, []).append((d, bname_zh, bname_en))
        elif b.role == "road":
            h = self._pick(f"under{a.key}{b.key}", ["5.0", "5.0", "4.5", "4.8", "4.2", "5.5"])
            a.intervals.append((d - 15, d + 15, {"maxheight": h}))

    def _pick(self, key: str, options: Sequence[str]) -> str:
        return options[_crc(key) % len(options)]

    def _bridge_intervals(self, a: Line, items: list[tuple[float, str, str]]) -> None:
        items.sort()
        groups: list[list[tuple[float, str, str]]] = []
        for it in items:
            if groups and it[0] - groups[-1][-1][0] < 450:
                groups[-1].append(it)
            else:
                groups.append([it])
        road_zh = a.tags.get("name:zh", "")
        road_en = a.tags.get("name:en", road_zh)
        for g in groups:
            d0, d1 = g[0][0] - 45, g[-1][0] + 45
            first_zh, first_en = g[0][1], g[0][2]
            if "河" in first_zh or "canal" in first_en.lower() or "River" in first_en:
                zh, en = f"{road_zh}{first_zh}桥", f"{road_en} bridge over {first_en}"
            elif len(g) > 2:
                zh, en = f"{road_zh}{first_zh}高架桥", f"{road_en} viaduct from {first_en}"
            else:
                zh, en = f"{road_zh}{first_zh}跨线桥", f"{road_en} overpass at {first_en}"
            rng = random.Random(_crc(zh))
            tags = {
                "bridge": "viaduct" if len(g) > 2 else "yes",
                "layer": str(max(a.level, 1)),
                "bridge:name": zh,
                "bridge:name:en": en,
            }
            if a.role == "road" and a.level <= 0 and "canal" in first_en.lower():
                tags["maxweight"] = rng.choice(["10", "13", "15", "20", "8"])
                tags["maxaxleload"] = rng.choice(["6", "7", "10"])
            elif a.level >= 1 or a.tags.get("highway") == "trunk":
                # expressway and trunk structures: mostly above the legal 49 t, a few
                # bottlenecks; never the low postings of minor bridges
                if rng.random() < 0.55:
                    tags["maxweight"] = rng.choice(["55", "49", "55", "40"])
                    if rng.random() < 0.7:
                        tags["maxaxleload"] = rng.choice(["14", "13"])
            elif rng.random() < 0.55:
                tags["maxweight"] = rng.choice(["55", "49", "40", "30", "20 t", "36"])
                if rng.random() < 0.7:
                    tags["maxaxleload"] = rng.choice(["14", "13", "10", "11.5"])
            a.intervals.append((d0, d1, tags))

    # ---- interchanges ------------------------------------------------------------------
    def interchange(
        self, cw: Sequence[Line], road: Line, *, ramp_m: float = 450.0, name: tuple[str, str]
    ) -> None:
        """Diamond ramps between an expressway's carriageways and a ground road."""
        for c in cw:
            inter = c.geom.intersection(road.geom)
            if inter.is_empty:
                raise SystemExit(f"interchange {name}: {c.key} does not cross {road.key}")
            p = inter if isinstance(inter, Point) else next(iter(inter.geoms))
            d = float(c.geom.project(p))
            g = float(road.geom.project(p))
            # the ground-road point on the carriageway's right-hand side
            a = c.geom.interpolate(max(d - 1, 0))
            b = c.geom.interpolate(d + 1)
            best = None
            for gg in (g - 90, g + 90):
                q = road.geom.interpolate(gg)
                cross = (b.x - a.x) * (q.y - a.y) - (b.y - a.y) * (q.x - a.x)
                if cross < 0:
                    best = gg
            assert best is not None
            gxy = road.attach(best)
            off = c.attach(d - ramp_m)
            on = c.attach(d + ramp_m)
            ex_tags = {
                "highway": "motorway_link",
                "oneway": "yes",
                "maxspeed": "40",
                "name:zh": f"{name[0]}立交匝道",
                "name:en": f"{name[1]} interchange ramp",
                "name": f"{name[0]}立交匝道",
            }
            self.add(
                Line(
                    LineString([off, self._mid(off, gxy, c, d - ramp_m / 2), gxy]),
                    ex_tags,
                    role="ramp",
                    key=f"ramp:{c.key}:{name[1]}:off",
                )
            )
            self.add(
                Line(
                    LineString([gxy, self._mid(gxy, on, c, d + ramp_m / 2), on]),
                    ex_tags,
                    role="ramp",
                    key=f"ramp:{c.key}:{name[1]}:on",
                )
            )

    def _mid(
        self, a: tuple[float, float], b: tuple[float, float], c: Line, d: float
    ) -> tuple[float, float]:
        p = c.geom.interpolate(d)
        mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
        return (round((mx + p.x) / 2 + 0.0, 2), round((my + p.y) / 2, 2))

    def nearest_ground(self, xy: Sequence[float]) -> Line:
        """The nearest ground-level road line to a point."""
        p = Point(xy)
        cands = [ln for ln in self.lines if ln.role == "road" and ln.level == 0 and ":" in ln.key]
        return min(cands, key=lambda ln: ln.geom.distance(p))

    def terminus(
        self, fwd: Line, bwd: Line, *, at_end: bool, name: tuple[str, str], road: Line | None = None
    ) -> None:
        """Tie an expressway's ends into the nearest ground road (links both ways)."""
        if at_end:
            f_xy = fwd.geom.coords[-1]
            b_xy = bwd.geom.coords[0]
        else:
            f_xy = fwd.geom.coords[0]
            b_xy = bwd.geom.coords[-1]
        road = road or self.nearest_ground(f_xy)
        g = float(road.geom.project(Point(f_xy)))
        gxy = road.attach(g)
        tags = {
            "highway": "motorway_link",
            "oneway": "yes",
            "maxspeed": "40",
            "name": f"{name[0]}连接线",
            "name:zh": f"{name[0]}连接线",
            "name:en": f"{name[1]} link",
        }
        if at_end:
            self.add(Line(LineString([f_xy, gxy]), tags, role="ramp", key=f"term:{fwd.key}:a"))
            self.add(Line(LineString([gxy, b_xy]), tags, role="ramp", key=f"term:{fwd.key}:b"))
        else:
            self.add(Line(LineString([gxy, f_xy]), tags, role="ramp", key=f"term:{fwd.key}:a"))
            self.add(Line(LineString([b_xy, gxy]), tags, role="ramp", key=f"term:{fwd.key}:b"))

    # ---- emitting ----------------------------------------------------------------------
    def ways(
        self,
    ) -> tuple[dict[tuple[float, float], int], list[tuple[int, list[int], dict[str, str]]]]:
        nodes: dict[tuple[float, float], int] = {}

        def nid(xy: tuple[float, float]) -> int:
            k = (round(xy[0], 2), round(xy[1], 2))
            if k not in nodes:
                nodes[k] = len(nodes) + 1
            return nodes[k]

        out: list[tuple[int, list[int], dict[str, str]]] = []
        way_id = 100000
        for ln in self.lines:
            pieces = self._pieces(ln)
            for coords, tags in pieces:
                ids = [nid(c) for c in coords]
                ids = [n for k, n in enumerate(ids) if k == 0 or n != ids[k - 1]]
                if len(ids) < 2:
                    continue
                way_id += 1
                out.append((way_id, ids, tags))
        return nodes, out

    def _pieces(self, ln: Line) -> list[tuple[list[tuple[float, float]], dict[str, str]]]:
        geom = ln.geom
        length = geom.length
        coords = list(geom.coords)
        verts: list[tuple[float, tuple[float, float]]] = []
        dist = 0.0
        for k, c in enumerate(coords):
            if k:
                dist += math.dist(coords[k - 1], c)
            verts.append((dist, (c[0], c[1])))
        verts.extend(ln.cuts)
        # normalise intervals: clip, sort, drop overlaps (first wins)
        ivs = sorted(
            (max(a, 0.0), min(b, length), t) for a, b, t in ln.intervals if b > 0 and a < length
        )
        clean: list[tuple[float, float, dict[str, str] | None]] = []
        for a, b, t in ivs:
            if clean and a < clean[-1][1]:
                if t is not None and clean[-1][2] is not None and b > clean[-1][1]:
                    prev = clean[-1]
                    clean[-1] = (prev[0], b, prev[2])
                continue
            clean.append((a, b, t))
        bounds = sorted({0.0, length, *[x for a, b, _ in clean for x in (a, b)]})
        for bd in bounds:
            p = geom.interpolate(bd)
            verts.append((bd, (round(p.x, 2), round(p.y, 2))))
        verts.sort(key=lambda v: v[0])
        out: list[tuple[list[tuple[float, float]], dict[str, str]]] = []
        for lo, hi in itertools.pairwise(bounds):
            if hi - lo < 0.5:
                continue
            mid = (lo + hi) / 2
            extra: dict[str, str] | None = {}
            for a, b, t in clean:
                if a <= mid <= b:
                    extra = t
                    break
            if extra is None:
                continue  # a dropped stretch (gap in the street mesh)
            pts = [xy for dd, xy in verts if lo - 1e-6 <= dd <= hi + 1e-6]
            if ln.role in ("water", "rail") and extra:
                continue
            out.append((pts, {**ln.tags, **extra}))
        return out


def build(seed: int) -> Sample:
    """All lines of the sample."""
    s = Sample(seed)
    # ground grids: Tianjin centre, Binhai/Tanggu, Wuqing
    s.grid(
        "city",
        lon=(117.15, 117.33),
        lat=(39.075, 39.165),
        spacing_m=560,
        names=CITY_EW,
        hgv_no=True,
    )
    s.grid("binhai", lon=(117.57, 117.71), lat=(38.995, 39.068), spacing_m=560, names=BINHAI)
    s.grid(
        "wuqing",
        lon=(117.01, 117.09),
        lat=(39.355, 39.41),
        spacing_m=600,
        names=WUQING,
        drop_share=0.04,
    )
    # the Haihe river through the city to Tanggu, and a railway (not routable)
    haihe = [
        (117.14, 39.17),
        (117.2, 39.145),
        (117.24, 39.11),
        (117.3, 39.085),
        (117.4, 39.06),
        (117.5, 39.035),
        (117.6, 39.02),
        (117.68, 38.985),
        (117.72, 38.975),
    ]
    s.add(
        Line(
            mline(haihe),
            name_tags("海河", "Haihe River", waterway="river"),
            level=-1,
            role="water",
            key="haihe",
        )
    )
    rail = [(117.15, 39.13), (117.3, 39.128), (117.45, 39.115), (117.6, 39.095), (117.72, 39.08)]
    s.add(
        Line(
            mline(rail),
            name_tags("津山铁路", "Tianjin-Shanhaiguan Railway", railway="rail"),
            level=0,
            role="rail",
            key="rail",
        )
    )
    # a Binhai arterial that dives under the Haihe in a tunnel
    for ln in s.lines:
        if ln.key == "binhai:0:7":
            ln.tags["tunnel_under_river"] = "yes"

    jinbin_tags = name_tags(
        "津滨高速公路",
        "Jinbin Expressway",
        highway="motorway",
        ref="S30",
        maxspeed="100",
        lanes="3",
        hgv="yes",
    )
    _c, jb_f, jb_b = s.expressway(
        "S30",
        [
            (117.262, 39.118),
            (117.33, 39.108),
            (117.42, 39.1),
            (117.5, 39.092),
            (117.56, 39.083),
            (117.62, 39.066),
            (117.665, 39.055),
        ],
        jinbin_tags,
        level=1,
        chain_breaks=[{"back": "K20+000", "ahead": "K19+950"}],
    )
    avenue_tags = name_tags(
        "天津大道",
        "Tianjin Avenue",
        highway="trunk",
        ref="S11",
        maxspeed="80",
        lanes="3",
        motorroad="yes",
    )
    _c, av_f, av_b = s.expressway(
        "S11",
        [
            (117.27, 39.068),
            (117.34, 39.062),
            (117.42, 39.056),
            (117.5, 39.048),
            (117.57, 39.042),
            (117.64, 39.036),
        ],
        avenue_tags,
        level=0,
        sep_m=30,
    )
    jjt_tags = name_tags(
        "京津塘高速公路",
        "Jing-Jin-Tang Expressway",
        highway="motorway",
        ref="G2",
        maxspeed="110",
        lanes="3",
        hgv="yes",
    )
    _c, jj_f, jj_b = s.expressway(
        "G2",
        [
            (116.98, 39.43),
            (117.05, 39.385),
            (117.13, 39.31),
            (117.22, 39.235),
            (117.33, 39.175),
            (117.43, 39.14),
            (117.53, 39.115),
            (117.61, 39.098),
            (117.672, 39.088),
        ],
        jjt_tags,
        level=2,
        stake_start_m=96000.0,
        chain_breaks=[{"back": "K150+000", "ahead": "K150+120"}],
    )
    port_tags = name_tags(
        "港口集疏运通道",
        "Port Collection and Distribution Corridor",
        highway="trunk",
        ref="S40",
        maxspeed="80",
        lanes="3",
        hgv="designated",
    )
    _c, pt_f, pt_b = s.expressway(
        "S40",
        [
            (117.672, 39.088),
            (117.695, 39.07),
            (117.715, 39.045),
            (117.74, 39.022),
            (117.77, 39.006),
            (117.79, 38.999),
        ],
        port_tags,
        level=0,
        sep_m=26,
        chain_breaks=[{"back": "K4+000", "ahead": "K3+980"}],
    )
    # the G2 carriageways continue into the port corridor's
    s.add(
        Line(
            LineString([jj_f.geom.coords[-1], pt_f.geom.coords[0]]),
            {**jjt_tags, "oneway": "yes"},
            role="ramp",
            key="G2S40:f",
        )
    )
    s.add(
        Line(
            LineString([pt_b.geom.coords[-1], jj_b.geom.coords[0]]),
            {**jjt_tags, "oneway": "yes"},
            role="ramp",
            key="G2S40:b",
        )
    )
    s.rural()
    # ground roads tying the parts together
    s.add(
        Line(
            mline(
                [
                    (117.31, 39.126),
                    (117.335, 39.1),
                    (117.36, 39.075),
                    (117.375, 39.05),
                    (117.376, 39.035),
                ]
            ),
            name_tags("津沽路", "Jingu Road", highway="primary", maxspeed="60"),
            level=0,
            major=True,
            key="jingu",
        )
    )
    wq = s.add(
        Line(
            mline([(117.09, 39.405), (117.06, 39.34), (117.12, 39.25), (117.2, 39.16)]),
            name_tags("京津公路", "Jingjin Highway", highway="primary", ref="G103", maxspeed="70"),
            level=0,
            major=True,
            key="G103",
        )
    )
    s.route("G103", wq.geom, wq.tags)
    s.add(
        Line(
            mline([(117.326, 39.12), (117.4, 39.125), (117.5, 39.108), (117.575, 39.06)]),
            name_tags("津塘公路", "Jintang Highway", highway="primary", maxspeed="70"),
            level=0,
            major=True,
            key="jintang",
        )
    )
    s.add(
        Line(
            mline([(117.45, 39.185), (117.452, 39.13), (117.46, 39.075), (117.47, 39.045)]),
            name_tags("津汉公路", "Jinhan Highway", highway="secondary", maxspeed="60"),
            level=0,
            major=True,
            key="jinhan",
        )
    )
    # the port's internal ring road, where the corridor ends
    ring = s.add(
        Line(
            LineString(
                [
                    m_xy(117.786, 38.992),
                    m_xy(117.812, 38.992),
                    m_xy(117.812, 39.004),
                    m_xy(117.786, 39.004),
                    m_xy(117.786, 38.992),
                ]
            ),
            name_tags(
                "港区环路",
                "Port Ring Road",
                highway="service",
                service="port",
                maxspeed="30",
                hgv="designated",
            ),
            level=0,
            key="portring:0",
        )
    )
    s.resolve()
    by_key = {ln.key: ln for ln in s.lines}
    s.interchange([jb_f, jb_b], by_key["jingu"], name=("津沽路", "Jingu Road"))
    s.interchange([jb_f, jb_b], by_key["jintang"], name=("津塘公路", "Jintang Highway"))
    s.interchange([jj_f, jj_b], by_key["G103"], name=("京津公路", "Jingjin Highway"))
    s.interchange([jj_f, jj_b], by_key["jinhan"], name=("津汉公路", "Jinhan Highway"))
    for key, nm, cw in (
        ("wuqing:0:4", ("杨村", "Yangcun"), [jj_f, jj_b]),
        ("city:0:24", ("中山门", "Zhongshanmen"), [jb_f, jb_b]),
        ("binhai:0:9", ("塘沽", "Tanggu"), [jb_f, jb_b]),
    ):
        road = by_key.get(key)
        if road is not None and all(c.geom.crosses(road.geom) for c in cw):
            s.interchange(cw, road, name=nm)
    s.terminus(jb_f, jb_b, at_end=True, name=("津滨高速东", "Jinbin East"))
    s.terminus(jb_f, jb_b, at_end=False, name=("津滨高速西", "Jinbin West"))
    s.terminus(jj_f, jj_b, at_end=False, name=("京津塘北", "Jing-Jin-Tang North"))
    s.terminus(av_f, av_b, at_end=True, name=("天津大道东", "Tianjin Avenue East"))
    s.terminus(av_f, av_b, at_end=False, name=("天津大道西", "Tianjin Avenue West"))
    s.terminus(pt_f, pt_b, at_end=True, name=("港区", "Port"), road=ring)
    return s


# --------------------------------------------------------------------------------------
# water and land use (the offline basemap): approximate outlines, drawn by hand from
# general knowledge of the area; none of it is surveyed (see data/sample/README.md)

#: First ids of the area features (far above the road network's, which stay as they were).
AREA_NODE_ID = 1_000_001
AREA_WAY_ID = 1_000_001
AREA_RELATION_ID = 1

#: The coast of Bohai Bay from Hangu (north) to Dagang (south), with the port's reclaimed
#: land (Beijiang/Dongjiang north of the Haihe mouth, Nanjiang south of it) as land.
COAST = [
    (118.10, 39.24),
    (117.96, 39.20),
    (117.85, 39.16),
    (117.77, 39.12),
    (117.738, 39.085),
    (117.73, 39.05),
    (117.72, 38.975),
    (117.71, 38.90),
    (117.65, 38.79),
    (117.59, 38.67),
    (117.56, 38.55),
]
PORT_NORTH = [
    (117.72, 39.052),
    (117.80, 39.055),
    (117.875, 39.068),
    (117.905, 39.03),
    (117.87, 38.99),
    (117.745, 38.981),
    (117.72, 38.983),
]
PORT_SOUTH = [
    (117.718, 38.968),
    (117.85, 38.971),
    (117.865, 38.948),
    (117.75, 38.928),
    (117.712, 38.935),
]
#: Harbour basins cut into the north port land (kept clear of the yard and the port roads).
PORT_BASINS = [
    [(117.825, 39.004), (117.885, 39.012), (117.882, 39.02), (117.822, 39.012)],
    [(117.835, 39.030), (117.89, 39.036), (117.886, 39.044), (117.832, 39.038)],
]


def _ellipse(lon: float, lat: float, *, rx_m: float, ry_m: float, n: int = 36) -> Polygon:
    """An ellipse of radii ``rx_m`` x ``ry_m`` around (lon, lat), in lon/lat."""
    cx, cy = m_xy(lon, lat)
    ring = [
        ll(cx + rx_m * math.cos(2 * math.pi * k / n), cy + ry_m * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]
    return Polygon(ring)


def _box(w: float, s: float, e: float, n: float) -> Polygon:
    return Polygon([(w, s), (e, s), (e, n), (w, n)])


def _haihe_water(s: Sample) -> Any:
    """The Haihe as a water area: its centreline buffered, wider towards the mouth."""
    center = next(ln.geom for ln in s.lines if ln.key == "haihe")
    coords = list(center.coords)
    n = len(coords)
    pieces = []
    for lo, hi, half_width_m in (
        (0, n // 3, 40.0),
        (n // 3, 2 * n // 3, 60.0),
        (2 * n // 3, n, 100.0),
    ):
        part = LineString(coords[max(lo - 1, 0) : hi])
        pieces.append(part.buffer(half_width_m, quad_segs=4))
    metric = unary_union(pieces).simplify(5.0)
    return _to_ll(metric)


def _to_ll(geom: Any) -> Any:
    """A metric (EPSG:4548) polygon geometry in lon/lat."""
    import shapely

    return shapely.transform(geom, lambda a: np.column_stack(_TO_LL.transform(a[:, 0], a[:, 1])))


def land_areas(s: Sample) -> list[tuple[dict[str, str], Any]]:
    """Water and land-use areas as (OSM tags, lon/lat polygon or multipolygon)."""
    port_n = Polygon(PORT_NORTH, holes=PORT_BASINS)
    port_s = Polygon(PORT_SOUTH)
    land = unary_union([Polygon([*COAST, (117.0, 38.55), (117.0, 39.24)]), port_n, port_s])
    sea = _box(117.40, 38.55, 118.40, 39.24).difference(land)
    river = _haihe_water(s)
    qilihai = _ellipse(117.56, 39.29, rx_m=5200, ry_m=3400)
    lakes = [
        (
            ("北塘水库", "Beitang Reservoir"),
            "reservoir",
            _ellipse(117.625, 39.158, rx_m=2200, ry_m=1300),
        ),
        (("东丽湖", "Dongli Lake"), "lake", _ellipse(117.455, 39.205, rx_m=2000, ry_m=1400)),
        (("七里海", "Qilihai Lake"), "lake", _ellipse(117.56, 39.29, rx_m=2600, ry_m=1700)),
        (
            ("团泊水库", "Tuanbo Reservoir"),
            "reservoir",
            _ellipse(117.16, 38.93, rx_m=3500, ry_m=2600),
        ),
    ]
    water_all = unary_union([sea, river, *(g for _n, _k, g in lakes)])
    farmland = [
        (("津南农田", "Jinnan farmland"), _box(117.31, 38.925, 117.575, 39.072)),
        (("东丽北部农田", "Dongli and Beichen farmland"), _box(117.22, 39.17, 117.60, 39.34)),
        (("武清南部农田", "Southern Wuqing farmland"), _box(116.98, 39.20, 117.20, 39.34)),
    ]
    areas: list[tuple[dict[str, str], Any]] = [
        (name_tags("渤海湾", "Bohai Bay", natural="bay"), sea),
        (
            {**name_tags("海河", "Haihe River", natural="water", water="river")},
            river,
        ),
        (
            name_tags("天津港", "Tianjin Port", landuse="port"),
            unary_union([port_n, port_s]).difference(river),
        ),
        (
            name_tags("七里海湿地", "Qilihai Wetland", natural="wetland"),
            qilihai.difference(lakes[2][2]),
        ),
    ]
    for (zh, en), kind, geom in lakes:
        areas.append((name_tags(zh, en, natural="water", water=kind), geom))
    for (zh, en), box in (
        (("天津中心城区", "Tianjin city centre"), _box(117.135, 39.062, 117.345, 39.178)),
        (("塘沽", "Tanggu"), _box(117.56, 38.985, 117.665, 39.074)),
        (("武清城区", "Wuqing town"), _box(117.0, 39.345, 117.10, 39.42)),
    ):
        areas.append((name_tags(zh, en, landuse="residential"), box.difference(water_all)))
    for (zh, en), box in (
        (
            ("滨海新区开发区", "Binhai development area (TEDA)"),
            _box(117.665, 39.05, 117.725, 39.10),
        ),
        (("临港工业区", "Lingang industrial area"), _box(117.60, 38.90, 117.70, 38.96)),
    ):
        areas.append((name_tags(zh, en, landuse="industrial"), box.difference(water_all)))
    for (zh, en), box in farmland:
        areas.append(
            (name_tags(zh, en, landuse="farmland"), box.difference(water_all).difference(qilihai))
        )
    return [(tags, orient(g) if isinstance(g, Polygon) else g) for tags, g in areas]


def _rings(geom: Any) -> list[tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]]:
    """(outer ring, inner rings) of every polygon of ``geom`` (rounded lon/lat, closed)."""
    polys = (
        [geom] if isinstance(geom, Polygon) else [g for g in geom.geoms if isinstance(g, Polygon)]
    )

    def ring(r: Any) -> list[tuple[float, float]]:
        return [(round(x, 7), round(y, 7)) for x, y in r.coords]

    return [(ring(p.exterior), [ring(i) for i in p.interiors]) for p in polys if not p.is_empty]


def area_xml(areas: list[tuple[dict[str, str], Any]]) -> tuple[str, str, str]:
    """The areas as OSM XML (nodes, ways, relations): a closed way for a simple polygon, a
    multipolygon relation for anything with holes or several parts."""
    node_id, way_id, rel_id = AREA_NODE_ID, AREA_WAY_ID, AREA_RELATION_ID
    nodes: list[str] = []
    ways: list[str] = []
    rels: list[str] = []

    def add_way(coords: list[tuple[float, float]], tags: dict[str, str] | None) -> int:
        nonlocal node_id, way_id
        first = node_id
        refs = []
        for lon, lat in coords[:-1]:
            nodes.append(f'  <node id="{node_id}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
            refs.append(node_id)
            node_id += 1
        refs.append(first)
        body = "".join(f'    <nd ref="{r}"/>\n' for r in refs)
        body += "".join(
            f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n"
            for k, v in sorted((tags or {}).items())
        )
        ways.append(f'  <way id="{way_id}" version="1">\n{body}  </way>\n')
        way_id += 1
        return way_id - 1

    for tags, geom in areas:
        parts = _rings(geom)
        if len(parts) == 1 and not parts[0][1]:
            add_way(parts[0][0], tags)
            continue
        members = []
        for outer, inners in parts:
            members.append(("outer", add_way(outer, None)))
            members += [("inner", add_way(i, None)) for i in inners]
        body = "".join(f'    <member type="way" ref="{r}" role="{role}"/>\n' for role, r in members)
        body += "".join(
            f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n"
            for k, v in sorted({**tags, "type": "multipolygon"}.items())
        )
        rels.append(f'  <relation id="{rel_id}" version="1">\n{body}  </relation>\n')
        rel_id += 1
    return "".join(nodes), "".join(ways), "".join(rels)


# --------------------------------------------------------------------------------------
# writers


def write_osm(s: Sample, path: Path) -> list[tuple[int, list[int], dict[str, str]]]:
    """The OSM XML file; returns the ways (id, node ids, tags)."""
    nodes, ways = s.ways()
    node_tags: dict[int, dict[str, str]] = {}
    for xy, tags in s.barriers:
        node_tags[nodes[(round(xy[0], 2), round(xy[1], 2))]] = tags
    buf = io.StringIO()
    buf.write("<?xml version='1.0' encoding='UTF-8'?>\n")
    buf.write('<osm version="0.6" generator="roadtwin make_tianjin_sample.py (invented data)">\n')
    lls = {nid: ll(*xy) for xy, nid in nodes.items()}
    lons = [p[0] for p in lls.values()]
    lats = [p[1] for p in lls.values()]
    buf.write(
        f'  <bounds minlat="{min(lats)}" minlon="{min(lons)}" maxlat="{max(lats)}" '
        f'maxlon="{max(lons)}"/>\n'
    )
    for nid in sorted(lls):
        lon, lat = lls[nid]
        ntags = node_tags.get(nid)
        if not ntags:
            buf.write(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
            continue
        buf.write(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">\n')
        for k, v in sorted(ntags.items()):
            buf.write(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n")
        buf.write("  </node>\n")
    area_nodes, area_ways, area_rels = area_xml(land_areas(s))
    buf.write(area_nodes)
    for wid, ids, tags in ways:
        buf.write(f'  <way id="{wid}" version="1">\n')
        for n in ids:
            buf.write(f'    <nd ref="{n}"/>\n')
        for k, v in sorted(tags.items()):
            if k == "tunnel_under_river":
                continue
            buf.write(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n")
        buf.write("  </way>\n")
    buf.write(area_ways + area_rels)
    buf.write("</osm>\n")
    path.write_text(buf.getvalue(), encoding="utf-8")
    return ways


def _fc(features: Iterable[dict[str, Any]], name: str) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "name": name,
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": list(features),
    }


def _feature(geom: Any, props: dict[str, Any]) -> dict[str, Any]:
    import shapely
    from shapely.geometry import mapping

    g = shapely.transform(geom, lambda xy: np.column_stack(_TO_LL.transform(xy[:, 0], xy[:, 1])))
    m = mapping(g)
    m = json.loads(json.dumps(m), parse_float=lambda v: round(float(v), 7))
    return {"type": "Feature", "properties": props, "geometry": m}


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_routes(s: Sample, path: Path) -> None:
    """Route centrelines with their stake measure (the twin's ``road`` rows)."""
    feats = []
    for _code, r in sorted(s.routes.items()):
        props = {k: v for k, v in r.items() if k != "center"}
        feats.append(_feature(r["center"], props))
    write_json(path, _fc(feats, "routes"))


def write_villages(s: Sample, path: Path) -> None:
    feats = [
        _feature(
            Point(v["xy"]), {k: v[k] for k in ("code", "name_zh", "name_en", "population", "road")}
        )
        for v in s.villages
    ]
    write_json(path, _fc(feats, "villages"))


def port_yard(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Yard, container blocks and gates (polygons) and autonomous-driving lanes (lines)."""
    x0, y0 = m_xy(117.788, 38.9935)
    x1, y1 = m_xy(117.810, 39.0025)
    yards = [
        _feature(
            LineString([(x0, y0), (x1, y0), (x1, y1), (x0, y1)]).buffer(0, 1).envelope,
            {
                "code": "YARD-C1",
                "kind": "container_yard",
                "name_zh": "集装箱码头自动化堆场 C1",
                "name_en": "Automated container yard C1",
                "operator": "invented",
            },
        )
    ]
    lanes = []
    nb, bw, gap = 8, 150.0, 70.0
    for k in range(nb):
        bx = x0 + 120 + k * (bw + gap)
        if bx + bw > x1 - 80:
            break
        poly = LineString([(bx, y0 + 120), (bx + bw, y0 + 120)]).buffer(0).envelope
        from shapely.geometry import box

        poly = box(bx, y0 + 120, bx + bw, y1 - 120)
        yards.append(
            _feature(
                poly,
                {
                    "code": f"BLK-C1-{k + 1:02d}",
                    "kind": "block",
                    "parent": "YARD-C1",
                    "name_zh": f"C1 堆场 {k + 1:02d} 箱区",
                    "name_en": f"C1 block {k + 1:02d}",
                    "stack_tiers": rng.choice([4, 5, 6]),
                },
            )
        )
        # the lane between this block and the next: two lanes, one autonomous, one dual
        lx = bx + bw + gap / 2
        for side, mode in ((-9, "autonomous"), (9, "dual")):
            lanes.append(
                _feature(
                    LineString([(lx + side, y0 + 60), (lx + side, y1 - 60)]),
                    {
                        "code": f"LANE-C1-{k + 1:02d}{'A' if side < 0 else 'B'}",
                        "yard": "YARD-C1",
                        "mode": mode,
                        "speed_kmh": 25,
                        "direction": "northbound" if side < 0 else "southbound",
                        "vehicles": ["IGV", "AGV"] if mode == "autonomous" else ["IGV", "truck"],
                    },
                )
            )
    # yard spine lanes along the quay and the gate side (manual trucks share them)
    for n, yy in enumerate((y0 + 60, y1 - 60)):
        lanes.append(
            _feature(
                LineString([(x0 + 60, yy), (x1 - 60, yy)]),
                {
                    "code": f"LANE-C1-S{n + 1}",
                    "yard": "YARD-C1",
                    "mode": "dual" if n else "manual",
                    "speed_kmh": 30,
                    "direction": "both",
                    "vehicles": ["IGV", "truck"],
                },
            )
        )
    gx, gy = m_xy(117.7875, 38.998)
    from shapely.geometry import box

    yards.append(
        _feature(
            box(gx - 40, gy - 60, gx + 40, gy + 60),
            {
                "code": "GATE-C1-W",
                "kind": "gate",
                "parent": "YARD-C1",
                "name_zh": "C1 西闸口",
                "name_en": "C1 west gate",
                "lanes_in": 6,
                "lanes_out": 6,
            },
        )
    )
    return yards, lanes


def _fmt(stake_m: float) -> str:
    from road_network.stake import format_stake

    return format_stake(stake_m)


def _route(s: Sample, code: str) -> Any:
    from road_network.stake import LinearRoute, parse_chain_breaks

    r = s.routes[code]
    return LinearRoute(
        r["center"],
        stake_start_m=r["stake_start_m"],
        chain_breaks=parse_chain_breaks(r["chain_breaks"]),
        code=code,
    )


PORT_HEADER = [
    "资产编号",
    "类型",
    "名称",
    "name_en",
    "路线编号",
    "桩号",
    "止点桩号",
    "限高(m)",
    "限重(t)",
    "通信半径(m)",
    "消息集",
    "管养单位",
    "状态",
]


def port_register(s: Sample, rng: random.Random) -> list[list[str]]:
    """Signs, gantries, pavement sections, underpasses and RSUs along the port corridor."""
    rows: list[list[str]] = []
    owner = "天津港集疏运通道管理处（虚构）"
    for code in ("S40", "G2"):
        route = _route(s, code)
        lo, hi = route.stake_start_m, route.stake_end_m
        if code == "G2":
            lo = hi - 12000  # only the Tanggu end of the G2
        # RSUs every 300-800 m, with a gap of coverage
        st = lo + 150
        n = 0
        while st < hi - 100:
            if not (code == "S40" and 6500 <= st <= 8200):
                n += 1
                rows.append(
                    [
                        f"RSU-{code}-{n:03d}",
                        "路侧单元",
                        f"{code} 路侧单元 {n:03d}",
                        f"{code} RSU {n:03d}",
                        code,
                        _fmt(st),
                        "",
                        "",
                        "",
                        str(rng.choice([300, 400, 500])),
                        "BSM;MAP;SPAT;RSI;RSM" if n % 3 == 0 else "BSM;RSI;RSM",
                        owner,
                        "在役",
                    ]
                )
            st += rng.uniform(300, 800)
        # gantries (ETC / traffic gantries) every ~2 km
        st, n = lo + 900, 0
        while st < hi - 200:
            n += 1
            rows.append(
                [
                    f"GAN-{code}-{n:02d}",
                    "门架",
                    f"{code} 门架 {n:02d}",
                    f"{code} gantry {n:02d}",
                    code,
                    _fmt(st),
                    "",
                    rng.choice(["5.5", "5.8", "6.0"]),
                    "",
                    "",
                    "",
                    owner,
                    "在役",
                ]
            )
            st += rng.uniform(1800, 2600)
        # signs: speed and height/weight signs
        st, n = lo + 400, 0
        while st < hi - 100:
            n += 1
            # signs announce limits; the limits themselves belong to the structures
            kind = rng.choice(["限速标志 80", "限高标志 5.0m", "限重标志 49t", "指路标志"])
            h = w = ""
            rows.append(
                [
                    f"SGN-{code}-{n:03d}",
                    "标志",
                    f"{code} {kind} {n:03d}",
                    f"{code} sign {n:03d}",
                    code,
                    _fmt(st),
                    "",
                    h,
                    w,
                    "",
                    "",
                    owner,
                    "在役",
                ]
            )
            st += rng.uniform(500, 1500)
        # pavement sections of 1 km
        st, n = lo, 0
        while st + 1000 <= hi:
            n += 1
            state = "养护中" if (code == "S40" and n == 5) else "在役"
            rows.append(
                [
                    f"PAV-{code}-{n:02d}",
                    "路面",
                    f"{code} 路面段 {n:02d}",
                    f"{code} pavement section {n:02d}",
                    code,
                    _fmt(st + 1),
                    _fmt(st + 1000),
                    "",
                    "",
                    "",
                    "",
                    owner,
                    state,
                ]
            )
            st += 1000
        if code == "S40":
            for n, (stake, h) in enumerate(((2350, "5.0"), (5100, "4.5"), (9800, "4.8")), 1):
                rows.append(
                    [
                        f"UPS-{code}-{n:02d}",
                        "下穿通道",
                        f"{code} 下穿通道 {n:02d}",
                        f"{code} underpass {n:02d}",
                        code,
                        _fmt(stake),
                        "",
                        h,
                        "",
                        "",
                        "",
                        owner,
                        "在役",
                    ]
                )
    return rows


BRIDGE_HEADER = [
    "external_id",
    "名称",
    "name_en",
    "路线编号",
    "建成年份",
    "管养单位",
    "设计荷载",
    "限重",
    "限轴重",
    "结构形式",
    "跨径组合",
]


def bridge_register(
    ways: list[tuple[int, list[int], dict[str, str]]], rng: random.Random
) -> list[list[str]]:
    """Enrich the OSM bridges (matched by external id) with year, owner and design load."""
    rows = []
    owners = [
        "天津市高速公路养护中心（虚构）",
        "天津市道路桥梁管理事务中心（虚构）",
        "滨海新区公路养护所（虚构）",
        "津南区农村公路管理站（虚构）",
    ]
    for wid, _ids, tags in ways:
        if tags.get("bridge") not in ("yes", "viaduct"):
            continue
        r = random.Random(_crc(tags.get("bridge:name", str(wid))))
        hw = tags.get("highway", "")
        year = r.randint(1993, 2019) if hw in ("motorway", "trunk") else r.randint(1978, 2016)
        load = (
            "公路-I级"
            if hw in ("motorway", "trunk", "primary")
            else r.choice(["公路-II级", "汽车-20级"])
        )
        owner = (
            owners[0]
            if hw == "motorway"
            else owners[1]
            if hw in ("trunk", "primary")
            else (owners[3] if hw in ("tertiary", "unclassified") else owners[2])
        )
        # some register limits differ from the OSM tags: the register is newer
        if hw in ("motorway", "trunk"):
            w = "" if r.random() < 0.8 else r.choice(["49", "40"])
        else:
            w = "" if r.random() < 0.6 else r.choice(["30", "40", "20t"])
        axle = "" if not w else r.choice(["10", "13"])
        rows.append(
            [
                OSM_WAY_EXTERNAL_ID.format(wid),
                tags.get("bridge:name", ""),
                tags.get("bridge:name:en", ""),
                tags.get("ref", ""),
                str(year),
                owner,
                load,
                w,
                axle,
                r.choice(["预应力混凝土简支T梁", "钢筋混凝土板梁", "连续箱梁", "钢混组合梁"]),
                r.choice(["3×20m", "5×30m", "4×25m", "13m", "1×16m"]),
            ]
        )
    del rng
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def write_rasters(out: Path, rng: np.random.Generator) -> None:
    """A DEM of the whole sample and a flood water-depth raster of low-lying Binhai."""
    import rasterio
    from rasterio.transform import from_origin
    from scipy.ndimage import gaussian_filter

    # DEM: 0.005 degree (~450 m), falls from ~12 m in the NW to ~1 m at the coast
    w, h, res = 180, 110, 0.005
    lon0, lat1 = 116.95, 39.45
    lon = lon0 + (np.arange(w) + 0.5) * res
    lat = lat1 - (np.arange(h) + 0.5) * res
    LON, LAT = np.meshgrid(lon, lat)
    trend = 1.0 + 11.0 * np.clip(((117.85 - LON) / 0.9) * 0.6 + ((LAT - 38.9) / 0.55) * 0.4, 0, 1)
    noise = gaussian_filter(rng.normal(0, 1.6, (h, w)), 3)
    dem = (trend + noise).astype("float32").round(2)
    profile = {
        "driver": "GTiff",
        "width": w,
        "height": h,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_origin(lon0, lat1, res, res),
        "nodata": -9999.0,
        "compress": "deflate",
        "tiled": False,
    }
    with rasterio.open(out / "tianjin_dem.tif", "w", **profile) as dst:
        dst.write(dem, 1)
        dst.update_tags(
            DESCRIPTION="Invented DEM for the RoadTwin sample; not survey data",
            UNITS="m above sea level (invented)",
        )
    # water depth: 0.0005 degree (~45 m) over Tanggu / Binhai, a storm-surge flood blob
    w, h, res = 360, 200, 0.0005
    lon0, lat1 = 117.56, 39.09
    lon = lon0 + (np.arange(w) + 0.5) * res
    lat = lat1 - (np.arange(h) + 0.5) * res
    LON, LAT = np.meshgrid(lon, lat)
    blob = np.exp(-(((LON - 117.66) / 0.05) ** 2 + ((LAT - 39.03) / 0.025) ** 2))
    blob += 0.7 * np.exp(-(((LON - 117.71) / 0.03) ** 2 + ((LAT - 39.055) / 0.02) ** 2))
    depth = 1.6 * blob + gaussian_filter(rng.normal(0, 0.25, (h, w)), 4)
    depth = np.where(depth < 0.05, 0.0, depth).astype("float32").round(3)
    depth[:6, :] = -9999.0  # a strip outside the model's domain
    profile = {
        "driver": "GTiff",
        "width": w,
        "height": h,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_origin(lon0, lat1, res, res),
        "nodata": -9999.0,
        "compress": "deflate",
        "tiled": False,
    }
    with rasterio.open(out / "binhai_flood_depth.tif", "w", **profile) as dst:
        dst.write(depth, 1)
        dst.update_tags(
            DESCRIPTION="Invented flood water depth (storm-surge scenario) for the "
            "RoadTwin sample; not a model result",
            UNITS="m",
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Write every file of the sample."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "sample")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    out: Path = args.out
    (out / "registers").mkdir(parents=True, exist_ok=True)
    (out / "rasters").mkdir(parents=True, exist_ok=True)
    s = build(args.seed)
    ways = write_osm(s, out / "tianjin.osm")
    write_routes(s, out / "routes.geojson")
    write_villages(s, out / "villages.geojson")
    rng = random.Random(args.seed + 1)
    yards, lanes = port_yard(rng)
    write_json(out / "port_yard.geojson", _fc(yards, "port_yard"))
    write_json(out / "port_lanes.geojson", _fc(lanes, "port_lanes"))
    write_csv(
        out / "registers" / "port_corridor_assets.csv",
        PORT_HEADER,
        port_register(s, rng),
        encoding="utf-8",
    )
    write_csv(
        out / "registers" / "bridges.csv", BRIDGE_HEADER, bridge_register(ways, rng), encoding="gbk"
    )
    write_rasters(out / "rasters", np.random.default_rng(args.seed))
    n_br = sum(1 for _w, _i, t in ways if t.get("bridge"))
    print(f"wrote {out}: {len(ways)} ways, {n_br} bridge ways, {len(s.villages)} villages")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    main()
