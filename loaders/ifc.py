"""IFC files through IfcOpenShell: checking, opening, elements, property sets, limits.

Pure core: reads the path it is given, never touches the database. Errors are
:class:`IfcError` (a ``ValueError``) with messages naming the file, line, entity and
what would be valid; the shell translates them to ``InputError``.

IfcOpenShell is lenient: it opens a truncated file, a file with dangling ``#id``
references or unknown entity names and silently drops what it cannot read. So
:func:`scan_step` checks the STEP text itself (header, schema, end marker, every
reference) in the same single pass that computes the file's sha256, before anything is
imported.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ifcopenshell

#: FILE_SCHEMA names IfcOpenShell reads, mapped to the schema it reads them with.
SUPPORTED_SCHEMAS: dict[str, str] = {
    "IFC2X3": "IFC2X3",
    "IFC4": "IFC4",
    "IFC4X3": "IFC4X3_ADD2",
    "IFC4X3_ADD2": "IFC4X3_ADD2",
    "IFC4X3_TC1": "IFC4X3_ADD2",
    "IFC4X3_ADD1": "IFC4X3_ADD2",
}
#: Pre-release schemas we migrate (see loaders/ifc_migrate.py).
MIGRATABLE_SCHEMAS = ("IFC4X3_RC2",)

_HEADER_BYTES = 65536
_SCHEMA_RE = re.compile(r"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_FILE_NAME_RE = re.compile(r"FILE_NAME\s*\((.*?)\)\s*;", re.IGNORECASE | re.DOTALL)
# anchored on a preceding newline (each chunk is given one), not on (?m)^: the literal
# prefix lets the regex engine skip ahead, ~2x faster
_DEFS_RE = re.compile(rb"\n[ \t]*#(\d+)[ \t]*=[ \t]*([A-Za-z0-9_]*)")
_REF_RE = re.compile(rb"#(\d+)")
_STR_RE = re.compile(rb"'(?:[^']|'')*'")
# removing each quoted run drops a string with '' escapes too (its runs are adjacent)
_STR_DROP_RE = re.compile(rb"'[^']*'")
_COMMENT_RE = re.compile(rb"/\*.*?\*/", re.DOTALL)
_DATA_RE = re.compile(rb"(?m)^[ \t]*DATA[ \t]*;")
# the literal first, its line start checked after (_end_marker): a (?m)^[ \t]* prefix
# makes the engine try every position, 60 ms of a 2.4 MB file's 160 ms scan
_END_RE = re.compile(rb"END-ISO-10303-21[ \t]*;")
_CHUNK_BYTES = 4 << 20


class IfcError(ValueError):
    """An IFC file that cannot be imported; the message says where and why."""


@dataclass
class StepScan:
    """What one pass over the STEP text found."""

    path: Path
    sha256: str
    size_bytes: int
    header_schema: str
    originating_system: str | None
    entity_count: int
    entity_classes: dict[str, int] = field(default_factory=dict)

    @property
    def needs_migration(self) -> bool:
        """True for a pre-release schema that must be migrated before opening."""
        return self.header_schema in MIGRATABLE_SCHEMAS


@dataclass
class ModelInfo:
    """Model-level facts for ``bim_model``."""

    schema: str
    authoring_app: str | None
    units: dict[str, Any]
    length_unit_m: float
    mass_unit_kg: float


@dataclass
class ElementRecord:
    """One IfcProduct for ``bim_element``."""

    global_id: str
    ifc_class: str
    name: str | None
    container: str | None
    psets: dict[str, Any]
    quantities: dict[str, Any]


@dataclass
class LimitCandidate:
    """A clearance or load found in a property set or quantity, for an engineer to confirm."""

    kind: str  # 'height' | 'weight' | 'axle_load'
    value: int | None  # cm for height, kg for weight/axle_load; None when unparsable
    raw: str
    global_id: str
    ifc_class: str
    pset: str
    prop: str
    measure: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON form for reports and ``structure_limit.source``."""
        return {
            "kind": self.kind,
            "value": self.value,
            "raw": self.raw,
            "global_id": self.global_id,
            "ifc_class": self.ifc_class,
            "pset": self.pset,
            "property": self.prop,
            "measure": self.measure,
        }


# --------------------------------------------------------------------------- scanning


def file_sha256(path: Path) -> str:
    """The file's sha256 (hex); IfcError for a missing file. hashlib runs without the GIL
    and far faster than the scan, so an import can look the hash up before scanning."""
    path = Path(path)
    if not path.is_file():
        raise IfcError(f"{path}: no such file")
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def scan_step(path: Path, *, sha256: str | None = None) -> StepScan:
    """Hash and check a STEP (ISO 10303-21) file in one streaming pass.

    Checks the ISO-10303-21 header, the FILE_SCHEMA (supported or migratable), that the
    DATA section is closed by ``END-ISO-10303-21;`` (truncation), and that every ``#id``
    an entity references is defined (broken references).

    Parameters
    ----------
    path:
        The IFC file (plain STEP text; ``.ifczip``/``.ifcxml`` are not supported).
    sha256:
        The file's hash when the caller has it already (:func:`file_sha256`): the scan
        then does not hash again.

    Returns
    -------
    StepScan

    Raises
    ------
    IfcError
        Naming the file, the line and the value that is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise IfcError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise IfcError(f"{path}: empty file; expected an IFC STEP file (ISO-10303-21)")
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        head = fh.read(_HEADER_BYTES)
    text_head = head.decode("latin-1")
    if not text_head.lstrip("\ufeff \r\n\t").startswith("ISO-10303-21"):
        first = text_head.strip().splitlines()[0][:60] if text_head.strip() else ""
        raise IfcError(
            f"{path}: not an IFC file: line 1 is {first!r}, expected 'ISO-10303-21;' "
            "(IFC STEP physical file; .ifczip and .ifcxml are not supported)"
        )
    m = _SCHEMA_RE.search(text_head)
    if not m:
        raise IfcError(f"{path}: the HEADER has no FILE_SCHEMA(('IFC...')) entry")
    schema = m.group(1).strip().upper()
    if schema not in SUPPORTED_SCHEMAS and schema not in MIGRATABLE_SCHEMAS:
        raise IfcError(
            f"{path}: unsupported IFC schema {schema!r} in FILE_SCHEMA; supported: "
            f"{', '.join(sorted(SUPPORTED_SCHEMAS))}; migrated: {', '.join(MIGRATABLE_SCHEMAS)}"
        )
    system = _originating_system(text_head)

    # Chunked regex passes (not line by line): ~10x faster, the scan must stay a small
    # fraction of the geometry time (see bench/bench_ifc.py).
    defined: set[bytes] = set()
    referenced: set[bytes] = set()
    class_counts: Counter[bytes] = Counter()
    in_data = False
    ended = False
    carry = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(_CHUNK_BYTES)
            if block and sha256 is None:
                sha.update(block)
            data = carry + block
            if not block:
                cut = len(data)
            else:
                cut = data.rfind(b"\n") + 1
                if cut <= 0:
                    carry = data
                    continue
            chunk, carry = data[:cut], data[cut:]
            if not in_data:
                m_data = _DATA_RE.search(chunk)
                if m_data is None:
                    if not block:
                        break
                    carry = chunk[-256:] + carry  # DATA; may start in the next block
                    continue
                in_data = True
                chunk = chunk[m_data.end() :]
            end_at = _end_marker(chunk)
            if end_at is not None:
                ended = True
                chunk = chunk[:end_at]
            clean = _STR_DROP_RE.sub(b"", chunk)
            if b"/*" in clean:
                clean = _COMMENT_RE.sub(b"", clean)
            if block and not ended and clean.count(b"'") % 2:
                carry = chunk + carry  # a string runs into the next block
                continue
            pairs = _DEFS_RE.findall(b"\n" + clean)
            defined.update(p[0] for p in pairs)
            class_counts.update(p[1] for p in pairs)
            referenced.update(_REF_RE.findall(clean))
            if ended or not block:
                break
    if not in_data:
        raise IfcError(f"{path}: no DATA; section: the file is truncated or not an IFC file")
    if not ended:
        raise IfcError(
            f"{path}: truncated: the file ends without 'END-ISO-10303-21;' "
            "(was the download or export interrupted?)"
        )
    classes: dict[str, int] = {}
    for cls, n in class_counts.items():
        name = cls.decode("ascii", "replace").upper()
        classes[name] = classes.get(name, 0) + n
    missing_raw = referenced - defined
    if missing_raw:
        defined_int = {int(i) for i in defined}
        missing = sorted({int(i) for i in missing_raw} - defined_int)
        if missing:
            lines = _first_lines(path, missing[:5])
            shown = ", ".join(f"#{i} (line {lines.get(i, '?')})" for i in missing[:5])
            raise IfcError(
                f"{path}: {len(missing)} broken reference(s) to undefined entities: {shown}"
                + (" ..." if len(missing) > 5 else "")
            )
    if not defined:
        raise IfcError(f"{path}: the DATA section holds no entities")
    return StepScan(
        path=path,
        sha256=sha256 or sha.hexdigest(),
        size_bytes=size,
        header_schema=schema,
        originating_system=system,
        entity_count=len(defined),
        entity_classes=classes,
    )


def _end_marker(chunk: bytes) -> int | None:
    """Offset of the line holding ``END-ISO-10303-21;`` (only blanks before it on its
    line), or None."""
    for m in _END_RE.finditer(chunk):
        line_start = chunk.rfind(b"\n", 0, m.start()) + 1
        if not chunk[line_start : m.start()].strip(b" \t"):
            return line_start
    return None


def _first_lines(path: Path, ids: list[int]) -> dict[int, int]:
    """Line number of the first reference to each id (only on the error path)."""
    pats = {i: re.compile(rb"#" + str(i).encode() + rb"(?!\d)") for i in ids}
    found: dict[int, int] = {}
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = _STR_RE.sub(b"''", raw)
            for i, pat in pats.items():
                if (
                    i not in found
                    and pat.search(line)
                    and not re.match(rb"\s*#" + str(i).encode() + rb"\s*=", line)
                ):
                    found[i] = lineno
            if len(found) == len(pats):
                break
    return found


def _originating_system(head: str) -> str | None:
    m = _FILE_NAME_RE.search(head)
    if not m:
        return None
    # FILE_NAME(name, time_stamp, (author), (organization), preprocessor, originating_system, auth)
    parts = re.findall(r"'((?:[^']|'')*)'|\([^)]*\)|\$", _strip_comments(m.group(1)))
    values = [p for p in parts]
    if len(values) >= 6 and values[5]:
        return values[5].replace("''", "'") or None
    return None


def _strip_comments(s: str) -> str:
    return re.sub(r"/\*.*?\*/", "", s, flags=re.DOTALL)


# --------------------------------------------------------------------------- opening


def scan_and_open(
    path: Path, *, sha256: str | None = None
) -> tuple[StepScan, ifcopenshell.file, list[str]]:
    """:func:`scan_step` then :func:`open_ifc`, the two overlapped.

    IfcOpenShell's parser releases the GIL, so the file is parsed on a helper thread
    while the STEP scan runs on this one; the parsed file is used only once the scan
    has passed (a refused file's parse is discarded). Files whose header names a schema
    that needs migration or is not supported are scanned first, as before.
    """
    path = Path(path)
    if _peek_schema(path) not in SUPPORTED_SCHEMAS:
        scan = scan_step(path, sha256=sha256)
        return (scan, *open_ifc(scan))
    ifcopenshell = _ifcopenshell()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ifc-parse") as pool:
        parsing = pool.submit(ifcopenshell.open, str(path))
        scan = scan_step(path, sha256=sha256)
        try:
            f = parsing.result()
        except Exception as exc:  # IfcOpenShell raises plain RuntimeError/SchemaError
            raise IfcError(f"{path}: IfcOpenShell cannot read it: {exc}") from exc
    return (scan, *open_ifc(scan, opened=f))


def _peek_schema(path: Path) -> str | None:
    """FILE_SCHEMA of the header (None when unreadable; :func:`scan_step` says why)."""
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(_HEADER_BYTES).decode("latin-1")
    except OSError:
        return None
    m = _SCHEMA_RE.search(head)
    return m.group(1).strip().upper() if m else None


def open_ifc(
    scan: StepScan, *, opened: ifcopenshell.file | None = None
) -> tuple[ifcopenshell.file, list[str]]:
    """Open a scanned file with IfcOpenShell, migrating a pre-release schema first.

    ``opened`` is the same file parsed already (by :func:`scan_and_open`). Returns the
    file and notes about what was done (migration steps). Raises :class:`IfcError` when
    entities were dropped by the parser (unknown class names for the schema), since that
    would silently lose data.
    """
    ifcopenshell = _ifcopenshell()
    notes: list[str] = []
    if opened is not None and not scan.needs_migration:
        f = opened
        expected = scan.entity_count
    elif scan.needs_migration:
        from loaders.ifc_migrate import migrate_text

        text = scan.path.read_bytes().decode("latin-1")
        text, notes = migrate_text(text, source_schema=scan.header_schema, path=scan.path)
        f = ifcopenshell.file.from_string(text)
        expected = _expected_after_migration(scan, notes)
    else:
        try:
            f = ifcopenshell.open(str(scan.path))
        except Exception as exc:  # IfcOpenShell raises plain RuntimeError/SchemaError
            raise IfcError(f"{scan.path}: IfcOpenShell cannot read it: {exc}") from exc
        expected = scan.entity_count
    parsed = _instance_count(f)
    if parsed < expected:
        unknown = _unknown_classes(scan, f.schema_identifier)
        raise IfcError(
            f"{scan.path}: {expected - parsed} entities could not be read as "
            f"{f.schema_identifier}"
            + (f": unknown classes {', '.join(unknown[:8])}" if unknown else "")
        )
    return f, notes


def _expected_after_migration(scan: StepScan, notes: list[str]) -> int:
    removed = 0
    for n in notes:
        m = re.match(r"removed (\d+) ", n)
        if m:
            removed += int(m.group(1))
    return scan.entity_count - removed


def _instance_count(f: ifcopenshell.file) -> int:
    return len(f.entity_names())  # ids of every parsed instance, without creating them


def _unknown_classes(scan: StepScan, schema_id: str) -> list[str]:
    ifcopenshell = _ifcopenshell()
    schema = ifcopenshell.ifcopenshell_wrapper.schema_by_name(schema_id)
    out = []
    for cls in scan.entity_classes:
        try:
            schema.declaration_by_name(cls)
        except Exception:
            out.append(cls)
    return sorted(out)


def _ifcopenshell() -> Any:
    try:
        import ifcopenshell
        import ifcopenshell.util.element
        import ifcopenshell.util.unit
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise IfcError("IfcOpenShell is not installed: pip install ifcopenshell") from exc
    return ifcopenshell


# --------------------------------------------------------------------------- model facts


def model_info(f: ifcopenshell.file, scan: StepScan) -> ModelInfo:
    """Schema, authoring application and units of an opened model."""
    import ifcopenshell.util.unit as uu

    length_m = float(uu.calculate_unit_scale(f))
    units: dict[str, Any] = {"length_unit_m": length_m}
    for key, unit_type in (
        ("length", "LENGTHUNIT"),
        ("area", "AREAUNIT"),
        ("volume", "VOLUMEUNIT"),
        ("angle", "PLANEANGLEUNIT"),
        ("mass", "MASSUNIT"),
        ("force", "FORCEUNIT"),
    ):
        try:
            u = uu.get_project_unit(f, unit_type)
        except Exception:
            u = None
        if u is not None:
            units[key] = uu.get_full_unit_name(u)
    mass_kg = 1.0
    try:
        mu = uu.get_project_unit(f, "MASSUNIT")
        if mu is not None and mu.is_a("IfcSIUnit"):
            mass_kg = float(uu.get_prefix_multiplier(mu.Prefix)) / 1000.0  # SI base is gram
    except Exception:
        mass_kg = 1.0
    units["mass_unit_kg"] = mass_kg
    return ModelInfo(
        schema=scan.header_schema,
        authoring_app=_authoring_app(f) or scan.originating_system,
        units=units,
        length_unit_m=length_m,
        mass_unit_kg=mass_kg,
    )


def _authoring_app(f: ifcopenshell.file) -> str | None:
    apps = f.by_type("IfcApplication")
    if not apps:
        return None
    a = apps[0]
    parts = [a.ApplicationFullName, a.Version]
    text = " ".join(str(p) for p in parts if p)
    return text or None


# --------------------------------------------------------------------------- elements


def iter_elements(f: ifcopenshell.file) -> Iterator[ElementRecord]:
    """Every IfcProduct with GlobalId, class, name, container, property sets, quantities.

    ``container`` is the GlobalId of the spatial element holding the product
    (IfcRelContainedInSpatialStructure, directly or through the whole it is part of, as
    ``ifcopenshell.util.element.get_container``), else of the whole it is aggregated or
    nested in. Property sets are those of ``ifcopenshell.util.element.get_psets`` (the
    type's first, the occurrence's override them). Property values are plain JSON
    (numbers, text, booleans, lists).

    The relationships are walked once each (not per product through inverse
    attributes): the per-product walk cost more than the geometry's overhead budget.
    """
    import ifcopenshell.util.element as ue

    rels = _Relations(f)
    # each property definition is read once: types and shared psets repeat
    cache: dict[int, tuple[str, bool, dict[str, Any]]] = {}
    for el in f.by_type("IfcProduct"):
        eid = el.id()
        psets: dict[str, Any] = {}
        qtos: dict[str, Any] = {}
        element_type = rels.type_of.get(eid)
        # 5 IfcTypeObject.HasPropertySets
        defs = list(element_type[5] or ()) if element_type is not None else []
        defs.extend(rels.defs_of.get(eid, ()))
        for definition in defs:
            name, is_qto, body = _read_definition(definition, cache, ue)
            (qtos if is_qto else psets).setdefault(name, {}).update(body)
        yield ElementRecord(
            global_id=el[0],  # GlobalId
            ifc_class=el.is_a(),
            name=el[2],  # Name
            container=rels.container(eid),
            psets=psets,
            quantities=qtos,
        )


class _Relations:
    """Property, type and spatial relationships of a model, indexed by entity id."""

    def __init__(self, f: ifcopenshell.file) -> None:
        self.defs_of: dict[int, list[Any]] = {}
        self.type_of: dict[int, Any] = {}
        self.contained_in: dict[int, Any] = {}
        self.aggregate_of: dict[int, Any] = {}
        self.nest_of: dict[int, Any] = {}
        self.other_parent: dict[int, Any] = {}  # filled void, voided element, adhered element
        self._container: dict[int, str | None] = {}
        # Attributes are read by position (the same in IFC2X3, IFC4 and IFC4X3; subtypes
        # only append): a name lookup costs twice as much, on every relationship.
        for rel in f.by_type("IfcRelDefinesByProperties"):
            d = rel[5]  # RelatingPropertyDefinition
            if d is None:
                continue
            # IFC4: a defined type wrapping a list of property set definitions
            ds = list(d.wrappedValue) if d.is_a("IfcPropertySetDefinitionSet") else [d]
            for obj in rel[4] or ():  # RelatedObjects
                self.defs_of.setdefault(obj.id(), []).extend(ds)
        for rel in f.by_type("IfcRelDefinesByType"):
            relating_type = rel[5]  # RelatingType
            for obj in rel[4] or ():  # RelatedObjects
                self.type_of.setdefault(obj.id(), relating_type)
        # (class, position of the part(s), position of the whole)
        self._index(f, "IfcRelContainedInSpatialStructure", 4, 5, self.contained_in)
        self._index(f, "IfcRelAggregates", 5, 4, self.aggregate_of)
        self._index(f, "IfcRelNests", 5, 4, self.nest_of)
        for cls in ("IfcRelFillsElement", "IfcRelVoidsElement", "IfcRelAdheresToElement"):
            # RelatingOpeningElement / RelatingBuildingElement / RelatingElement at 4,
            # the filling element / opening / surface features at 5
            self._index(f, cls, 5, 4, self.other_parent, keep_first=True)

    @staticmethod
    def _index(
        f: ifcopenshell.file,
        cls: str,
        related: int,
        relating: int,
        into: dict[int, Any],
        *,
        keep_first: bool = True,
    ) -> None:
        try:
            found = f.by_type(cls)
        except RuntimeError:  # the class is not in this schema (IfcRelAdheresToElement)
            return
        for rel in found:
            whole = rel[relating]
            parts = rel[related]
            for part in parts if isinstance(parts, tuple | list) else (parts,):
                if part is not None and (not keep_first or part.id() not in into):
                    into[part.id()] = whole

    def container(self, eid: int) -> str | None:
        """GlobalId of the spatial container (direct or through the parent), else of the
        aggregate or nest whole."""
        if eid not in self._container:
            self._container[eid] = None  # guards against cycles in broken models
            c = self._spatial(eid, set())
            if c is None:
                whole = self.aggregate_of.get(eid) or self.nest_of.get(eid)
                c = whole if whole is not None else None
            self._container[eid] = getattr(c, "GlobalId", None) if c is not None else None
        return self._container[eid]

    def _spatial(self, eid: int, seen: set[int]) -> Any:
        while eid not in seen:
            seen.add(eid)
            direct = self.contained_in.get(eid)
            if direct is not None:
                return direct
            parent = (
                self.aggregate_of.get(eid) or self.nest_of.get(eid) or self.other_parent.get(eid)
            )
            if parent is None:
                return None
            eid = parent.id()
        return None


def _read_definition(
    d: Any, cache: dict[int, tuple[str, bool, dict[str, Any]]], ue: Any
) -> tuple[str, bool, dict[str, Any]]:
    did = d.id()
    got = cache.get(did)
    if got is None:
        cls = d.is_a()
        if cls == "IfcPropertySet":
            body = _single_values(d[4], ue)  # 4 IfcPropertySet.HasProperties
        else:
            props = ue.get_property_definition(d) or {}
            body = {k: _jsonable(v) for k, v in props.items() if k != "id"}
        got = (d[2] or "", cls == "IfcElementQuantity", body)  # 2 Name
        cache[did] = got
    return got


def _single_values(properties: Any, ue: Any) -> dict[str, Any]:
    """``ue.get_properties`` with a fast path for IfcPropertySingleValue (nine in ten
    properties): positional access instead of attribute-name lookups, same result."""
    out: dict[str, Any] = {}
    for prop in properties or ():
        # one C++ call (get_info's recursive path) instead of four attribute reads
        info = prop.get_info(include_identifier=False, recursive=True)
        if info["type"] == "IfcPropertySingleValue":
            v = info["NominalValue"]
            out[info["Name"]] = _jsonable(v["wrappedValue"]) if v is not None else None
        else:
            out.update({k: _jsonable(x) for k, x in ue.get_properties([prop]).items()})
    return out


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else None
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return str(v)


# --------------------------------------------------------------------------- limits

#: normalised property names (lower case, letters and digits only) -> limit kind.
#: Our sample uses Pset_RoadTwinBridge.VerticalClearance / DesignLoad / DesignAxleLoad.
LIMIT_PROPERTY_NAMES: dict[str, str] = {
    "clearance": "height",
    "verticalclearance": "height",
    "clearanceheight": "height",
    "minimumclearance": "height",
    "minverticalclearance": "height",
    "minimumverticalclearance": "height",
    "headroom": "height",
    "maxheight": "height",
    "净空": "height",
    "净高": "height",
    "限高": "height",
    "designload": "weight",
    "designloadclass": "weight",  # e.g. 公路-I级: reported, never a number
    "loadclass": "weight",
    "loadcapacity": "weight",
    "maxweight": "weight",
    "weightlimit": "weight",
    "maximumload": "weight",
    "限载": "weight",
    "设计荷载": "weight",
    "axleload": "axle_load",
    "designaxleload": "axle_load",
    "maxaxleload": "axle_load",
}
_FORCE_TO_KG = 1.0 / 9.80665
_NUM_UNIT_RE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([a-zA-Z]*)\s*$")


def find_limit_candidates(
    f: ifcopenshell.file, info: ModelInfo, *, elements: list[ElementRecord] | None = None
) -> list[LimitCandidate]:
    """Clearances and design loads in property sets and quantities of any product.

    Values keep their IFC measure type so units convert correctly: lengths in the
    project's length unit to centimetres, masses in the project's mass unit and forces in
    newtons to kilograms; text such as ``'5.0 m'`` or ``'55 t'`` is parsed; anything
    else (a load class like 'City-A') is returned with ``value=None`` so the report shows
    it, but it is never turned into a limit.

    With ``elements`` (from :func:`iter_elements`), a model none of whose property
    names match is answered without touching the file again.
    """
    if elements is not None and not _any_limit_name(elements):
        return []
    # Find the few matching properties first (one pass over property entities in C++),
    # then walk up to their property sets and products through inverse references.
    out: list[LimitCandidate] = []
    for prop in _matching_properties(f):
        kind = LIMIT_PROPERTY_NAMES[_norm(prop.Name)]
        measure, raw_value = _measure_and_value(prop)
        if raw_value is None:
            continue
        value = _convert(kind, measure, raw_value, info)
        for pdef in f.get_inverse(prop):
            if not (pdef.is_a("IfcPropertySet") or pdef.is_a("IfcElementQuantity")):
                continue
            for rel in f.get_inverse(pdef):
                if not rel.is_a("IfcRelDefinesByProperties"):
                    continue
                for obj in rel.RelatedObjects or ():
                    if not obj.is_a("IfcProduct"):
                        continue
                    out.append(
                        LimitCandidate(
                            kind=kind,
                            value=value,
                            raw=str(raw_value),
                            global_id=obj.GlobalId,
                            ifc_class=obj.is_a(),
                            pset=pdef.Name or "",
                            prop=prop.Name,
                            measure=measure,
                        )
                    )
    out.sort(key=lambda c: (c.global_id, c.pset, c.prop))
    return out


def _any_limit_name(elements: list[ElementRecord]) -> bool:
    seen: set[str] = set()
    for e in elements:
        for group in (e.psets, e.quantities):
            for props in group.values():
                seen.update(props)
    return any(_norm(n) in LIMIT_PROPERTY_NAMES for n in seen)


def _matching_properties(f: ifcopenshell.file) -> Iterator[Any]:
    # names repeat (duplex: 5,213 properties, 280 names): each is normalised once, and
    # read positionally (0 = Name in IfcProperty and IfcPhysicalQuantity), ~4x faster
    # than p.Name through the attribute-name lookup
    matches: dict[str | None, bool] = {}
    for cls in ("IfcPropertySingleValue", "IfcQuantityLength", "IfcQuantityWeight"):
        for p in f.by_type(cls):
            name = p[0]
            hit = matches.get(name)
            if hit is None:
                hit = matches[name] = _norm(name) in LIMIT_PROPERTY_NAMES
            if hit:
                yield p


def _measure_and_value(prop: Any) -> tuple[str | None, Any]:
    if prop.is_a("IfcPropertySingleValue"):
        nv = prop.NominalValue
        return (nv.is_a(), nv.wrappedValue) if nv is not None else (None, None)
    if prop.is_a("IfcQuantityLength"):
        return "IfcLengthMeasure", prop.LengthValue
    return "IfcMassMeasure", prop.WeightValue


def _norm(name: str | None) -> str:
    return re.sub(r"[\s_\-.:()]+", "", (name or "")).lower()


def _convert(kind: str, measure: str | None, value: Any, info: ModelInfo) -> int | None:
    try:
        if measure in (
            "IfcLengthMeasure",
            "IfcPositiveLengthMeasure",
            "IfcNonNegativeLengthMeasure",
        ):
            return (
                _positive(float(value) * info.length_unit_m * 100.0) if kind == "height" else None
            )
        if measure == "IfcMassMeasure":
            return _positive(float(value) * info.mass_unit_kg) if kind != "height" else None
        if measure == "IfcForceMeasure":  # newtons (SI force unit assumed)
            return _positive(float(value) * _FORCE_TO_KG) if kind != "height" else None
    except (TypeError, ValueError):
        return None
    if isinstance(value, str):
        return _parse_text(kind, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # an unqualified number: metres for heights, tonnes for loads (bridge practice)
        return _positive(value * 100.0) if kind == "height" else _positive(value * 1000.0)
    return None


def _parse_text(kind: str, text: str) -> int | None:
    m = _NUM_UNIT_RE.match(text)
    if not m:
        return None
    num = float(m.group(1).replace(",", "."))
    unit = m.group(2).lower()
    if kind == "height":
        factor = {"m": 100.0, "": 100.0, "cm": 1.0, "mm": 0.1}.get(unit)
    else:
        factor = {"t": 1000.0, "": 1000.0, "kg": 1.0, "kn": 1000.0 * _FORCE_TO_KG}.get(unit)
    return _positive(num * factor) if factor is not None else None


def _positive(v: float) -> int | None:
    r = round(v)
    return int(r) if r > 0 else None
