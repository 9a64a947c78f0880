"""Every OSM limit form we claim to read, one assertion each (pure, no database)."""

from __future__ import annotations

import pytest

from loaders.osm_tags import (
    Parsed,
    access_from_tags,
    limits_from_tags,
    parse_access,
    parse_conditional,
    parse_length_cm,
    parse_speed_kmh,
    parse_tunnel_category,
    parse_weight_kg,
)


@pytest.mark.parametrize(
    ("raw", "cm"),
    [
        ("3.8", 380),
        ("3.8 m", 380),
        ("3.8m", 380),
        ("3.8 metres", 380),
        ("4 meters", 400),
        (" 4.2 ", 420),
        ("380 cm", 380),
        ("3 m 80", 380),
        ("3m80", 380),
        ("3 m 80 cm", 380),
        ("3 m 5", 305),
        ("3,8", 380),
        ("3,80 m", 380),
        ("~3.8", 380),
        ("ca. 3.5", 350),
        ("12'6\"", 381),  # 150 in = 381.0 cm
        ("12' 6\"", 381),
        ("12’6”", 381),
        ("12'6''", 381),
        ("12 ft 6 in", 381),
        ("12ft6in", 381),
        ("13'", 396),  # 396.24 cm, rounded down
        ("13 ft", 396),
        ("150 in", 381),
        (".5", 50),
        ("3.8米", 380),
    ],
)
def test_length_values(raw: str, cm: int) -> None:
    p = parse_length_cm(raw)
    assert p.status == "value", p
    assert p.value == cm
    assert p.raw == raw


def test_length_approximate_is_noted() -> None:
    assert parse_length_cm("~3.8").note == "approximate"
    assert parse_length_cm("3.8").note is None


@pytest.mark.parametrize(
    ("raw", "status", "note"),
    [
        ("none", "unlimited", None),
        ("default", "unlimited", "default"),
        ("below_default", "unknown", "below_default"),
        ("unsigned", "unknown", "unsigned"),
        ("no_sign", "unknown", "no_sign"),
    ],
)
def test_length_words(raw: str, status: str, note: str | None) -> None:
    p = parse_length_cm(raw)
    assert (p.status, p.note, p.value) == (status, note, None)


@pytest.mark.parametrize(
    ("raw", "note"),
    [
        ("3.8 furlongs", "unit"),
        ("3.8 yd", "unit"),
        ("tall", "unit"),
        ("", "empty"),
        ("0", "not positive"),
        ("380", "implausible"),  # 380 m: a forgotten 'cm'
        ("12'14\"", "inches >= 12"),
        ("3.8.1", "unit"),
    ],
)
def test_length_unparseable_keeps_raw(raw: str, note: str) -> None:
    p = parse_length_cm(raw)
    assert p.status == "unparseable"
    assert p.raw == raw
    assert p.note == note
    assert p.value is None


@pytest.mark.parametrize(
    ("raw", "kg"),
    [
        ("7.5", 7500),
        ("7.5 t", 7500),
        ("7.5t", 7500),
        ("30 tonnes", 30000),
        ("3,5", 3500),
        ("3,5 t", 3500),
        ("~20", 20000),
        ("7500 kg", 7500),
        ("7500kg", 7500),
        ("12,000 lbs", 5443),  # 5443.1 kg
        ("8000 lbs", 3628),  # 3628.7 kg
        ("10 st", 9071),  # 9071.8 kg (US short tons)
        ("10 short tons", 9071),
        ("20吨", 20000),
    ],
)
def test_weight_values(raw: str, kg: int) -> None:
    p = parse_weight_kg(raw)
    assert p.status == "value", p
    assert p.value == kg


def test_weight_below_one_kilogram_is_reported_not_zero() -> None:
    p = parse_weight_kg("1 lb")  # 0.45 kg
    assert (p.status, p.note, p.value) == ("unparseable", "below one unit", None)


@pytest.mark.parametrize(
    ("raw", "status"),
    [("none", "unlimited"), ("default", "unlimited"), ("below_default", "unknown")],
)
def test_weight_words(raw: str, status: str) -> None:
    assert parse_weight_kg(raw).status == status


@pytest.mark.parametrize("raw", ["7.5 cwt", "heavy", "5000 t", "-3", "7.5 t; 3.5 t"])
def test_weight_unparseable(raw: str) -> None:
    p = parse_weight_kg(raw)
    assert p.status == "unparseable" and p.raw == raw


@pytest.mark.parametrize(
    ("raw", "status", "kmh"),
    [
        ("50", "value", 50),
        ("50 km/h", "value", 50),
        ("30 mph", "value", 48),
        ("none", "unlimited", None),
        ("CN:urban", "unknown", None),
        ("DE:rural", "unknown", None),
        ("walk", "unknown", None),
        ("fast", "unparseable", None),
    ],
)
def test_speed(raw: str, status: str, kmh: int | None) -> None:
    p = parse_speed_kmh(raw)
    assert (p.status, p.value) == (status, kmh)


@pytest.mark.parametrize(
    "raw",
    [
        "yes",
        "no",
        "designated",
        "destination",
        "delivery",
        "agricultural",
        "forestry",
        "permissive",
        "private",
    ],
)
def test_access_values(raw: str) -> None:
    p = parse_access(raw)
    assert p.status == "value" and p.text == raw


def test_access_normalises_case_and_rejects_junk() -> None:
    assert parse_access(" No ").text == "no"
    assert parse_access("maybe").status == "unparseable"
    assert parse_access("unknown").status == "unknown"


@pytest.mark.parametrize("raw", ["A", "b", "C", "D", "E"])
def test_tunnel_category(raw: str) -> None:
    assert parse_tunnel_category(raw).text == raw.upper()


@pytest.mark.parametrize("raw", ["F", "AB", "", "1"])
def test_tunnel_category_invalid(raw: str) -> None:
    assert parse_tunnel_category(raw).status == "unparseable"


def test_conditional_value_and_condition() -> None:
    out = parse_conditional("3.5 @ (Mo-Fr 07:00-19:00)", parse_weight_kg)
    assert out == [(Parsed("value", value=3500, raw="3.5"), "Mo-Fr 07:00-19:00")]


def test_conditional_several_parts_with_semicolons_inside_parentheses() -> None:
    out = parse_conditional("none @ (Sa,Su; PH); 7.5 @ (06:00-22:00)", parse_weight_kg)
    assert [(p.status, p.value, c) for p, c in out] == [
        ("unlimited", None, "Sa,Su; PH"),
        ("value", 7500, "06:00-22:00"),
    ]


def test_conditional_without_at_is_unparseable() -> None:
    ((p, cond),) = parse_conditional("3.5 Mo-Fr", parse_length_cm)
    assert p.status == "unparseable" and cond == ""


def test_limits_from_tags_suffixes() -> None:
    tags = {
        "highway": "primary",
        "maxheight": "3.8",
        "maxheight:physical": "4.0",
        "maxweight:forward": "7.5",
        "maxweight:backward": "12 t",
        "maxaxleload": "10",
        "maxwidth": "2,5",
        "maxlength": "12",
        "maxweight:conditional": "3.5 @ (Mo-Fr 07:00-19:00)",
        "maxheight:signed": "no",  # not a limit
        "maxspeed": "50",  # not a structure limit
    }
    got = {
        (t.key, t.kind, t.direction, t.physical, t.condition, t.parsed.value)
        for t in limits_from_tags(tags)
    }
    assert got == {
        ("maxheight", "height", "both", False, None, 380),
        ("maxheight:physical", "height", "both", True, None, 400),
        ("maxweight:forward", "weight", "forward", False, None, 7500),
        ("maxweight:backward", "weight", "backward", False, None, 12000),
        ("maxaxleload", "axle_load", "both", False, None, 10000),
        ("maxwidth", "width", "both", False, None, 250),
        ("maxlength", "length", "both", False, None, 1200),
        ("maxweight:conditional", "weight", "both", False, "Mo-Fr 07:00-19:00", 3500),
    }


def test_maxlength_allows_long_values() -> None:
    (t,) = limits_from_tags({"maxlength": "45"})
    assert t.parsed.value == 4500


def test_access_from_tags() -> None:
    tags = {
        "hgv": "destination",
        "hgv:backward": "no",
        "hazmat": "no",
        "hazmat:adr_tunnel_cat": "C",
        "tunnel:category": "x",
        "hgv:conditional": "no @ (22:00-06:00)",
    }
    got = {
        (t.kind, t.key, t.direction, t.condition, t.parsed.status, t.parsed.text)
        for t in access_from_tags(tags)
    }
    assert got == {
        ("hgv", "hgv", "both", None, "value", "destination"),
        ("hgv", "hgv:backward", "backward", None, "value", "no"),
        ("hazmat", "hazmat", "both", None, "value", "no"),
        ("tunnel_category", "hazmat:adr_tunnel_cat", "both", None, "value", "C"),
        ("tunnel_category", "tunnel:category", "both", None, "unparseable", None),
        ("hgv", "hgv:conditional", "both", "22:00-06:00", "value", "no"),
    }
