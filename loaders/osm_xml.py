"""A vectorised scanner for OSM XML files (``.osm``, ``.osm.gz``, ``.osm.bz2``).

Pure core, used by :mod:`loaders.osm`: it turns the file's bytes into numpy arrays of
node ids and coordinates, way ids, node references (CSR) and the *distinct* tag sets,
and returns None whenever the file holds anything outside the plain OSM XML it
understands -- the caller then reads the file with pyosmium exactly as before, so the
result (and every error message for a broken file) never depends on which reader ran.

Why hand-written rather than a library: libosmium's XML parser is fast, but pyosmium
hands every way to Python as an object (~30 us a way of wrapper and tag calls), expat's
Python callbacks cost ~2 us per element, and no packaged parser produces arrays. OSM
XML is a flat, regular format: every ``<`` starts markup (it may not appear in attribute
values), so the elements are found with one numpy comparison over the bytes, their kind
from the few bytes after each ``<``, ids, references and coordinates are parsed as
fixed-width digit windows in numpy, and tags are parsed once per distinct tag block
(the ways of one road repeat the same block). The scanner checks its assumptions with
counts (one ``lat`` per node, nesting, known element names only, UTF-8, double-quoted
attributes, no entities it cannot decode) instead of trusting them.

Not on this path (pyosmium reads them): PBF, ``osmChange`` and JOSM files (``action``
attributes, negative ids, single quotes), history files (``visible="false"``),
DOCTYPE/CDATA, ways placed before the nodes they use, coordinates with more than 7
decimals or outside +-214 degrees, files larger than :data:`MAX_BYTES`.
"""

from __future__ import annotations

import bz2
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["MAX_BYTES", "XmlScan", "scan_xml", "scan_xml_file"]

#: largest (uncompressed) file the scanner takes in memory (its peak is about 3x the
#: file); bigger files stream through pyosmium, slower but in bounded memory.
MAX_BYTES = 256 << 20

# element kinds
_OTHER, _NODE, _WAY, _REL, _ND, _TAG, _MEMBER, _END_NODE, _END_WAY, _END_REL, _SKIP = range(11)
_WS = (0x20, 0x09, 0x0A, 0x0D)
_BLANK = np.zeros(256, bool)
_BLANK[list(_WS)] = True
_TERM = _BLANK.copy()  # what may follow an element name: blank, '/' or '>'
_TERM[[0x2F, 0x3E]] = True
_TAG_RE = re.compile(rb'<tag[ \t\r\n]+k="([^"<]*)"[ \t\r\n]+v="([^"<]*)"[ \t\r\n]*/>')
_ENTITY_RE = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_WINDOW = 12  # bytes read after each '<' to tell the element kind
#: outside the scanner (CDATA, DOCTYPE and osmChange are unknown elements to it anyway)
_REJECT = (b" action=", b'visible="false"')


class _NotPlain(Exception):
    """The file is outside what the scanner reads: let pyosmium read it."""


@dataclass
class XmlScan:
    """Arrays of one OSM XML file, in file order.

    Attributes
    ----------
    node_ids, node_x, node_y:
        Every node: id and coordinates in 1e-7 degrees (libosmium's fixed point).
    node_tagset:
        Index into ``tagsets`` of each node's tags, -1 when it has none.
    way_ids:
        Every way's id.
    way_start:
        ``refs[way_start[i]:way_start[i + 1]]`` are way i's node references.
    refs:
        Node references of all ways, concatenated.
    way_tagset:
        Index into ``tagsets`` of each way's tags, -1 when it has none.
    tagsets:
        Distinct tag lists, ``(key, value)`` in file order.
    """

    node_ids: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    node_tagset: np.ndarray
    way_ids: np.ndarray
    way_start: np.ndarray
    refs: np.ndarray
    way_tagset: np.ndarray
    tagsets: list[list[tuple[str, str]]]


def scan_xml_file(path: str | Path) -> XmlScan | None:
    """:func:`scan_xml` of a file (``.gz``/``.bz2`` decompressed); None when the file is
    not plain OSM XML of at most :data:`MAX_BYTES` (read it with pyosmium then)."""
    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith(".pbf"):
            return None
        if name.endswith((".gz", ".bz2")):
            if path.stat().st_size > MAX_BYTES // 4:  # surely too big once decompressed
                return None
            opener = gzip.open if name.endswith(".gz") else bz2.open
            with opener(path, "rb") as f:
                data = f.read(MAX_BYTES + 1)
        else:
            if path.stat().st_size > MAX_BYTES:
                return None
            data = path.read_bytes()
    except (OSError, EOFError, ValueError):
        return None  # pyosmium reports the broken file with its own words
    if len(data) > MAX_BYTES:
        return None
    return scan_xml(data)


def scan_xml(data: bytes) -> XmlScan | None:
    """Scan OSM XML ``data``; None when it holds anything the scanner does not read."""
    try:
        return _scan(data)
    except _NotPlain:
        return None


def _scan(data: bytes) -> XmlScan:
    head = data[:200]
    body = 0
    if head.startswith(b"<?xml"):
        body = head.find(b"?>")
        decl = head[:body].lower()
        if body < 0 or (b"encoding" in decl and b"utf-8" not in decl and b"utf8" not in decl):
            raise _NotPlain("not UTF-8")
    elif not head.lstrip().startswith(b"<"):
        raise _NotPlain("not XML")
    if any(data.find(r, body) >= 0 for r in _REJECT):
        raise _NotPlain("unsupported construct")
    if data.find(b"'", body) >= 0 and data.find(b"='", body) >= 0:
        raise _NotPlain("single-quoted attributes")
    if not data.rstrip().endswith(b"</osm>"):
        raise _NotPlain("truncated")  # pyosmium names the line
    a = np.frombuffer(data, dtype=np.uint8)
    lt = _markup_starts(a)
    lt = _drop_comments(data, lt)
    kind = _kinds(a, lt)
    if (kind == _OTHER).any():
        raise _NotPlain("unknown element")
    end = _start_tag_ends(a, lt, kind)
    owner = _check_nesting(kind, end, a)

    node_at = np.flatnonzero(kind == _NODE)
    way_at = np.flatnonzero(kind == _WAY)
    if len(node_at) and len(way_at) and node_at[-1] > way_at[0]:
        raise _NotPlain("a way before a node")  # libosmium would not locate its nodes
    node_ids = _ints_after(a, lt[node_at], b'<node id="')
    node_x = _coords_of(data, a, lt, end, node_at, b' lon="')
    node_y = _coords_of(data, a, lt, end, node_at, b' lat="')
    way_ids = _ints_after(a, lt[way_at], b'<way id="')
    nd_at = np.flatnonzero(kind == _ND)
    refs = _ints_after(a, lt[nd_at], b'<nd ref="')
    nd_way = _rank(way_at, owner[nd_at])
    if (nd_way < 0).any():
        raise _NotPlain("nd outside a way")
    way_start = np.zeros(len(way_at) + 1, np.int64)
    np.cumsum(np.bincount(nd_way, minlength=len(way_at)), out=way_start[1:])

    tag_at = np.flatnonzero(kind == _TAG)
    tag_owner = owner[tag_at]
    del owner, kind, end
    tagsets: list[list[tuple[str, str]]] = []
    known: dict[bytes, int] = {}
    texts: dict[bytes, str] = {}
    way_tagset = _tag_blocks(
        data, lt, tag_at, _rank(way_at, tag_owner), len(way_at), tagsets, known, texts
    )
    node_tagset = _tag_blocks(
        data, lt, tag_at, _rank(node_at, tag_owner), len(node_at), tagsets, known, texts
    )
    return XmlScan(
        node_ids=node_ids,
        node_x=node_x,
        node_y=node_y,
        node_tagset=node_tagset,
        way_ids=way_ids,
        way_start=way_start,
        refs=refs,
        way_tagset=way_tagset,
        tagsets=tagsets,
    )


def _drop_comments(data: bytes, lt: np.ndarray) -> np.ndarray:
    """'<' positions outside comments (a comment may hold '<')."""
    if b"<!--" not in data:
        return lt
    spans = [(m.start(), m.end()) for m in re.finditer(rb"<!--.*?-->", data, re.S)]
    if not spans:
        raise _NotPlain("unclosed comment")
    keep = np.ones(len(lt), bool)
    for s, e in spans:  # few: drop the '<' positions inside each
        keep[np.searchsorted(lt, s) : np.searchsorted(lt, e)] = False
    return lt[keep]


def _rank(parents: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Index in ``parents`` (sorted element indices) of each ``owner``, -1 when the
    owner is not among them."""
    if not len(parents):
        return np.full(len(owner), -1, np.int64)
    r = np.minimum(np.searchsorted(parents, owner), len(parents) - 1)
    return np.where(parents[r] == owner, r, -1)


def _markup_starts(a: np.ndarray, *, chunk: int = 1 << 22) -> np.ndarray:
    """Positions of every '<' (int32: files are at most :data:`MAX_BYTES` < 2 GiB), found a
    chunk at a time so the comparison's temporary stays small."""
    parts = [
        np.flatnonzero(a[lo : lo + chunk] == 0x3C).astype(np.int32) + np.int32(lo)
        for lo in range(0, len(a), chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


def _columns(a: np.ndarray, at: np.ndarray, n: int) -> list[np.ndarray]:
    """Bytes at ``at + k`` for k < n (0 past the end), as n column views of one
    (len(at), n) gather."""
    if len(a) < n:
        a = np.concatenate([a, np.zeros(n, np.uint8)])
    top = len(a) - n
    win = np.lib.stride_tricks.sliding_window_view(a, n)[np.minimum(at, top)]
    for r in np.flatnonzero(at > top).tolist():  # the last bytes of the file
        tail = a[at[r] :]
        win[r] = np.concatenate([tail, np.zeros(n - len(tail), np.uint8)])
    return [win[:, k] for k in range(n)]


def _starts_with(cols: list[np.ndarray], prefix: bytes, *, term: bool) -> np.ndarray:
    """Rows whose bytes start with ``prefix`` (followed by whitespace, '/' or '>' when
    ``term``)."""
    m = cols[0] == prefix[0]
    for k in range(1, len(prefix)):
        m &= cols[k] == prefix[k]
    if term:
        m &= _TERM[cols[len(prefix)]]
    return m


def _kinds(a: np.ndarray, lt: np.ndarray) -> np.ndarray:
    cols = _columns(a, lt, _WINDOW)
    kind = np.full(len(lt), _OTHER, np.int8)
    # the first letters split the elements into small groups before the full checks
    second = cols[1]
    groups = (
        (second == 0x6E, ((b"<node", _NODE, True), (b"<nd", _ND, True), (b"<note", _SKIP, True))),
        (second == 0x77, ((b"<way", _WAY, True),)),
        (second == 0x74, ((b"<tag", _TAG, True),)),
        (second == 0x72, ((b"<relation", _REL, True),)),
        (second == 0x6D, ((b"<member", _MEMBER, True), (b"<meta", _SKIP, True))),
        (second == 0x6F, ((b"<osm", _SKIP, True),)),
        (second == 0x62, ((b"<bounds", _SKIP, True), (b"<bound", _SKIP, True))),
        (
            second == 0x2F,
            (
                (b"</node>", _END_NODE, False),
                (b"</way>", _END_WAY, False),
                (b"</relation>", _END_REL, False),
                (b"</osm>", _SKIP, False),
                (b"</note>", _SKIP, False),
                (b"</meta>", _SKIP, False),
            ),
        ),
    )
    for rows_mask, checks in groups:
        rows = np.flatnonzero(rows_mask)
        if not len(rows):
            continue
        sub = [c[rows] for c in cols]
        k = np.full(len(rows), _OTHER, np.int8)
        for prefix, code, term in checks:
            k[(k == _OTHER) & _starts_with(sub, prefix, term=term)] = code
        kind[rows] = k
    pi = (cols[0] == 0x3C) & (second == 0x3F)  # '<?': the XML declaration only
    if pi.any():
        if pi.sum() > 1 or not pi[0]:
            raise _NotPlain("processing instruction")
        kind[pi] = _SKIP
    return kind


def _start_tag_ends(a: np.ndarray, lt: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Position of each element's closing '>' (the last non-blank byte before the next
    '<': text between OSM elements is blank, and '>' may sit inside attribute values)."""
    end = np.append(lt[1:], np.int32(len(a))) - np.int32(1)
    rows = np.flatnonzero(_BLANK[a[end]])
    while len(rows):  # step back over the blanks (a few rows, a few steps)
        end[rows] -= 1
        rows = rows[_BLANK[a[end[rows]]]]
    # text content only in <note> (Overpass); elsewhere the byte before the next '<'
    # must close the element
    if ((a[end] != 0x3E) & (kind != _SKIP)).any():
        raise _NotPlain("text between elements")
    return end


def _check_nesting(kind: np.ndarray, end: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Owner (index of the enclosing node/way/relation) of every element; raises when
    children sit outside their parent or parents are not closed."""
    self_closed = a[end - 1] == 0x2F
    start = (kind == _NODE) | (kind == _WAY) | (kind == _REL)
    close = (kind == _END_NODE) | (kind == _END_WAY) | (kind == _END_REL)
    struct = np.flatnonzero(start | close)
    sk = kind[struct]
    opens = start[struct] & ~self_closed[struct]
    # an open parent is followed by its end tag; an end tag follows its open parent
    nxt_k = np.append(sk[1:], _OTHER)
    want_end = np.where(sk == _NODE, _END_NODE, np.where(sk == _WAY, _END_WAY, _END_REL))
    if (opens & (nxt_k != want_end)).any():
        raise _NotPlain("unclosed element")
    prev_open = np.append(False, opens[:-1])
    prev_k = np.append(_OTHER, sk[:-1])
    ends_ok = ~close[struct] | (prev_open & (want_end.take(np.arange(len(sk)) - 1) == sk))
    if not ends_ok.all() or (close[struct] & (prev_k == _OTHER)).any():
        raise _NotPlain("stray end tag")
    if (self_closed & ~start & ~np.isin(kind, (_ND, _TAG, _MEMBER, _SKIP))).any():
        raise _NotPlain("self-closed end tag")
    if (~self_closed & np.isin(kind, (_ND, _TAG, _MEMBER))).any():
        raise _NotPlain("child element with content")
    child = np.flatnonzero(np.isin(kind, (_ND, _TAG, _MEMBER))).astype(np.int32)
    at = np.searchsorted(struct, child) - 1  # the last node/way/relation tag before
    if (at < 0).any():
        raise _NotPlain("child outside its parent")
    o = struct[at].astype(np.int32)
    del at
    if not (start[o] & ~self_closed[o]).all():
        raise _NotPlain("child outside its parent")
    ck, ok_ = kind[child], kind[o]
    if ((ck == _ND) & (ok_ != _WAY)).any() or ((ck == _MEMBER) & (ok_ != _REL)).any():
        raise _NotPlain("child in the wrong parent")
    owner = np.full(len(kind), -1, np.int32)
    owner[child] = o
    return owner


def _ints_after(a: np.ndarray, at: np.ndarray, prefix: bytes) -> np.ndarray:
    """Non-negative integers in double quotes right after ``prefix`` at each ``at``."""
    if not len(at):
        return np.zeros(0, np.int64)
    cols = _columns(a, at, len(prefix))
    if not _starts_with(cols, prefix, term=False).all():
        raise _NotPlain(f"attribute order ({prefix!r})")
    digits = _columns(a, at + len(prefix), 20)
    value = np.zeros(len(at), np.int64)
    done = np.zeros(len(at), bool)
    length = np.zeros(len(at), np.int64)
    for k, col in enumerate(digits):
        is_digit = (col >= 0x30) & (col <= 0x39)
        stop = ~done & ~is_digit
        if (stop & ((col != 0x22) | (k == 0))).any():
            raise _NotPlain("not a plain integer")
        done |= stop
        step = ~done
        value = np.where(step, value * 10 + (col.astype(np.int64) - 0x30), value)
        length += step
        if done.all():
            break
    if not done.all() or (length > 18).any():
        raise _NotPlain("integer too long")
    return value


def _coords_of(
    data: bytes,
    a: np.ndarray,
    lt: np.ndarray,
    end: np.ndarray,
    node_at: np.ndarray,
    attr: bytes,
) -> np.ndarray:
    """``lat``/``lon`` of every node in 1e-7 degrees (int32), exactly as libosmium."""
    if not len(node_at):
        return np.zeros(0, np.int32)
    lo, hi = int(lt[node_at[0]]), int(end[node_at[-1]]) + 1  # the nodes' part of the file
    found = re.compile(re.escape(attr)).finditer(data, lo, hi)
    pos = np.fromiter(map(re.Match.end, found), np.int64)
    elem = np.searchsorted(lt, pos, side="right") - 1
    ok = (elem >= 0) & (pos < end[np.maximum(elem, 0)])
    pos, elem = pos[ok], elem[ok]
    if len(elem) != len(node_at) or not np.array_equal(elem, node_at):
        raise _NotPlain(f"nodes without exactly one {attr!r}")
    return _fixed7(a, pos)


def _fixed7(a: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Decimal degrees in double quotes at ``at`` as integers of 1e-7 degrees; at most 3
    integer digits and 7 decimals (more would need libosmium's rounding)."""
    cols = _columns(a, at, 13)
    neg = cols[0] == 0x2D
    i0 = neg.astype(np.int64)
    whole = np.zeros(len(at), np.int64)
    frac = np.zeros(len(at), np.int64)
    nfrac = np.zeros(len(at), np.int64)
    nwhole = np.zeros(len(at), np.int64)
    state = np.zeros(len(at), np.int8)  # 0 whole digits, 1 decimals, 2 done
    for k, col in enumerate(cols):
        active = (k >= i0) & (state < 2)
        is_digit = (col >= 0x30) & (col <= 0x39)
        d = col.astype(np.int64) - 0x30
        in_whole = active & (state == 0) & is_digit
        whole = np.where(in_whole, whole * 10 + d, whole)
        nwhole += in_whole
        in_frac = active & (state == 1) & is_digit
        frac = np.where(in_frac, frac * 10 + d, frac)
        nfrac += in_frac
        dot = active & (state == 0) & (col == 0x2E)
        quote = active & (col == 0x22)
        bad = active & ~is_digit & ~dot & ~quote
        if bad.any():
            raise _NotPlain("coordinate text")
        state = np.where(dot, 1, np.where(quote, 2, state)).astype(np.int8)
    if (state < 2).any() or (nwhole == 0).any() or (nwhole > 3).any() or (nfrac > 7).any():
        raise _NotPlain("coordinate text")
    value = whole * 10_000_000 + frac * 10 ** (7 - nfrac)
    if (value >= 2_140_000_000).any():
        raise _NotPlain("coordinate out of range")
    return np.where(neg, -value, value).astype(np.int32)


def _tag_blocks(
    data: bytes,
    lt: np.ndarray,
    tag_at: np.ndarray,
    parent: np.ndarray,
    n_parents: int,
    tagsets: list[list[tuple[str, str]]],
    known: dict[bytes, int],
    texts: dict[bytes, str],
) -> np.ndarray:
    """Tag set index of each parent (-1: no tags). A parent's tags are the bytes from its
    first ``<tag`` to the end of its last, parsed once per distinct block."""
    out = np.full(n_parents, -1, np.int64)
    mine = parent >= 0
    if not mine.any():
        return out
    at, par = tag_at[mine], parent[mine]
    first = np.ones(len(par), bool)
    first[1:] = par[1:] != par[:-1]
    last = np.ones(len(par), bool)
    last[:-1] = first[1:]
    starts = lt[at[first]].tolist()
    stops = lt[at[last] + 1].tolist()  # a tag is never the file's last element
    counts = np.diff(np.append(np.flatnonzero(first), len(par))).tolist()
    ids = np.empty(len(starts), np.int64)
    step = 20_000  # blocks as bytes objects a slice at a time (memory)
    for lo in range(0, len(starts), step):
        cut = map(slice, starts[lo : lo + step], stops[lo : lo + step])
        blocks = list(map(data.__getitem__, cut))
        for j, block in enumerate(blocks):
            if block not in known:
                known[block] = len(tagsets)
                tagsets.append(_parse_tags(block, counts[lo + j], texts))
        ids[lo : lo + len(blocks)] = np.fromiter(map(known.__getitem__, blocks), np.int64)
    out[par[first]] = ids
    return out


def _parse_tags(block: bytes, n: int, texts: dict[bytes, str]) -> list[tuple[str, str]]:
    """The ``n`` (key, value) pairs of a tag block; ``texts`` caches decoded strings
    (a file repeats few keys and values)."""
    pairs = _TAG_RE.findall(block)
    if len(pairs) != n:
        raise _NotPlain("tag attributes")
    try:
        out = []
        for k, v in pairs:
            ks = texts.get(k)
            if ks is None:
                ks = texts[k] = _text(k)
            vs = texts.get(v)
            if vs is None:
                vs = texts[v] = _text(v)
            out.append((ks, vs))
    except UnicodeDecodeError:
        raise _NotPlain("not UTF-8") from None
    if len({k for k, _ in out}) != len(out):
        raise _NotPlain("repeated tag key")
    return out


def _text(raw: bytes) -> str:
    s = raw.decode("utf-8")
    if "\r" in s or "\n" in s or "\t" in s:  # XML attribute-value normalisation
        s = s.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    if "&" in s:
        s = _unescape(s)
    return s


def _unescape(s: str) -> str:
    def one(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED[ref]

    out = _ENTITY_RE.sub(one, s)
    if "&" in _ENTITY_RE.sub("", s):
        raise _NotPlain("unknown entity")
    return out
