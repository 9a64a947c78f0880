"""Stake numbers and linear referencing: worked examples by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiLineString, Point

from road_network.stake import (
    ChainBreak,
    LinearRoute,
    StakeError,
    format_stake,
    parse_chain_breaks,
    parse_stake,
    to_metric,
    to_wgs84,
)


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("K12+345", 12345.0),
        ("K0+000", 0.0),
        ("k3+020", 3020.0),
        ("K12+345.6", 12345.6),
        (" K 1 + 200 ", 1200.0),
        ("AK2+100", 2100.0),
        ("K12 345", 12345.0),
        (850, 850.0),
        (12.5, 12.5),
    ],
)
def test_parse_stake(text: str, metres: float) -> None:
    assert parse_stake(text) == pytest.approx(metres)


@pytest.mark.parametrize("text", ["12+345", "K12+45", "K12+1000", "K12-345", "K+345", "", "K12"])
def test_parse_stake_rejects_malformed(text: str) -> None:
    with pytest.raises(StakeError, match="stake"):
        parse_stake(text)


def test_parse_stake_rejects_negative_number() -> None:
    with pytest.raises(StakeError, match="non-negative"):
        parse_stake(-1.0)


def test_format_stake_round_trip() -> None:
    assert format_stake(12345) == "K12+345"
    assert format_stake(45.0) == "K0+045"
    assert format_stake(12345.64, decimals=1) == "K12+345.6"
    assert format_stake(999.96, decimals=1) == "K1+000.0"
    for m in (0.0, 1.0, 999.0, 1000.0, 123456.0):
        assert parse_stake(format_stake(m)) == m


def test_chain_break_kinds_and_parsing() -> None:
    breaks = parse_chain_breaks([{"back": "K1+000", "ahead": "K0+950"}, [2000, 2100]])
    assert breaks == [ChainBreak(1000, 950), ChainBreak(2000, 2100)]
    assert [b.kind for b in breaks] == ["long", "short"]
    with pytest.raises(StakeError, match="chain break #1"):
        parse_chain_breaks([{"back": "K1+000"}])


def _straight(length_m: float) -> LineString:
    return LineString([(500000.0, 4300000.0), (500000.0 + length_m, 4300000.0)])


def test_plain_route_maps_stake_to_distance() -> None:
    # A 3 km road starting at K10+000: K11+250 is 1,250 m from the start.
    route = LinearRoute(_straight(3000), stake_start_m=10000, code="S30")
    assert route.stake_end_m == 13000
    assert route.distance_at(parse_stake("K11+250")) == pytest.approx(1250)
    p = route.point_at(11250)
    assert (p.x, p.y) == pytest.approx((501250.0, 4300000.0))
    # 5 m to the right of an eastbound road is 5 m south.
    q = route.point_at(11250, offset_m=5)
    assert (q.x, q.y) == pytest.approx((501250.0, 4299995.0))


def test_stake_beyond_end_is_an_error() -> None:
    route = LinearRoute(_straight(3000), stake_start_m=10000, code="S30")
    with pytest.raises(StakeError, match=r"beyond road S30.*K10\+000.0..K13\+000.0"):
        route.distance_at(13001)
    with pytest.raises(StakeError, match="beyond"):
        route.distance_at(9999)


def test_long_chain_break() -> None:
    # 3 km of geometry; at K1+000 the measure continues as K0+900 (100 m long chain).
    route = LinearRoute(_straight(3000), chain_breaks=[ChainBreak(1000, 900)], code="G2")
    assert route.stake_end_m == pytest.approx(2900)
    # K2+000 lies after the break: 1000 m + (2000 - 900) m = 2100 m along.
    assert route.distance_at(2000) == pytest.approx(2100)
    # K0+950 exists twice: at 950 m and again at 1050 m.
    assert route.is_ambiguous(950)
    assert route.distance_at(950) == pytest.approx(950)
    assert route.distance_at(950, occurrence="last") == pytest.approx(1050)
    # Reverse: the place 1,500 m along reads K1+400.
    assert route.stake_at_distance(1500) == pytest.approx(1400)
    stake, off = route.locate(Point(500000 + 2100, 4300000 + 7))
    assert stake == pytest.approx(2000)
    assert off == pytest.approx(7)


def test_short_chain_break() -> None:
    # At K1+000 the measure jumps to K1+200: K1+100 does not exist.
    route = LinearRoute(_straight(3000), chain_breaks=[ChainBreak(1000, 1200)], code="X012")
    assert route.stake_end_m == pytest.approx(3200)
    assert route.distance_at(1300) == pytest.approx(1100)
    with pytest.raises(StakeError, match="short chain break"):
        route.distance_at(1100)
    with pytest.raises(StakeError, match="beyond"):
        route.distance_at(3201)


def test_chain_break_outside_route_is_rejected() -> None:
    with pytest.raises(StakeError, match="outside"):
        LinearRoute(_straight(1000), chain_breaks=[ChainBreak(5000, 5100)], code="Y1")


def test_section_between_stakes() -> None:
    route = LinearRoute(_straight(3000), stake_start_m=0, code="S30")
    sec = route.section(500, 800)
    assert sec.length == pytest.approx(300)
    with pytest.raises(StakeError, match="reversed"):
        route.section(800, 500)


def test_multilinestring_parts_are_joined() -> None:
    geom = MultiLineString(
        [[(0, 0), (100, 0)], [(100, 0), (100, 50)]],
    )
    route = LinearRoute(geom, code="Y2")
    assert route.length_m == pytest.approx(150)
    p = route.point_at(120)
    assert (p.x, p.y) == pytest.approx((100, 20))


def test_stake_placement_on_projected_wgs84_line() -> None:
    # A road along the 39.1N parallel near Tianjin, 0.1 degree of longitude long:
    # about 8.65 km in CGCS2000 / GK CM 117E. K5+000 sits 5 km from the start.
    wgs = LineString([(117.30, 39.10), (117.40, 39.10)])
    line = to_metric(wgs)
    assert isinstance(line, LineString)
    route = LinearRoute(line, code="S30")
    assert 8600 < route.length_m < 8700
    p = to_wgs84(route.point_at(5000))
    assert p.y == pytest.approx(39.10, abs=2e-4)
    # 5 km at 39.1N is 5000 / (111320 * cos 39.1) ~ 0.0578 degree east.
    assert p.x == pytest.approx(117.30 + 5000 / (111320 * 0.7760), abs=2e-4)


@given(
    start=st.floats(0, 50_000),
    length=st.floats(500, 20_000),
    breaks=st.lists(
        st.tuples(st.floats(0.05, 0.95), st.floats(-200, 200).filter(lambda d: abs(d) > 1)),
        max_size=3,
    ),
    frac=st.floats(0, 1),
)
@settings(max_examples=200, deadline=None)
def test_distance_and_stake_are_inverse(
    start: float, length: float, breaks: list[tuple[float, float]], frac: float
) -> None:
    """Any place on the road reads one stake, and that stake maps back to the place (or,
    inside a long chain break, to one of the two places that read it)."""
    # breaks at increasing fractions of the road, each a long or short chain
    cbs: list[ChainBreak] = []
    stake, dist = start, 0.0
    for f, jump in sorted(breaks):
        at = f * length
        if at <= dist + 1:
            continue
        back = stake + (at - dist)
        cbs.append(ChainBreak(back, max(back + jump, 0.0)))
        stake, dist = cbs[-1].ahead_m, at
    route = LinearRoute(_straight(length), stake_start_m=start, chain_breaks=cbs, code="H")
    d = frac * length
    s = route.stake_at_distance(d)
    hits = route.distances_at(s)
    assert min(abs(h - d) for h in hits) < 1e-6
    assert route.distance_at(s) == hits[0] and route.distance_at(s, occurrence="last") == hits[-1]
    assert hits == sorted(hits)
