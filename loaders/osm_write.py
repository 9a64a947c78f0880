"""Write a generated network (:mod:`loaders.synthetic`) as an OSM XML file.

Every edge becomes one way (so the OSM reader rebuilds the same edges: ways meet only at
graph nodes), intermediate vertices become untagged nodes, roads become ``ref``/``name``
tags and structures become the tags an OSM mapper would use: ``bridge=yes``,
``tunnel=yes``, ``tunnel=building_passage`` (underpass), ``barrier=height_restrictor``
on a node, with ``maxheight``/``maxwidth``/``maxlength`` in metres, ``maxweight``/
``maxaxleload`` in tonnes, ``:forward``/``:backward`` for one-directional limits,
``:conditional`` for time windows and ``below_default`` for a posted limit of unknown
value. Everything written is invented data, and the file says so in a comment.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from xml.sax.saxutils import quoteattr

from loaders.synthetic import Structure, SyntheticNetwork

__all__ = ["HIGHWAY_OF_CLASS", "osm_tags_for_edges", "write_osm_xml"]

#: generator road class -> OSM highway value
HIGHWAY_OF_CLASS = {
    "motorway": "motorway",
    "trunk": "trunk",
    "primary": "primary",
    "secondary": "secondary",
    "residential": "residential",
    "rural": "unclassified",
}
_KEY_OF_LIMIT = {
    "height": "maxheight",
    "width": "maxwidth",
    "length": "maxlength",
    "weight": "maxweight",
    "axle_load": "maxaxleload",
}


def _format_limit(kind: str, value: int | None) -> str:
    if value is None:
        return "below_default"
    if kind in ("weight", "axle_load"):
        return f"{value / 1000:g}"  # tonnes, OSM's default unit
    return f"{value / 100:g}"  # metres


def _structure_tags(s: Structure) -> dict[str, str]:
    tags: dict[str, str] = {}
    if s.kind == "bridge":
        tags["bridge"] = "yes"
    elif s.kind == "tunnel":
        tags["tunnel"] = "yes"
    elif s.kind == "underpass":
        tags["tunnel"] = "building_passage"
    name = {"bridge": "bridge:name", "tunnel": "tunnel:name", "underpass": "tunnel:name"}
    if s.kind in name:
        tags[name[s.kind]] = s.name_zh
        tags[name[s.kind] + ":en"] = s.name_en
    suffix = "" if s.direction == "both" else f":{s.direction}"
    for kind, value in s.limits.items():
        key = _KEY_OF_LIMIT[kind] + suffix
        if s.conditional:
            tags[key + ":conditional"] = f"{_format_limit(kind, value)} @ ({s.conditional})"
        else:
            tags[key] = _format_limit(kind, value)
    return tags


def osm_tags_for_edges(
    net: SyntheticNetwork,
) -> tuple[list[dict[str, str]], dict[int, dict[str, str]]]:
    """The tags of each edge's way and of restrictor nodes (node index -> tags)."""
    edge_tags: list[dict[str, str]] = []
    for i in range(net.n_edges):
        road = net.roads[int(net.edge_road[i])]
        tags = {
            "highway": HIGHWAY_OF_CLASS.get(str(net.edge_class[i]), "unclassified"),
            "ref": road.code,
            "name": road.name_zh,
            "name:en": road.name_en,
            "maxspeed": f"{float(net.edge_speed_kmh[i]):g}",
        }
        if net.edge_oneway[i]:
            tags["oneway"] = "yes"
        elif tags["highway"] == "motorway":
            tags["oneway"] = "no"  # OSM implies oneway on motorways; the generator's are two-way
        edge_tags.append(tags)
    node_tags: dict[int, dict[str, str]] = {}
    for s in net.structures:
        if s.kind == "height_restrictor":
            node = int(net.edge_target[s.edges[0]])
            tags = {"barrier": "height_restrictor"}
            tags.update({k: v for k, v in _structure_tags(s).items() if k.startswith("maxheight")})
            node_tags[node] = tags
            continue
        st = _structure_tags(s)
        for e in s.edges:
            for k, v in st.items():
                edge_tags[e].setdefault(k, v)
    return edge_tags, node_tags


def _open(path: Path) -> IO[str]:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8")
    if name.endswith(".bz2"):
        return bz2.open(path, "wt", encoding="utf-8")
    return path.open("w", encoding="utf-8")


def _node_lines(net: SyntheticNetwork, node_tags: dict[int, dict[str, str]]) -> Iterator[str]:
    for i, (lon, lat) in enumerate(zip(net.node_lon.tolist(), net.node_lat.tolist(), strict=True)):
        tags = node_tags.get(i)
        if not tags:
            yield f' <node id="{i + 1}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>\n'
            continue
        body = "".join(f"  <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in tags.items())
        yield f' <node id="{i + 1}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">\n{body} </node>\n'


def write_osm_xml(net: SyntheticNetwork, path: str | Path) -> Path:
    """Write ``net`` as OSM XML (``.osm``, ``.osm.gz`` or ``.osm.bz2`` by suffix).

    Node ids are 1..n for graph nodes, then one id per intermediate vertex; way ids are
    edge index + 1. Returns the path written.
    """
    path = Path(path)
    edge_tags, node_tags = osm_tags_for_edges(net)
    off = net.geom_offsets
    glon, glat = net.geom_lon, net.geom_lat
    with _open(path) as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        f.write(
            f"<!-- generated by loaders.synthetic (seed {net.seed}): invented data, "
            "not survey data -->\n"
        )
        f.write('<osm version="0.6" generator="roadtwin loaders.osm_write">\n')
        f.writelines(_node_lines(net, node_tags))
        next_id = net.n_nodes + 1
        way_lines: list[str] = []
        src, dst = net.edge_source.tolist(), net.edge_target.tolist()
        for i in range(net.n_edges):
            a, b = int(off[i]), int(off[i + 1])
            refs = [src[i] + 1]
            for j in range(a + 1, b - 1):  # interior vertices
                f.write(
                    f' <node id="{next_id}" version="1" lat="{glat[j]:.7f}" lon="{glon[j]:.7f}"/>\n'
                )
                refs.append(next_id)
                next_id += 1
            refs.append(dst[i] + 1)
            nds = "".join(f'  <nd ref="{r}"/>\n' for r in refs)
            tags = "".join(
                f"  <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in edge_tags[i].items()
            )
            way_lines.append(f' <way id="{i + 1}" version="1">\n{nds}{tags} </way>\n')
        f.writelines(way_lines)
        f.write("</osm>\n")
    return path
