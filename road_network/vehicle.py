"""Vehicle profiles for heavy and oversize route checks, with presets and validation.

Dimensions are integer centimetres, masses integer kilograms. A profile is immutable and
hashable, so the passable-edge mask of a profile can be cached.

The presets start from GB 1589-2016 (《汽车、挂车及汽车列车外廓尺寸、轴荷及质量限值》).
The values below are the commonly cited ones (height 4.0 m, width 2.55 m, six-axle
articulated 49 t, single-axle loads 10-11.5 t); STANDARDS.md marks them **unverified
here**, so they live in one table (:data:`GB1589_2016`) that can be corrected without
touching code that uses them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

#: Hazardous-goods tunnel restriction codes (ADR 1.9.5): a vehicle whose load carries code
#: X may not use tunnels of category X or more restrictive (B < C < D < E).
TUNNEL_CODES = ("B", "C", "D", "E")


class VehicleError(ValueError):
    """An invalid vehicle profile; ``field`` names the offending field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


#: GB 1589-2016 limits used as preset defaults. UNVERIFIED against the standard's text
#: (see STANDARDS.md "Vehicles and signs"): height 4.0 m (clause 4.1, table 1), width
#: 2.55 m (4.1), articulated length 17.1 m (4.1, semi-trailer combination), six-axle
#: articulated gross mass 49 t (4.3.2, table 3), single drive axle with twin tyres
#: 11.5 t (4.2, table 2).
GB1589_2016: dict[str, int] = {
    "height_cm": 400,
    "width_cm": 255,
    "length_cm": 1710,
    "gross_weight_kg": 49_000,
    "axle_load_kg": 11_500,
    "axle_count": 6,
}

#: Plausibility bounds: (min, max) per field; anything outside is rejected as absurd.
BOUNDS: dict[str, tuple[float, float]] = {
    "height_cm": (50, 1_000),
    "width_cm": (50, 1_000),
    "length_cm": (100, 10_000),
    "gross_weight_kg": (100, 1_000_000),
    "axle_load_kg": (50, 100_000),
    "axle_count": (1, 40),
}
UNITS = {
    "height_cm": "cm",
    "width_cm": "cm",
    "length_cm": "cm",
    "gross_weight_kg": "kg",
    "axle_load_kg": "kg",
    "axle_count": "axles",
}
#: Gross mass above which a vehicle counts as a heavy goods vehicle (OSM ``hgv=*``): 3.5 t.
HGV_THRESHOLD_KG = 3_500


@dataclass(frozen=True)
class VehicleProfile:
    """The vehicle of a route check.

    Attributes
    ----------
    height_cm, width_cm, length_cm:
        Outer dimensions including the load, in centimetres.
    gross_weight_kg:
        Gross combination mass in kilograms.
    axle_load_kg:
        Heaviest axle load in kilograms.
    axle_count:
        Number of axles.
    hazmat:
        True when carrying dangerous goods (blocked by ``hazmat=no`` edges).
    tunnel_code:
        ADR tunnel restriction code of the load (``B``..``E``) or None.
    name:
        Preset name or a label.
    """

    height_cm: int = GB1589_2016["height_cm"]
    width_cm: int = GB1589_2016["width_cm"]
    length_cm: int = GB1589_2016["length_cm"]
    gross_weight_kg: int = GB1589_2016["gross_weight_kg"]
    axle_load_kg: int = GB1589_2016["axle_load_kg"]
    axle_count: int = GB1589_2016["axle_count"]
    hazmat: bool = False
    tunnel_code: str | None = None
    name: str = "custom"

    @property
    def is_hgv(self) -> bool:
        """Heavier than 3.5 t."""
        return self.gross_weight_kg > HGV_THRESHOLD_KG

    @property
    def tunnel_rank(self) -> int:
        """0 when unrestricted, else 1 (B) .. 4 (E)."""
        return 0 if self.tunnel_code is None else TUNNEL_CODES.index(self.tunnel_code) + 1

    def key(self) -> tuple[Any, ...]:
        """A hashable key of everything that affects passability."""
        return (
            self.height_cm,
            self.width_cm,
            self.length_cm,
            self.gross_weight_kg,
            self.axle_load_kg,
            self.hazmat,
            self.tunnel_code,
        )

    def value(self, kind: str) -> int:
        """The vehicle's value for a limit kind (``height``, ``weight``, ...)."""
        return int(
            {
                "height": self.height_cm,
                "width": self.width_cm,
                "length": self.length_cm,
                "weight": self.gross_weight_kg,
                "axle_load": self.axle_load_kg,
            }[kind]
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON answers)."""
        return asdict(self)


def validate(profile: VehicleProfile) -> VehicleProfile:
    """Check every field; return the profile or raise :class:`VehicleError`.

    Rejects NaN, infinities, negatives, non-integers and values outside :data:`BOUNDS`,
    with a message naming the field, the value, the unit and the valid range.
    """
    for name, (lo, hi) in BOUNDS.items():
        v = getattr(profile, name)
        unit = UNITS[name]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise VehicleError(f"{name}={v!r}: must be a number in {unit}", field=name)
        if isinstance(v, float) and not math.isfinite(v):
            raise VehicleError(f"{name}={v}: must be a finite number in {unit}", field=name)
        if v <= 0:
            raise VehicleError(f"{name}={v} {unit}: must be positive", field=name)
        if not lo <= v <= hi:
            raise VehicleError(
                f"{name}={v} {unit}: outside the plausible range {lo:g}..{hi:g} {unit}",
                field=name,
            )
    if profile.axle_load_kg > profile.gross_weight_kg:
        raise VehicleError(
            f"axle_load_kg={profile.axle_load_kg} kg exceeds gross_weight_kg="
            f"{profile.gross_weight_kg} kg",
            field="axle_load_kg",
        )
    if profile.tunnel_code is not None and profile.tunnel_code not in TUNNEL_CODES:
        raise VehicleError(
            f"tunnel_code={profile.tunnel_code!r}: must be one of {', '.join(TUNNEL_CODES)}",
            field="tunnel_code",
        )
    return profile


def make_profile(
    *,
    preset: str | None = None,
    height_m: float | None = None,
    width_m: float | None = None,
    length_m: float | None = None,
    weight_t: float | None = None,
    axle_load_t: float | None = None,
    axle_count: int | None = None,
    hazmat: bool | None = None,
    tunnel_code: str | None = None,
) -> VehicleProfile:
    """A validated profile from a preset and/or values in metres and tonnes.

    Values given override the preset's (default preset: ``gb1589``). Metres and tonnes are
    converted to integer centimetres and kilograms (rounded to the nearest unit).
    """
    base = preset_profile(preset or "gb1589")
    changes: dict[str, Any] = {}
    for field, value, factor in (
        ("height_cm", height_m, 100),
        ("width_cm", width_m, 100),
        ("length_cm", length_m, 100),
        ("gross_weight_kg", weight_t, 1000),
        ("axle_load_kg", axle_load_t, 1000),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise VehicleError(f"{field}: {value!r} is not a number", field=field)
        if not math.isfinite(value):
            unit = "m" if factor == 100 else "t"
            raise VehicleError(f"{field}: {value} {unit} is not a finite number", field=field)
        if value <= 0:
            unit = "m" if factor == 100 else "t"
            raise VehicleError(f"{field}: {value} {unit} must be positive", field=field)
        changes[field] = round(value * factor)
    if axle_count is not None:
        changes["axle_count"] = axle_count
    if hazmat is not None:
        changes["hazmat"] = hazmat
    if tunnel_code is not None:
        changes["tunnel_code"] = tunnel_code.upper()
    if changes:
        changes["name"] = f"{base.name} (modified)" if preset else "custom"
    return validate(replace(base, **changes))


def preset_profile(name: str) -> VehicleProfile:
    """The preset called ``name`` (see :data:`PRESETS`)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise VehicleError(
            f"preset={name!r}: unknown; choose one of {', '.join(sorted(PRESETS))}",
            field="preset",
        ) from None


#: Named profiles. Values other than GB 1589-2016's are typical figures for the vehicle
#: type (manufacturer data sheets), not legal limits.
PRESETS: dict[str, VehicleProfile] = {
    "gb1589": VehicleProfile(name="gb1589"),
    # 40 ft high-cube container (2.896 m) on a skeletal semi-trailer: ~4.10 m overall.
    "container40hc": VehicleProfile(
        height_cm=410,
        width_cm=255,
        length_cm=1650,
        gross_weight_kg=40_000,
        axle_load_kg=10_000,
        axle_count=5,
        name="container40hc",
    ),
    "artic49t": VehicleProfile(
        height_cm=400,
        width_cm=255,
        length_cm=1710,
        gross_weight_kg=49_000,
        axle_load_kg=11_500,
        axle_count=6,
        name="artic49t",
    ),
    # Low-bed semi-trailer carrying an oversize indivisible load (permit transport).
    "lowbed_oversize": VehicleProfile(
        height_cm=450,
        width_cm=350,
        length_cm=2200,
        gross_weight_kg=70_000,
        axle_load_kg=13_000,
        axle_count=7,
        name="lowbed_oversize",
    ),
    "van": VehicleProfile(
        height_cm=260,
        width_cm=200,
        length_cm=600,
        gross_weight_kg=3_500,
        axle_load_kg=2_000,
        axle_count=2,
        name="van",
    ),
}
