"""Exports of assets, inspections and work orders to CSV and Excel, and the atomic bulk
import of inspection history from CSV with line-numbered rejections.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert, select

from twin.errors import InputError
from twin.services.assets import A, DbLike, I, audit, conn_of, grade, jsonable
from twin.services.work_orders import W

EXPORT_FORMATS = ("csv", "xlsx")
EXPORTS = ("assets", "inspections", "work_orders")

_COLUMNS: dict[str, list[str]] = {
    "assets": [
        "id", "external_id", "kind", "name_zh", "name_en", "road_code", "stake_m",
        "lifecycle_state", "owner", "built_on", "lon", "lat", "condition_class",
        "overall_score", "last_inspected_on", "aadt", "heavy_vehicle_share",
        "traffic_synthetic",
    ],
    "inspections": [
        "id", "asset_id", "external_id", "inspected_on", "inspector", "kind", "overall_score",
        "condition_class", "grade", "synthetic", "notes", "component_scores",
    ],
    "work_orders": [
        "id", "asset_id", "inspection_id", "plan_id", "kind", "status", "title", "assignee",
        "estimated_cost_cny", "cost_cny", "opened_on", "due_on", "closed_on",
    ],
}  # fmt: skip

#: Columns of the inspection-history CSV (``asset_id`` or ``external_id`` identifies the
#: asset; ``component_scores`` JSON is graded by the standard, otherwise ``condition_class``
#: and/or ``overall_score`` are taken as recorded).
IMPORT_COLUMNS = (
    "asset_id", "external_id", "inspected_on", "inspector", "kind", "condition_class",
    "overall_score", "component_scores", "notes", "synthetic",
)  # fmt: skip


def export_rows(db: DbLike, what: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of one export (``assets``, ``inspections``, ``work_orders``)."""
    from twin.services.assets import list_assets

    if what not in EXPORTS:
        raise InputError(f"export {what!r} is unknown; use one of {', '.join(EXPORTS)}")
    cols = _COLUMNS[what]
    conn = conn_of(db)
    if what == "assets":
        recs: Iterable[dict[str, Any]] = list_assets(conn, limit=10_000)
    elif what == "inspections":
        q = (
            select(I, A.c.external_id)
            .join(A, A.c.id == I.c.asset_id)
            .order_by(I.c.asset_id, I.c.inspected_on)
        )
        recs = (jsonable(dict(r._mapping)) for r in conn.execute(q))
    else:
        recs = (jsonable(dict(r._mapping)) for r in conn.execute(select(W).order_by(W.c.id)))
    rows = []
    for rec in recs:
        attrs = rec.get("attributes") or {}
        rows.append([_cell(rec[c] if c in rec else attrs.get(c)) for c in cols])
    return cols, rows


def _cell(v: Any) -> Any:
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return v


def export_bytes(db: DbLike, what: str, *, fmt: str) -> bytes:
    """One export as CSV (UTF-8 with BOM, so Excel opens Chinese names) or XLSX bytes."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"format = {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    cols, rows = export_rows(db, what)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(cols)
        w.writerows(rows)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(what)
    ws.append(cols)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def import_inspections_csv(
    db: DbLike, data: str | bytes, *, actor: str, file_name: str = "<upload>"
) -> dict[str, Any]:
    """Import inspection history from CSV, all or nothing.

    Every row is checked first (asset exists, date valid and not before construction,
    scores in range); when any row is bad, :class:`InputError` lists each rejection with
    its line number and field, and nothing is written.
    """
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    if unknown or "inspected_on" not in header or not ({"asset_id", "external_id"} & set(header)):
        raise InputError(
            f"{file_name}: line 1: header {header} is invalid; columns are "
            f"{', '.join(IMPORT_COLUMNS)} (inspected_on and asset_id or external_id required)"
        )
    conn = conn_of(db)
    assets = {
        r.id: dict(r._mapping)
        for r in conn.execute(select(A.c.id, A.c.external_id, A.c.kind, A.c.built_on))
    }
    by_ext = {a["external_id"]: a for a in assets.values()}
    good: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for line, row in enumerate(reader, start=2):
        try:
            good.append(_import_row(row, assets=assets, by_ext=by_ext))
        except _RowError as exc:
            errors.append({"line": line, "field": exc.field, "message": exc.message})
    if errors:
        first = errors[0]
        raise InputError(
            f"{file_name}: {len(errors)} row(s) rejected, nothing imported; first: line "
            f"{first['line']}: {first['field']}: {first['message']}",
            details=errors[:200],
        )
    if not good:
        raise InputError(f"{file_name}: no data rows")
    conn.execute(insert(I), good)
    audit(
        conn,
        actor=actor,
        action="import_inspections",
        entity="inspection",
        entity_id=file_name,
        before=None,
        after={"rows": len(good), "assets": len({g["asset_id"] for g in good})},
    )
    return {"imported": len(good), "assets": len({g["asset_id"] for g in good}), "file": file_name}


class _RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _import_row(
    row: dict[str, Any], *, assets: dict[int, dict[str, Any]], by_ext: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    asset = _row_asset(row, assets=assets, by_ext=by_ext)
    raw_date = (row.get("inspected_on") or "").strip()
    try:
        day = dt.date.fromisoformat(raw_date)
    except ValueError:
        raise _RowError("inspected_on", f"{raw_date!r} is not a date YYYY-MM-DD") from None
    if asset["built_on"] and day < asset["built_on"]:
        raise _RowError(
            "inspected_on", f"{day} is before the asset was built ({asset['built_on']})"
        )
    if day > dt.date.today():
        raise _RowError("inspected_on", f"{day} is in the future")
    cs_raw = (row.get("component_scores") or "").strip()
    score: float | None
    if cs_raw:
        try:
            cs = json.loads(cs_raw)
        except json.JSONDecodeError as exc:
            raise _RowError("component_scores", f"not valid JSON: {exc.msg}") from None
        try:
            res = grade(asset["kind"], cs)
        except InputError as exc:
            field = (exc.details or {}).get("field", "component_scores")
            raise _RowError(field, exc.message) from None
        klass, score, grade_s = res["class"], res["score"], res["grade"]
        cs = {**cs, "assessment": res["detail"]}
    else:
        cs = {}
        klass = _opt_int(row, "condition_class", 1, 5)
        score = _opt_float(row, "overall_score", 0.0, 100.0)
        if klass is None and score is None:
            raise _RowError(
                "condition_class", "give condition_class, overall_score or component_scores"
            )
        if klass is None and score is not None:
            from assets.bridge_condition import condition_class

            klass = condition_class(score)
        grade_s = f"class {klass}"
    synthetic = (row.get("synthetic") or "").strip().lower() in ("1", "true", "yes")
    return {
        "asset_id": asset["id"],
        "inspected_on": day,
        "inspector": (row.get("inspector") or None),
        "kind": (row.get("kind") or "periodic")[:24],
        "component_scores": jsonable(cs),
        "overall_score": None if score is None else round(min(100.0, float(score)), 3),
        "condition_class": klass,
        "grade": grade_s,
        "notes": row.get("notes") or None,
        "synthetic": synthetic,
        "source": {"import": True},
    }


def _row_asset(
    row: dict[str, Any], *, assets: dict[int, dict[str, Any]], by_ext: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    raw_id = (row.get("asset_id") or "").strip()
    if raw_id:
        try:
            aid = int(raw_id)
        except ValueError:
            raise _RowError("asset_id", f"{raw_id!r} is not an integer id") from None
        if aid not in assets:
            raise _RowError("asset_id", f"asset {aid} does not exist")
        return assets[aid]
    ext = (row.get("external_id") or "").strip()
    if ext not in by_ext:
        raise _RowError("external_id", f"asset {ext!r} does not exist")
    return by_ext[ext]


def _opt_int(row: dict[str, Any], name: str, lo: int, hi: int) -> int | None:
    raw = (row.get(name) or "").strip()
    if not raw:
        return None
    try:
        v = int(raw)
    except ValueError:
        raise _RowError(name, f"{raw!r} is not an integer {lo}..{hi}") from None
    if not lo <= v <= hi:
        raise _RowError(name, f"{v} is out of range {lo}..{hi}")
    return v


def _opt_float(row: dict[str, Any], name: str, lo: float, hi: float) -> float | None:
    raw = (row.get(name) or "").strip()
    if not raw:
        return None
    try:
        v = float(raw)
    except ValueError:
        raise _RowError(name, f"{raw!r} is not a number {lo:g}..{hi:g}") from None
    if not lo <= v <= hi:
        raise _RowError(name, f"{v:g} is out of range {lo:g}..{hi:g}")
    return v


def history_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Inspection rows (as from :func:`twin.services.assets.list_inspections`) as an
    import-compatible CSV (round trip)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(IMPORT_COLUMNS))
    w.writeheader()
    for r in rows:
        w.writerow(
            {
                "asset_id": r["asset_id"],
                "inspected_on": r["inspected_on"],
                "inspector": r.get("inspector") or "",
                "kind": r.get("kind") or "periodic",
                "condition_class": r.get("condition_class") or "",
                "overall_score": "" if r.get("overall_score") is None else r["overall_score"],
                "notes": r.get("notes") or "",
                "synthetic": "true" if r.get("synthetic") else "false",
            }
        )
    return buf.getvalue()
