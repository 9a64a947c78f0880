"""The vectorised OSM XML scanner reads what pyosmium reads, or declines the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import loaders.osm as osm
from loaders.osm_xml import scan_xml, scan_xml_file

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).parent.parent / "data" / "sample" / "tianjin.osm"


def _same_buffers(fast: osm._Buffers, slow: osm._Buffers) -> None:
    for f in ("refs", "xs", "ys", "way_ids", "way_start"):
        assert np.array_equal(np.asarray(getattr(fast, f)), np.asarray(getattr(slow, f))), f
    assert [list(t.items()) for t in fast.way_tags] == [list(t.items()) for t in slow.way_tags]
    # ways with equal kept tags share one dict (the parser caches on its identity)
    fa: dict[int, int] = {}
    sa: dict[int, int] = {}
    assert [fa.setdefault(id(t), len(fa)) for t in fast.way_tags] == [
        sa.setdefault(id(t), len(sa)) for t in slow.way_tags
    ]
    assert fast.restrictors == slow.restrictors
    assert fast.bridge_areas == slow.bridge_areas


def _both(path: Path) -> tuple[osm._Buffers, osm._Buffers]:
    scan = scan_xml_file(path)
    assert scan is not None, f"{path} should be on the fast path"
    return osm._buffers_of_scan(scan), osm._read_osmium(path, None)


@pytest.mark.parametrize("path", [DATA / "osm_edge_cases.osm", SAMPLE], ids=lambda p: p.name)
def test_scanner_reads_what_pyosmium_reads(path: Path) -> None:
    fast, slow = _both(path)
    assert len(fast.way_ids) > 5
    _same_buffers(fast, slow)


def test_shared_extracts_read_the_same(shared_data: Path) -> None:
    for name in ("beijing_haidian_cau.osm", "shenzhen_longgang.osm"):
        fast, slow = _both(shared_data / name)
        assert len(fast.way_ids) > 100
        _same_buffers(fast, slow)


def test_whole_network_is_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = osm.read_osm(DATA / "osm_edge_cases.osm")
    monkeypatch.setattr("loaders.osm_xml.scan_xml_file", lambda _p: None)
    slow = osm.read_osm(DATA / "osm_edge_cases.osm")
    assert fast.report.to_dict() == slow.report.to_dict()
    for a, b in ((fast.edges, slow.edges), (fast.nodes, slow.nodes), (fast.limits, slow.limits)):
        assert a.columns == b.columns
        for c in a.columns:
            if a[c].dtype.kind == "f":
                assert np.array_equal(a[c], b[c], equal_nan=True), c
            else:
                assert a[c].tolist() == b[c].tolist(), c
    assert np.array_equal(fast.edge_lines.coords, slow.edge_lines.coords)
    assert fast.assets.external_id.tolist() == slow.assets.external_id.tolist()


_NODES = """  <node id="1" version="2" lat="39.1" lon="117.2"/>
  <node id="2" version="2" timestamp="2024-01-01T00:00:00Z" lat="-39.1000001" lon="-117.2010000"/>
  <node id="3" lat="39.1" lon="117.203">
    <tag k="barrier" v="height_restrictor"/>
    <tag k="maxheight" v="3&amp;4"/>
  </node>
"""


def _file(tmp_path: Path, body: str, *, name: str = "x.osm", head: str = "") -> Path:
    p = tmp_path / name
    p.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        + head
        + '<osm version="0.6">\n'
        + _NODES
        + body
        + "</osm>\n",
        encoding="utf-8",
    )
    return p


def test_entities_comments_and_blanks_in_values(tmp_path: Path) -> None:
    body = """  <!-- a comment with <way id="9"> inside -->
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="primary"/>
    <tag k="name" v="A &amp; B &#x4E2D;&#22269; &lt;&gt;&quot;&apos;"/>
    <tag k="name:en" v="two	words
here"/>
    <tag k="maxweight" v="10 > 5"/>
  </way>
  <relation id="5"><member type="way" ref="10" role=""/><tag k="type" v="route"/></relation>
"""
    path = _file(tmp_path, body)
    fast, slow = _both(path)
    _same_buffers(fast, slow)
    assert fast.way_tags[0]["name"] == "A & B 中国 <>\"'"
    assert fast.xs[-1] == osm._UNDEF  # node 4 is not in the file
    assert fast.way_tags[0]["name:en"] == "two words here"
    assert fast.restrictors[0][3]["maxheight"] == "3&4"


@pytest.mark.parametrize(
    "body",
    [
        "  <way id='10'><nd ref='1'/><nd ref='2'/><tag k='highway' v='primary'/></way>\n",
        '  <way id="10" action="modify"><nd ref="1"/><nd ref="2"/></way>\n',
        '  <way id="10" visible="false"><nd ref="1"/><nd ref="2"/></way>\n',
        '  <way id="-10"><nd ref="1"/><nd ref="2"/></way>\n',
        '  <way id="10"><nd ref="-1"/><nd ref="2"/></way>\n',
        '  <way version="1" id="10"><nd ref="1"/><nd ref="2"/></way>\n',
        '  <way id="10"><nd ref="1"/><tag v="primary" k="highway"/></way>\n',
        '  <way id="10"><nd ref="1"/><tag k="highway" v="a &nbsp; b"/></way>\n',
        '  <way id="10"><nd ref="1"/><tag k="a" v="1"/><tag k="a" v="2"/></way>\n',
        '  <way id="10"><nd ref="1"/><foo/></way>\n',
        '  <way id="10"><nd ref="1"/>text</way>\n',
        '  <way id="10"><nd ref="1"/>\n',
        '  <node id="4" lat="39.12345678" lon="117.2"/>\n',
        '  <node id="4" lat="1e1" lon="117.2"/>\n',
        "  <![CDATA[ x ]]>\n",
    ],
)
def test_files_outside_the_scanner_go_to_pyosmium(tmp_path: Path, body: str) -> None:
    path = _file(tmp_path, body)
    assert scan_xml(path.read_bytes()) is None


def test_way_before_its_nodes_and_truncated_files_are_declined(tmp_path: Path) -> None:
    way = '<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>\n'
    early = tmp_path / "early.osm"
    early.write_text(f'<osm version="0.6">{way}{_NODES}</osm>', encoding="utf-8")
    assert scan_xml(early.read_bytes()) is None
    good = _file(tmp_path, way)
    assert scan_xml(good.read_bytes()[:-20]) is None
    assert scan_xml(good.read_bytes()) is not None


def test_compressed_xml_is_scanned(tmp_path: Path) -> None:
    import gzip

    src = DATA / "osm_edge_cases.osm"
    gz = tmp_path / "edge.osm.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    fast = scan_xml_file(gz)
    plain = scan_xml_file(src)
    assert fast is not None and plain is not None
    assert np.array_equal(fast.refs, plain.refs)
    assert fast.tagsets == plain.tagsets
