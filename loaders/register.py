"""Asset registers (CSV, Excel, GeoPackage) read into validated rows.

A register is a table of assets (bridges, tunnels, underpasses, signs, pavement sections,
RSUs ...) keyed by an asset id, placed by road code + stake (``K12+345``) or by
coordinates. Columns are mapped by the small declared schema :data:`COLUMNS`, whose
aliases include the Chinese headers registers use (资产编号, 类型, 名称, 路线编号, 桩号 ...).
A unit in brackets after a header (``限高(m)``, ``限重（t）``) is the unit of bare numbers in
that column.

This module is pure: it reads the file it is given and returns rows and rejections; the
placing of stakes on roads and the writing happen in ``twin/services/registers.py``.
Every rejected row keeps its line number (CSV: the physical line of the record; Excel: the
sheet row; GeoPackage: the feature id) and a reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assets.lifecycle import KINDS as ASSET_KINDS
from assets.lifecycle import STATES as LIFECYCLE_STATES
from loaders.osm_tags import Parsed, parse_length_cm, parse_weight_kg
from road_network.stake import StakeError, parse_stake

__all__ = [
    "ASSET_KINDS",
    "COLUMNS",
    "Column",
    "Register",
    "RegisterError",
    "RegisterRow",
    "Rejection",
    "normalise_kind",
    "read_register",
]

_KIND_ALIASES = {
    "桥": "bridge",
    "桥梁": "bridge",
    "大桥": "bridge",
    "隧道": "tunnel",
    "下穿通道": "underpass",
    "通道": "underpass",
    "下穿": "underpass",
    "涵洞": "culvert",
    "门架": "gantry",
    "标志": "sign",
    "标志牌": "sign",
    "交通标志": "sign",
    "路面": "pavement_section",
    "路面段": "pavement_section",
    "pavement": "pavement_section",
    "护栏": "guardrail",
    "照明": "lighting",
    "路灯": "lighting",
    "多功能杆": "multi_function_pole",
    "路侧单元": "rsu",
    "路侧设备": "rsu",
    "摄像机": "camera",
    "摄像头": "camera",
    "气象站": "weather_station",
    "限高架": "height_restrictor",
}
_STATES = {
    "在役": "in_service",
    "正常": "in_service",
    "养护中": "under_maintenance",
    "维修中": "under_maintenance",
    "规划": "planned",
    "在建": "under_construction",
    "限行": "restricted",
    "封闭": "closed",
    "报废": "decommissioned",
    "拆除": "decommissioned",
}
#: Mainland China with a margin: coordinates outside are rejected as implausible.
CHINA_BBOX = (73.0, 17.5, 135.5, 54.0)


class RegisterError(ValueError):
    """The file as a whole cannot be read (format, encoding, missing columns)."""


@dataclass(frozen=True)
class Column:
    """One field of the declared schema.

    Attributes
    ----------
    field:
        The name used by the twin.
    aliases:
        Headers accepted for it (compared case-, space- and bracket-insensitively).
    unit:
        Default unit of bare numbers (limits only): ``m`` or ``t``.
    """

    field: str
    aliases: tuple[str, ...]
    unit: str | None = None


COLUMNS: tuple[Column, ...] = (
    Column(
        "external_id", ("external_id", "asset_id", "id", "资产编号", "编号", "设施编号", "资产id")
    ),
    Column("kind", ("kind", "type", "asset_kind", "类型", "资产类型", "设施类型")),
    Column("name_zh", ("name_zh", "name", "名称", "中文名称", "资产名称", "桥名", "桥梁名称")),
    Column("name_en", ("name_en", "english_name", "名称(英文)", "英文名称")),
    Column("road_code", ("road_code", "road", "route", "路线编号", "路线代码", "路线", "路线号")),
    Column("stake", ("stake", "stake_start", "桩号", "起点桩号", "中心桩号", "起始桩号")),
    Column("stake_end", ("stake_end", "止点桩号", "终点桩号", "终止桩号")),
    Column("stake_m", ("stake_m", "measure_m", "里程")),
    Column("lon", ("lon", "lng", "longitude", "x", "经度")),
    Column("lat", ("lat", "latitude", "y", "纬度")),
    Column("height", ("max_height", "maxheight", "height_limit", "限高", "净高"), unit="m"),
    Column("width", ("max_width", "maxwidth", "width_limit", "限宽"), unit="m"),
    Column("weight", ("max_weight", "maxweight", "weight_limit", "限重", "限载"), unit="t"),
    Column("axle_load", ("max_axle_load", "maxaxleload", "axle_load_limit", "限轴重"), unit="t"),
    Column("owner", ("owner", "管养单位", "产权单位", "管理单位")),
    Column("built_year", ("built_year", "year_built", "建成年份", "建设年份", "通车年份")),
    Column("built_on", ("built_on", "建成日期")),
    Column("state", ("state", "status", "lifecycle_state", "状态")),
    Column("range_m", ("range_m", "range", "通信半径", "覆盖半径")),
    Column("message_sets", ("message_sets", "消息集")),
    Column("design_load", ("design_load", "设计荷载")),
)
_LIMIT_FIELDS = {"height": "length", "width": "length", "weight": "mass", "axle_load": "mass"}


@dataclass
class RegisterRow:
    """One valid row: what the twin needs to place and write an asset."""

    line: int
    external_id: str
    kind: str | None
    name_zh: str | None = None
    name_en: str | None = None
    road_code: str | None = None
    stake_m: float | None = None
    stake_end_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    geometry: Any = None
    owner: str | None = None
    built_on: dt.date | None = None
    state: str | None = None
    limits: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """A row left out, with its line number and the reason."""

    line: int
    reason: str
    external_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports."""
        return {"line": self.line, "external_id": self.external_id, "reason": self.reason}


@dataclass
class Register:
    """A read register: valid rows, rejections and how the file was read."""

    path: str
    format: str
    encoding: str | None
    columns: dict[str, str]
    unmapped: list[str]
    rows: list[RegisterRow]
    rejections: list[Rejection]
    rows_read: int
    crs: str | None = None


def normalise_kind(raw: str | None) -> str | None:
    """Map a kind (English or Chinese) to the twin's kinds; None when unknown."""
    if raw is None:
        return None
    s = str(raw).strip()
    if not s:
        return None
    low = s.lower().replace(" ", "_").replace("-", "_")
    if low in ASSET_KINDS:
        return low
    return _KIND_ALIASES.get(s) or _KIND_ALIASES.get(low)


_BRACKETS = re.compile(r"[\(（\[【]\s*([^\)）\]】]*)\s*[\)）\]】]")


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.strip().lower().replace("（", "(").replace("）", ")"))


def _alias_table() -> dict[str, Column]:
    table: dict[str, Column] = {}
    for col in COLUMNS:
        for a in col.aliases:
            table[_norm(a)] = col
    return table


_ALIASES = _alias_table()


def map_columns(headers: Iterable[str]) -> tuple[dict[str, tuple[str, str | None]], list[str]]:
    """Map file headers to schema fields.

    Returns
    -------
    mapping, unmapped
        ``{header: (field, unit_in_header)}`` and the headers kept as attributes.
    """
    mapping: dict[str, tuple[str, str | None]] = {}
    unmapped: list[str] = []
    taken: set[str] = set()
    for h in headers:
        if h is None:
            continue
        key = _norm(str(h))
        col = _ALIASES.get(key)
        unit = None
        if col is None:
            m = _BRACKETS.search(key)
            if m:
                unit = m.group(1).strip() or None
                col = _ALIASES.get(_BRACKETS.sub("", key))
        if col is None or col.field in taken:
            unmapped.append(str(h))
            continue
        taken.add(col.field)
        mapping[str(h)] = (col.field, unit)
    return mapping, unmapped


# ----------------------------------------------------------------------------- reading


def detect_encoding(data: bytes) -> str:
    """``utf-8`` (with or without BOM) or ``gb18030`` (a superset of GBK and GB2312).

    Hand-written rather than a detector library: a register is either UTF-8 or one of the
    Chinese national encodings, and strict UTF-8 decoding tells them apart reliably
    (GBK text is almost never valid UTF-8), whereas statistical detectors misread short
    files.
    """
    try:
        data.decode("utf-8")
        return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise RegisterError(
            f"cannot decode the file as UTF-8 or GBK/GB18030 (byte {exc.start}): "
            "save it as UTF-8 CSV"
        ) from None


def _csv_records(path: Path) -> tuple[str, list[str], Iterator[tuple[int, dict[str, Any]]]]:
    data = path.read_bytes()
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    try:
        headers = next(reader)
    except StopIteration:
        raise RegisterError(f"{path.name}: the file is empty") from None
    except csv.Error as exc:
        raise RegisterError(f"{path.name} line 1: {exc}") from None
    headers = [h.strip() for h in headers]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise RegisterError(f"{path.name} line {reader.line_num}: {exc}") from None
            if not any(c.strip() for c in rec):
                continue
            yield reader.line_num, dict(zip(headers, rec, strict=False))

    return encoding, headers, rows()


def _excel_records(
    path: Path, sheet: str | None
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise RegisterError(f"{path.name}: not a readable Excel workbook ({exc})") from None
    if sheet is not None and sheet not in wb.sheetnames:
        raise RegisterError(f"{path.name}: no sheet {sheet!r}; sheets are {wb.sheetnames}")
    ws = wb[sheet] if sheet else wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    headers: list[str] = []
    header_row = 0
    for i, row in enumerate(it, 1):
        if any(c not in (None, "") for c in row):
            headers = [str(c).strip() if c is not None else "" for c in row]
            header_row = i
            break
    if not headers:
        raise RegisterError(f"{path.name}: the sheet {ws.title!r} is empty")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for i, row in enumerate(it, header_row + 1):
            if all(c in (None, "") for c in row):
                continue
            yield i, dict(zip(headers, row, strict=False))
        wb.close()

    return headers, rows()


def _geo_records(
    path: str, layer: str | None
) -> tuple[list[str], str | None, Iterator[tuple[int, dict[str, Any]]]]:
    import pyogrio

    try:
        df = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except Exception as exc:  # pyogrio wraps GDAL errors in several classes
        raise RegisterError(f"{Path(path).name}: cannot read as a GIS layer ({exc})") from None
    crs = None
    if df.crs is not None:
        crs = df.crs.to_string()
        if df.crs.to_epsg() != 4326:
            df = df.to_crs(4326)
    headers = [c for c in df.columns if c != "geometry"]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for fid, rec in zip(df.index, df.to_dict("records"), strict=True):
            yield int(fid), rec

    return headers, crs, rows()


def read_register(
    path: str | Path,
    *,
    default_kind: str | None = None,
    sheet: str | None = None,
) -> Register:
    """Read and validate a register file.

    Parameters
    ----------
    path:
        ``.csv``/``.txt`` (UTF-8 or GBK, detected), ``.xlsx``/``.xlsm`` or a GIS layer
        (``.gpkg``, ``.geojson``, ``.shp``; the geometry places the asset).
    default_kind:
        Kind for rows without a kind column or value (``bridge``, ``rsu`` ...).
    sheet:
        Excel sheet or GIS layer name (default: the first).

    Returns
    -------
    Register
        Valid rows and rejections (line + reason). Placing stakes on roads is left to
        the caller, which knows the roads.

    Raises
    ------
    RegisterError
        When the file as a whole cannot be read or lacks an id column.
    """
    p = Path(path)
    if default_kind is not None and normalise_kind(default_kind) is None:
        raise RegisterError(
            f"--kind {default_kind!r} is not an asset kind; valid: {', '.join(ASSET_KINDS)}"
        )
    suffix = p.suffix.lower()
    encoding: str | None = None
    crs: str | None = None
    if str(path).startswith("/vsi") or suffix in (".gpkg", ".geojson", ".json", ".shp", ".fgb"):
        fmt = "gis"
        headers, crs, records = _geo_records(str(path), sheet)
    elif not p.is_file():
        raise RegisterError(f"{path}: no such file")
    elif suffix in (".xlsx", ".xlsm"):
        fmt = "excel"
        headers, records = _excel_records(p, sheet)
    elif suffix in (".csv", ".txt", ".tsv"):
        fmt = "csv"
        encoding, headers, records = _csv_records(p)
    else:
        raise RegisterError(
            f"{p.name}: unknown register format {suffix!r}; use .csv, .xlsx or .gpkg"
        )
    mapping, unmapped = map_columns(headers)
    fields = {f for f, _u in mapping.values()}
    if "external_id" not in fields:
        raise RegisterError(
            f"{p.name}: no asset id column; name one of "
            f"{', '.join(COLUMNS[0].aliases)} (headers found: {', '.join(map(str, headers))})"
        )
    rows: list[RegisterRow] = []
    rejections: list[Rejection] = []
    seen: dict[str, int] = {}
    n = 0
    for line, rec in records:
        n += 1
        try:
            row = _row(line, rec, mapping, unmapped, default_kind=default_kind)
        except _Reject as r:
            rejections.append(Rejection(line, str(r), r.external_id))
            continue
        if row.external_id in seen:
            rejections.append(
                Rejection(
                    line,
                    f"duplicate asset id {row.external_id!r} (first on line "
                    f"{seen[row.external_id]})",
                    row.external_id,
                )
            )
            continue
        seen[row.external_id] = line
        rows.append(row)
    return Register(
        path=str(path),
        format=fmt,
        encoding=encoding,
        columns={h: f for h, (f, _u) in mapping.items()},
        unmapped=unmapped,
        rows=rows,
        rejections=rejections,
        rows_read=n,
        crs=crs,
    )


# ----------------------------------------------------------------------------- one row


class _Reject(Exception):
    def __init__(self, reason: str, external_id: str | None = None) -> None:
        super().__init__(reason)
        self.external_id = external_id


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _text(v: Any) -> str | None:
    if _blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _row(
    line: int,
    rec: Mapping[str, Any],
    mapping: Mapping[str, tuple[str, str | None]],
    unmapped: list[str],
    *,
    default_kind: str | None,
) -> RegisterRow:
    vals: dict[str, Any] = {}
    units: dict[str, str | None] = {}
    for header, (fname, unit) in mapping.items():
        vals[fname] = rec.get(header)
        units[fname] = unit
    ext = _text(vals.get("external_id"))
    if ext is None:
        raise _Reject("missing asset id")
    raw_kind = _text(vals.get("kind"))
    kind = normalise_kind(raw_kind) if raw_kind else normalise_kind(default_kind)
    if raw_kind and kind is None:
        raise _Reject(
            f"unknown kind {raw_kind!r}; valid: {', '.join(ASSET_KINDS)} "
            "(or 桥梁, 隧道, 下穿通道, 标志, 门架, 路面, 路侧单元 ...)",
            ext,
        )
    row = RegisterRow(line=line, external_id=ext, kind=kind)
    row.name_zh = _text(vals.get("name_zh"))
    row.name_en = _text(vals.get("name_en"))
    row.road_code = _text(vals.get("road_code"))
    row.owner = _text(vals.get("owner"))
    try:
        stake = _text(vals.get("stake"))
        row.stake_m = parse_stake(stake) if stake is not None else None
        metres = _text(vals.get("stake_m"))
        if row.stake_m is None and metres is not None:
            try:
                row.stake_m = parse_stake(float(metres))
            except ValueError:
                raise StakeError(f"measure {metres!r} is not a number of metres") from None
        stake_end = _text(vals.get("stake_end"))
        row.stake_end_m = parse_stake(stake_end) if stake_end is not None else None
    except StakeError as exc:
        raise _Reject(f"bad stake: {exc}", ext) from None
    if row.stake_end_m is not None and row.stake_m is None:
        raise _Reject("an end stake needs a start stake (桩号/起点桩号)", ext)
    if row.stake_m is not None and row.stake_end_m is not None and row.stake_end_m <= row.stake_m:
        raise _Reject(
            f"end stake {row.stake_end_m:.1f} m is not after start stake {row.stake_m:.1f} m", ext
        )
    if row.stake_m is not None and row.road_code is None:
        raise _Reject("a stake needs a road code (路线编号)", ext)
    _coordinates(row, vals, rec)
    _limits(row, vals, units)
    _dates(row, vals)
    state = _text(vals.get("state"))
    if state is not None:
        s = _STATES.get(state, state.lower().replace(" ", "_"))
        if s not in LIFECYCLE_STATES:
            raise _Reject(f"unknown state {state!r}; valid: {', '.join(LIFECYCLE_STATES)}", ext)
        row.state = s
    rng = _text(vals.get("range_m"))
    if rng is not None:
        try:
            row.attributes["range_m"] = float(rng.lower().removesuffix("m").strip())
        except ValueError:
            raise _Reject(f"range {rng!r} is not a number of metres", ext) from None
    msets = _text(vals.get("message_sets"))
    if msets is not None:
        row.attributes["message_sets"] = [m.strip() for m in re.split(r"[;,；、/ ]+", msets) if m]
    dl = _text(vals.get("design_load"))
    if dl is not None:
        row.attributes["design_load"] = dl
    for h in unmapped:
        v = rec.get(h)
        if not _blank(v) and h:
            row.attributes[h] = v if isinstance(v, int | float | bool) else str(v).strip()
    return row


def _coordinates(row: RegisterRow, vals: Mapping[str, Any], rec: Mapping[str, Any]) -> None:
    geom = rec.get("geometry")
    if geom is not None and not getattr(geom, "is_empty", True):
        if not geom.is_valid:
            raise _Reject("invalid geometry", row.external_id)
        minx, miny, maxx, maxy = geom.bounds
        _check_lonlat(row, minx, miny)
        _check_lonlat(row, maxx, maxy)
        row.geometry = geom
        return
    lon_raw, lat_raw = _text(vals.get("lon")), _text(vals.get("lat"))
    if lon_raw is None and lat_raw is None:
        return
    if lon_raw is None or lat_raw is None:
        raise _Reject("bad coordinates: longitude and latitude must both be given", row.external_id)
    try:
        lon, lat = float(lon_raw), float(lat_raw)
    except ValueError:
        raise _Reject(
            f"bad coordinates: {lon_raw!r}, {lat_raw!r} are not decimal degrees", row.external_id
        ) from None
    _check_lonlat(row, lon, lat)
    row.lon, row.lat = lon, lat


def _check_lonlat(row: RegisterRow, lon: float, lat: float) -> None:
    x0, y0, x1, y1 = CHINA_BBOX
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise _Reject("bad coordinates: not finite", row.external_id)
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        return
    if x0 <= lat <= x1 and y0 <= lon <= y1:
        raise _Reject(
            f"bad coordinates: lon {lon}, lat {lat} look swapped (latitude first?)",
            row.external_id,
        )
    raise _Reject(
        f"bad coordinates: lon {lon}, lat {lat} are outside China "
        f"({x0}..{x1} E, {y0}..{y1} N; WGS84/CGCS2000 degrees expected)",
        row.external_id,
    )


def _limits(row: RegisterRow, vals: Mapping[str, Any], units: Mapping[str, str | None]) -> None:
    for fname, dim in _LIMIT_FIELDS.items():
        raw = _text(vals.get(fname))
        if raw is None:
            continue
        unit = units.get(fname) or next(c.unit for c in COLUMNS if c.field == fname)
        text = raw
        if re.fullmatch(r"[0-9]+(?:[.,][0-9]+)?", raw):
            text = f"{raw} {unit}"
        parsed: Parsed = parse_length_cm(text) if dim == "length" else parse_weight_kg(text)
        if not parsed.is_value or parsed.value is None:
            what = "cm/m" if dim == "length" else "t/kg"
            raise _Reject(
                f"bad {fname} limit {raw!r} (unit {unit}): expected a number in {what}",
                row.external_id,
            )
        row.limits[fname] = int(parsed.value)


def _dates(row: RegisterRow, vals: Mapping[str, Any]) -> None:
    on = vals.get("built_on")
    if isinstance(on, dt.datetime):
        row.built_on = on.date()
    elif isinstance(on, dt.date):
        row.built_on = on
    elif _text(on) is not None:
        try:
            row.built_on = dt.date.fromisoformat(str(_text(on)))
        except ValueError:
            raise _Reject(f"bad date {on!r}: expected YYYY-MM-DD", row.external_id) from None
    year = _text(vals.get("built_year"))
    if year is not None and row.built_on is None:
        try:
            y = int(float(year))
        except ValueError:
            raise _Reject(f"bad year {year!r}", row.external_id) from None
        if not 1800 <= y <= dt.date.today().year + 5:
            raise _Reject(f"implausible year {y}", row.external_id)
        row.built_on = dt.date(y, 1, 1)
        row.attributes["built_year"] = y
