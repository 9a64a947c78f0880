"""A generated network written as OSM XML reads back as the same graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loaders.osm import read_osm
from loaders.osm_write import write_osm_xml
from loaders.synthetic import generate_network


def test_generated_network_round_trips_through_osm(tmp_path: Path) -> None:
    net = generate_network(edges=600, seed=3, limited_share=0.1)
    path = write_osm_xml(net, tmp_path / "gen.osm.gz")
    back = read_osm(path)
    assert len(back.edges) == net.n_edges
    assert not back.report.unparseable and not back.report.rejected
    # way id = edge index + 1: lengths agree with the generator's to within 1 %
    order = back.edges.osm_way_id - 1
    ratio = back.edges.length_m / net.edge_length_m[order]
    assert np.all(np.abs(ratio - 1) < 0.01)
    assert back.edges.oneway.sum() == int(net.edge_oneway.sum())
    # every structure with a known posted height shows up on its edges
    height_of_way = dict(
        zip(back.edges.osm_way_id.tolist(), back.edges.max_height_cm.tolist(), strict=True)
    )
    for s in net.structures:
        h = s.limits.get("height")
        if s.kind == "height_restrictor" or h is None or s.conditional or s.direction != "both":
            continue
        got = np.array([height_of_way[e + 1] for e in s.edges], dtype=float)
        assert (got <= h).all(), s.external_id
    kinds = set(back.assets.kind)
    assert {"bridge", "height_restrictor"} <= kinds
