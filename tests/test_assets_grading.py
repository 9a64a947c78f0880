"""Condition grading by the Chinese highway standards (pure core, no database).

The standards' own worked examples are not available to us, so every expected value below
is computed by hand in the test's docstring from the formulas and tables quoted in
/work/shared/STANDARDS.md (JTG/T H21-2011 Tables 4.1.1, 4.1.5, 4.2.1 and clauses
4.1.1-4.1.8, 4.3; JTG 5210-2018 MQI; JTG H12-2015 JGCI).
"""

from __future__ import annotations

import math

import pytest

from assets import bridge_condition as bc
from assets import lifecycle, pavement, tunnel_condition
from assets.errors import GradingError


def test_deduction_table_4_1_1() -> None:
    """DP by (max scale, scale), Table 4.1.1."""
    assert bc.deduction(1, max_scale=3) == 0
    assert bc.deduction(3, max_scale=3) == 35
    assert bc.deduction(4, max_scale=4) == 50
    assert bc.deduction(5, max_scale=5) == 100
    with pytest.raises(GradingError, match="scale"):
        bc.deduction(4, max_scale=3)
    with pytest.raises(GradingError, match="max_scale"):
        bc.deduction(1, max_scale=6)


def test_component_score_two_defects() -> None:
    """DP 40 and 25: U1 = 40, U2 = 25 / (100 sqrt 2) * (100 - 40) = 10.6066;
    MCI = 100 - 50.6066 = 49.3934."""
    assert bc.component_score([25, 40]) == pytest.approx(49.3934, abs=1e-4)


def test_component_score_three_defects() -> None:
    """DP 35, 25, 20 (sorted): U1 = 35; U2 = 25/141.421*65 = 11.4905;
    U3 = 20/173.205*(100-46.4905) = 6.1787; MCI = 100 - 52.6692 = 47.3308."""
    assert bc.component_score([20, 35, 25]) == pytest.approx(47.3308, abs=1e-3)


def test_component_score_edge_cases() -> None:
    """No defect -> 100; any DP = 100 -> 0 (4.1.1)."""
    assert bc.component_score([]) == 100
    assert bc.component_score([35, 100]) == 0
    with pytest.raises(GradingError):
        bc.component_score([120])


def test_t_interpolation() -> None:
    """t: 1 -> inf; 2 -> 10; 3 -> 10 - 0.8/3 = 9.7333; 7 -> 9.2 - 1.1*2/5 = 8.76;
    >= 200 -> 2.3."""
    assert math.isinf(bc.t_value(1))
    assert bc.t_value(2) == 10
    assert bc.t_value(3) == pytest.approx(9.7333, abs=1e-4)
    assert bc.t_value(7) == pytest.approx(8.76)
    assert bc.t_value(100) == 2.5
    assert bc.t_value(350) == 2.3


def test_part_score() -> None:
    """[100, 100, 80]: 93.333 - 20/9.7333 = 91.2785. Main part with a component at 55:
    55 (4.1.2). Same numbers on a secondary part: 77.5 - 45/10 = 73.0."""
    assert bc.part_score([100, 100, 80], main=False) == pytest.approx(91.2785, abs=1e-3)
    assert bc.part_score([100, 55], main=True) == 55
    assert bc.part_score([100, 55], main=False) == pytest.approx(73.0)
    assert bc.part_score([77], main=False) == 77  # one component: t = inf


def test_classes_table_4_1_5() -> None:
    """Bands 95 / 80 / 60 / 40, lower bounds inclusive."""
    assert [bc.condition_class(s) for s in (100, 95, 94.99, 80, 60, 59.9, 40, 39.9, 0)] == [
        1,
        1,
        2,
        2,
        3,
        4,
        4,
        5,
        5,
    ]


def test_redistribution_of_missing_parts() -> None:
    """Land bridge without riverbed and regulating structures: the substructure's
    present weights 0.02+0.01+0.30+0.30+0.28 = 0.91 scale to piers 0.30/0.91 = 0.32967."""
    w = bc.structure_weights(["wing_walls", "cone_slopes", "piers", "abutments", "foundations"])
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["piers"] == pytest.approx(0.30 / 0.91)


def test_beam_bridge_full_example() -> None:
    """Hand computation of a whole beam bridge.

    Superstructure: main_girders [100,100,90] -> 96.667 - 10/9.7333 = 95.6393;
    secondary [100,100] -> 100; bearings [100,100,100,75] (t = 9.4667) -> 93.75 - 25/9.4667
    = 91.1092. SPCI = 0.70*95.6393 + 0.18*100 + 0.12*91.1092 = 95.8806.
    Substructure (no riverbed, no regulating structures, weights / 0.91): wing 100, cone 80,
    piers [100,85] -> 91.0, abutments 100, foundations [90,90] -> 89.
    SBCI = (2 + 0.8 + 27.3 + 30 + 24.92) / 0.91 = 93.4286.
    Deck (no sidewalks, no lighting; / 0.85): pavement 70, joints [60,80] -> 66, railings
    100, drainage 90. BDCI = (28 + 16.5 + 10 + 9) / 0.85 = 74.7059.
    Dr = 0.2*74.7059 + 0.4*95.8806 + 0.4*93.4286 = 90.6648 -> class 2.
    """
    a = bc.assess_bridge(
        {
            "main_girders": [100, 100, 90],
            "secondary_members": [100, 100],
            "bearings": [100, 100, 100, 75],
            "wing_walls": [100],
            "cone_slopes": [80],
            "piers": [100, 85],
            "abutments": [100, 100],
            "foundations": [90, 90],
            "pavement": [70],
            "expansion_joints": [60, 80],
            "railings": [100],
            "drainage": [90],
        }
    )
    assert a.spci == pytest.approx(95.8806, abs=1e-3)
    assert a.sbci == pytest.approx(93.4286, abs=1e-3)
    assert a.bdci == pytest.approx(74.7059, abs=1e-3)
    assert a.dr == pytest.approx(90.6648, abs=1e-3)
    assert a.klass == 2
    assert a.structure_classes == {"superstructure": 1, "substructure": 2, "deck": 3}


def test_override_4_1_7() -> None:
    """SPCI = SBCI = 62 (class 3), BDCI = 45 (class 4): Dr = 9 + 24.8 + 24.8 = 58.6, class 4
    by the bands, class 3 by 4.1.7."""
    a = bc.assess_bridge({"main_girders": [62], "piers": [62], "pavement": [45]})
    assert a.dr == pytest.approx(58.6)
    assert a.dr_class == 4
    assert a.klass == 3
    assert any("4.1.7" in r for r in a.reasons)


def test_override_4_1_8_main_part_affecting_safety() -> None:
    """Piers [100, 45]: main part with a component < 60 -> PCCI 45 (class 4).
    SBCI = (0.30*45 + 0.30*100 + 0.28*100) / 0.88 = 81.25; Dr = 20 + 40 + 32.5 = 92.5 ->
    class 2, but class 4 when the inspector flags the piers as affecting safety."""
    parts = {
        "main_girders": [100],
        "piers": [100, 45],
        "abutments": [100],
        "foundations": [100],
        "pavement": [100],
    }
    plain = bc.assess_bridge(parts)
    assert plain.sbci == pytest.approx(81.25)
    assert plain.dr == pytest.approx(92.5)
    assert plain.klass == 2
    flagged = bc.assess_bridge(parts, safety_affecting_parts=["piers"])
    assert flagged.klass == 4
    with pytest.raises(GradingError, match="main part"):
        bc.assess_bridge(parts, safety_affecting_parts=["pavement"])


def test_single_control_4_3() -> None:
    """Any single-control condition forces class 5 whatever the score."""
    a = bc.assess_bridge(
        {"main_girders": [100], "piers": [100], "pavement": [100]},
        single_control=["scour_undermined"],
    )
    assert a.dr == 100
    assert a.klass == 5
    with pytest.raises(GradingError, match="single_control"):
        bc.assess_bridge(
            {"main_girders": [100], "piers": [100], "pavement": [100]}, single_control=["aliens"]
        )


def test_bridge_json_and_field_names_in_errors() -> None:
    """The stored JSON form grades the same; bad values name their field."""
    a = bc.assess_bridge_json(
        {
            "parts": {
                "main_girders": [
                    {"defects": [{"scale": 3, "max_scale": 4}, {"scale": 2, "max_scale": 4}]}
                ],
                "piers": [100],
                "pavement": [{"mci": 80}],
            }
        }
    )
    assert a.parts["main_girders"].pcci == pytest.approx(49.3934, abs=1e-3)
    with pytest.raises(GradingError) as info:
        bc.assess_bridge_json(
            {"parts": {"main_girders": [{"mci": 130}], "piers": [1], "pavement": [1]}}
        )
    assert info.value.field == "component_scores.parts.main_girders[0].mci"
    with pytest.raises(GradingError) as info:
        bc.assess_bridge_json(
            {
                "parts": {
                    "main_girders": [{"defects": [{"scale": 9, "max_scale": 5}]}],
                    "piers": [1],
                    "pavement": [1],
                }
            }
        )
    assert info.value.field == "component_scores.parts.main_girders[0].defects[0].scale"
    with pytest.raises(GradingError, match="substructure"):
        bc.assess_bridge_json({"parts": {"main_girders": [90], "pavement": [90]}})


def test_tunnel_jgci() -> None:
    """JGCI = 100 (1 - 1/4 sum(v w)/sum(w)). Lining 2, pavement 1, drainage 3, the rest 0,
    all nine items (sum w = 100): sum(v w) = 80 + 15 + 18 = 113 -> 100 (1 - 0.2825) = 71.75,
    class 2. Lining 3 alone: 100 (1 - 0.3) = 70 -> class 2 by score, 4 by the direct rule."""
    items = {k: 0 for k in tunnel_condition.DEFAULT_WEIGHTS}
    a = tunnel_condition.assess_tunnel({**items, "lining": 2, "pavement": 1, "drainage": [0, 3]})
    assert a.jgci == pytest.approx(71.75)
    assert a.klass == 2
    b = tunnel_condition.assess_tunnel({**items, "lining": 3})
    assert b.jgci == pytest.approx(70.0)
    assert (b.score_class, b.klass) == (2, 4)
    assert tunnel_condition.tunnel_class(84.99) == 2
    assert tunnel_condition.tunnel_class(39.0) == 5
    with pytest.raises(GradingError, match=r"0\.\.4"):
        tunnel_condition.assess_tunnel({"lining": 5})


def test_pavement_mqi_and_sub_indices() -> None:
    """MQI = 0.08*90 + 0.70*85 + 0.12*80 + 0.10*95 = 85.8 (good).
    PCI(DR = 1 %) = 100 - 15*1 = 85. RQI(IRI = 2, expressway) = 100/(1 + 0.026 e^1.3)
    = 91.2907. RDI(5 mm) = 95. PQI = 0.35*85 + 0.30*91.2907 + 0.15*95 + 0.1*100 + 0.1*100
    = 91.3872."""
    assert pavement.mqi(sci=90, pqi_value=85, bci_value=80, tci=95) == pytest.approx(85.8)
    assert pavement.grade(85.8) == "good"
    assert pavement.pci(1.0) == pytest.approx(85.0)
    assert pavement.rqi(2.0) == pytest.approx(91.2907, abs=1e-3)
    assert pavement.rdi(5.0) == 95.0
    p, _ = pavement.pqi({"PCI": 85, "RQI": pavement.rqi(2.0), "RDI": 95, "PBI": 100, "PWI": 100})
    assert p == pytest.approx(91.3872, abs=1e-3)
    assert [pavement.grade(s) for s in (90, 89.9, 70, 60, 59.9)] == [
        "excellent",
        "good",
        "fair",
        "poor",
        "bad",
    ]


def test_pavement_section_json() -> None:
    """Section with worst bridge class 3 (BCI 60): PCI 85, RQI only -> weights 0.35, 0.30
    redistributed as 0.5385/0.4615 over the two measured: PQI = 0.53846*85 + 0.46154*90
    = 87.3077; MQI = 0.08*92 + 0.7*87.3077 + 0.12*60 + 0.1*88 = 84.4754 (good)."""
    a = pavement.assess_section(
        {"sci": 92, "tci": 88, "bridge_classes": [1, 3], "pqi": {"PCI": 85, "RQI": 90}}
    )
    assert a.sub["BCI"] == 60
    assert a.sub["PQI"] == pytest.approx(87.3077, abs=1e-3)
    assert a.mqi == pytest.approx(84.4754, abs=1e-3)
    assert a.grade == "good"
    with pytest.raises(GradingError, match=r"component_scores\.sci"):
        pavement.assess_section({"sci": 120, "tci": 88, "pqi": {"PCI": 85}})


def test_lifecycle_state_machine() -> None:
    """Legal and illegal moves; equipment cannot be 'restricted'; decommissioned is final."""
    assert lifecycle.transition("bridge", "in_service", "restricted").after == "restricted"
    assert "restricted" not in lifecycle.states_for("camera")
    with pytest.raises(GradingError, match="lifecycle_state"):
        lifecycle.transition("camera", "in_service", "restricted")
    with pytest.raises(GradingError, match="terminal"):
        lifecycle.transition("bridge", "decommissioned", "in_service")
    with pytest.raises(GradingError):
        lifecycle.transition("bridge", "planned", "in_service")
    for kind in lifecycle.KINDS:
        for s in lifecycle.states_for(kind):
            for t in lifecycle.allowed_next(kind, s):
                lifecycle.transition(kind, s, t)


def test_core_kinds_match_schema() -> None:
    """The pure core's kinds and states are the database's check-constraint values."""
    from twin import schema

    assert set(lifecycle.KINDS) == set(schema.ASSET_KINDS)
    assert lifecycle.STATES == schema.LIFECYCLE_STATES
    assert lifecycle.WORK_ORDER_STATUSES == schema.WORK_ORDER_STATUSES


def test_work_order_transitions() -> None:
    """open -> assigned -> in_progress -> closed; nothing after closed."""
    lifecycle.work_order_transition("open", "assigned")
    lifecycle.work_order_transition("assigned", "in_progress")
    lifecycle.work_order_transition("in_progress", "closed")
    with pytest.raises(GradingError, match="status"):
        lifecycle.work_order_transition("open", "closed")
    with pytest.raises(GradingError, match="final"):
        lifecycle.work_order_transition("closed", "open")
