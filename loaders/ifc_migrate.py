"""Migration of the pre-release IFC4X3_RC2 schema to IFC4X3_ADD2, on the STEP text.

IfcOpenShell refuses ``FILE_SCHEMA(('IFC4X3_RC2'))`` ("Unsupported schema"). Such files
are common (exports of 2019-2021 road pilots). Between RC2 and ADD2 the entities such a
file typically uses (IfcRoad, IfcFacilityPart, IfcPavement, IfcKerb, faceted breps,
property sets) kept their attributes; the one removal that matters for them is
``IfcPresentationStyleAssignment`` (ADD2 lets ``IfcStyledItem.Styles`` hold the styles
directly). So the migration:

1. rewrites FILE_SCHEMA to IFC4X3_ADD2;
2. removes every IfcPresentationStyleAssignment and puts its styles into the
   IfcStyledItem that referenced it;
3. leaves everything else alone. :func:`loaders.ifc.open_ifc` then checks that every
   remaining entity was read under ADD2 (known class); any class that changed in ways we
   do not migrate makes the import refuse, naming the classes — never a silent loss.

IfcOpenShell's ``ifcpatch`` Migrate recipe targets released schemas only, hence this
small text rewrite.
"""

from __future__ import annotations

import re
from pathlib import Path

_PSA_RE = re.compile(
    r"^\s*#(\d+)\s*=\s*IFCPRESENTATIONSTYLEASSIGNMENT\s*\(\s*\(([^)]*)\)\s*\)\s*;\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_STYLED_RE = re.compile(r"(IFCSTYLEDITEM\s*\(\s*(?:#\d+|\$)\s*,\s*\()([^)]*)(\))", re.IGNORECASE)
_SCHEMA_RE = re.compile(r"FILE_SCHEMA\s*\(\s*\(\s*'IFC4X3_RC\d'\s*\)\s*\)", re.IGNORECASE)


def migrate_text(text: str, *, source_schema: str, path: Path | str) -> tuple[str, list[str]]:
    """Rewrite an IFC4X3_RC2 STEP text as IFC4X3_ADD2.

    Parameters
    ----------
    text:
        The whole file as text (pre-release files are small exports; a 100 MB one needs
        about as much memory).
    source_schema:
        The header's schema name (only ``IFC4X3_RC2`` is migrated).
    path:
        For messages.

    Returns
    -------
    (text, notes)
        The migrated text and what was changed, e.g.
        ``['FILE_SCHEMA IFC4X3_RC2 -> IFC4X3_ADD2', 'removed 66 IfcPresentationStyleAssignment ...']``.
    """
    from loaders.ifc import IfcError

    if source_schema.upper() != "IFC4X3_RC2":
        raise IfcError(f"{path}: no migration from {source_schema} (only IFC4X3_RC2)")
    notes = [f"FILE_SCHEMA {source_schema} -> IFC4X3_ADD2"]
    text, n = _SCHEMA_RE.subn("FILE_SCHEMA(('IFC4X3_ADD2'))", text, count=1)
    if n != 1:
        raise IfcError(f"{path}: FILE_SCHEMA(('IFC4X3_RC2')) not found in the header")

    assignments: dict[str, str] = {}
    for m in _PSA_RE.finditer(text):
        assignments[m.group(1)] = m.group(2).strip()
    if assignments:
        text = _PSA_RE.sub("", text)

        def _inline(m: re.Match[str]) -> str:
            refs = [r.strip() for r in m.group(2).split(",") if r.strip()]
            out: list[str] = []
            for r in refs:
                rid = r.lstrip("#")
                if rid in assignments:
                    out.extend(s.strip() for s in assignments[rid].split(",") if s.strip())
                else:
                    out.append(r)
            return m.group(1) + ",".join(out) + m.group(3)

        text = _STYLED_RE.sub(_inline, text)
        left = [i for i in assignments if re.search(rf"#{i}\b", text)]
        if left:
            raise IfcError(
                f"{path}: IfcPresentationStyleAssignment #{left[0]} is referenced outside "
                "an IfcStyledItem; cannot migrate IFC4X3_RC2 to IFC4X3_ADD2"
            )
        notes.append(
            f"removed {len(assignments)} IfcPresentationStyleAssignment "
            "(styles moved into IfcStyledItem.Styles)"
        )
    return text, notes
