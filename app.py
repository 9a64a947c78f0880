"""RoadTwin: the Streamlit shell of the 3D twin.

Run with ``streamlit run app.py`` (``make run`` does it). Scenes live in ``scenes/`` (pure);
data comes from ``twin.services`` in process. Query parameters let a link open a view:
``?scene=network&lang=en&color=condition&cam=cam_port&focus=<asset external id>``.

Offline by design: no external basemap (``map_provider=None``); Streamlit's own bundle
ships deck.gl, so the page needs nothing from the internet. View state and selection are
kept in ``st.session_state`` so reruns do not reset the camera or lose the clicked object.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import pandas as pd
import streamlit as st
from sqlalchemy import Connection, text

from scenes import network
from scenes._common import Camera, Scene, legend_markdown
from scenes.i18n import LANGS, Lang, name_of, t
from twin import db as dbm
from twin.errors import TwinError
from twin.services import twin_view as tv
from twin.settings import Settings, get_settings

#: Above this many edges the roads come as vector tiles from the API instead of inline.
INLINE_MAX_EDGES = 20_000
SCENES = ("network", "route", "port", "v2x", "rural", "scenario")
SCENE_LABEL = {
    "network": "scene_network",
    "route": "scene_route",
    "port": "scene_port",
    "v2x": "scene_v2x",
    "rural": "scene_rural",
    "scenario": "scenario",
}
MAP_HEIGHT_PX = 620
#: A session's first view of the network overview sends the map alone; the panels around
#: it (sidebar, legend, inspector) come with a rerun this long after (a fragment timer in
#: the browser, so it also waits while the browser is busy starting deck.gl). Rendering
#: the ~20 widgets and their lazily loaded code competes with deck.gl's start-up on the
#: browser's one main thread: with them in the first run the first frame came ~0.7 s later.
PANELS_DELAY_S = 0.5


# --------------------------------------------------------------------------- plumbing
@st.cache_resource(show_spinner=False)
def _settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Any:
    return dbm.get_engine(_settings(), url=url)


@st.cache_resource(show_spinner=False)
def _db_url() -> str:
    return dbm.database_url(_settings())


@contextmanager
def _conn() -> Iterator[Connection]:
    with _engine(_db_url()).connect() as conn:
        yield conn


@contextmanager
def _write() -> Iterator[Connection]:
    with _engine(_db_url()).begin() as conn:
        yield conn


def _data_version() -> int:
    return int(st.session_state.get("data_version", 0))


def _bump_data_version() -> None:
    st.session_state["data_version"] = _data_version() + 1
    st.cache_data.clear()
    _roads.clear()
    _structures.clear()
    _areas.clear()
    _network_scene.clear()


@st.cache_data(ttl=120, show_spinner=False)
def _summary(url: str, version: int) -> dict[str, Any]:
    with _conn() as c:
        return tv.network_summary(c)


@st.cache_resource(ttl=120, show_spinner=False)  # read-only: shared, not copied per run
def _roads(url: str, version: int) -> list[dict[str, Any]]:
    with _conn() as c:
        # ~1 m simplification: invisible on the overview, ~30 % fewer points to send/parse.
        return tv.road_edges(c, limit=INLINE_MAX_EDGES, simplify_deg=0.00001)


@st.cache_resource(ttl=120, show_spinner=False)  # read-only: shared, not copied per run
def _structures(url: str, version: int) -> list[dict[str, Any]]:
    with _conn() as c:
        return tv.structures(c)


@st.cache_resource(ttl=300, show_spinner=False)  # read-only: shared, not copied per run
def _areas(url: str, version: int) -> list[dict[str, Any]]:
    """Water and land use for the offline basemap (~20 m simplified: a few KB)."""
    with _conn() as c:
        return tv.land_areas(c, tolerance_deg=0.0002)


@st.cache_data(ttl=300, show_spinner=False)
def _corridors(url: str, version: int) -> dict[str, Any]:
    with _conn() as c:
        return tv.corridor_bounds(c, network.CORRIDOR_NAMES)


def _lang() -> Lang:
    lang = st.session_state.get("lang", "zh")
    return "en" if lang == "en" else "zh"


def _api_base(settings: Settings) -> str:
    return (settings.api_public_url or f"http://{settings.api_host}:{settings.api_port}").rstrip(
        "/"
    )


# --------------------------------------------------------------------------- view state
def _camera_state(scene: str, cams: list[Camera]) -> dict[str, float]:
    """The camera to open ``scene`` with: kept in session state so reruns don't reset it."""
    views: dict[str, dict[str, float]] = st.session_state.setdefault("views", {})
    if scene not in views:
        wanted = st.query_params.get("cam")
        cam = next((c for c in cams if c.key == wanted), cams[0])
        views[scene] = _view_param() or cam.as_dict()
    return views[scene]


def _view_param() -> dict[str, float] | None:
    """``?view=lon,lat,zoom[,pitch[,bearing]]`` (links, benchmarks)."""
    raw = st.query_params.get("view")
    if not raw:
        return None
    try:
        vals = [float(v) for v in raw.split(",")]
    except ValueError:
        return None
    if len(vals) < 3:
        return None
    pitch = vals[3] if len(vals) > 3 else 0.0
    bearing = vals[4] if len(vals) > 4 else 0.0
    return Camera("view", vals[0], vals[1], vals[2], pitch=pitch, bearing=bearing).as_dict()


def _set_camera(scene: str, cam: Camera) -> None:
    st.session_state.setdefault("views", {})[scene] = cam.as_dict()


def _camera_picker(scene: str, cams: list[Camera], lang: Lang) -> None:
    keys = [c.key for c in cams]
    current = st.session_state.get(f"cam-{scene}")
    if current not in keys:
        st.session_state[f"cam-{scene}"] = (
            st.query_params.get("cam", keys[0]) if st.query_params.get("cam") in keys else keys[0]
        )

    def _changed() -> None:
        key = st.session_state[f"cam-{scene}"]
        _set_camera(scene, next(c for c in cams if c.key == key))

    st.sidebar.selectbox(
        t("camera", lang),
        keys,
        format_func=lambda k: t(k, lang),
        key=f"cam-{scene}",
        on_change=_changed,
    )


def _focus_camera(scene: str, structures: list[dict[str, Any]]) -> None:
    """``?focus=<external id>`` centres the camera on that asset once (links, tests)."""
    focus = st.query_params.get("focus")
    done = st.session_state.setdefault("focus_done", set())
    if not focus or (scene, focus) in done:
        return
    for s in structures:
        if s.get("external_id") == focus and s.get("position"):
            lon, lat = s["position"]
            _set_camera(scene, Camera("focus", lon, lat, 15.0, pitch=0.0))
            break
    done.add((scene, focus))


# --------------------------------------------------------------------------- selection
def _show_deck(scene_key: str, scene: Scene) -> dict[str, Any] | None:
    """Draw the deck; return the selected object (kept in session state across reruns)."""
    event = st.pydeck_chart(
        scene.deck,
        on_select="rerun",
        selection_mode="single-object",
        key=f"deck-{scene_key}",
        height=MAP_HEIGHT_PX,
    )
    store: dict[str, Any] = st.session_state.setdefault("selected", {})
    objects = getattr(getattr(event, "selection", None), "objects", None) or {}
    for layer_id, objs in objects.items():
        if objs:
            store[scene_key] = {"layer": layer_id, "object": objs[0]}
            break
    return store.get(scene_key)


def _legend(scene: Scene) -> None:
    st.markdown(legend_markdown(scene.legend_title, scene.legend), unsafe_allow_html=True)
    for n in scene.notes:
        st.caption(n)


# --------------------------------------------------------------------------- scenes
def render_network(settings: Settings, lang: Lang) -> None:
    url = _db_url()
    with st.spinner(t("loading", lang)):
        summary = _summary(url, _data_version())
        structures = _structures(url, _data_version())
        corridors = _corridors(url, _data_version())
    if summary["edges"] == 0 and not structures:
        st.info(t("no_data", lang))
    if "color_by" not in st.session_state:
        wanted = st.query_params.get("color")
        st.session_state["color_by"] = (
            wanted if wanted in ("class", "condition", "limit") else "class"
        )
    color_by = st.session_state["color_by"]
    cams = network.cameras(overview_bounds=summary["extent"], corridor_bounds=corridors)
    _focus_camera("network", structures)
    camera = _camera_state("network", cams)
    # Big networks come as vector tiles; ``?tiles=1`` forces them (checks, demos).
    tiled = summary["edges"] > INLINE_MAX_EDGES or st.query_params.get("tiles") == "1"
    with st.spinner(t("loading", lang)):
        scene = _network_scene(
            url,
            _data_version(),
            lang=lang,
            color_by=color_by,
            camera=tuple(sorted(camera.items())),
            tiled=tiled,
            api_base=_api_base(settings),
            tile_url=settings.tile_url,
            only=st.query_params.get("only"),
        )
    _map_and_panel("network", scene, settings, lang)
    if not _panels_ready():
        return
    # Controls after the map: the sidebar keeps its layout, the map reaches the browser first.
    st.sidebar.radio(
        t("color_by", lang),
        ["class", "condition", "limit"],
        format_func=lambda k: t(
            {"class": "by_class", "condition": "by_condition", "limit": "by_limit"}[k], lang
        ),
        key="color_by",
    )
    _camera_picker("network", cams, lang)


@st.cache_resource(ttl=300, max_entries=32, show_spinner=False)
def _network_scene(
    url: str,
    version: int,
    *,
    lang: Lang,
    color_by: str,
    camera: tuple[tuple[str, float], ...],
    tiled: bool,
    api_base: str,
    tile_url: str | None,
    only: str | None,
) -> Scene:
    """The network overview for one view, built and serialised once and shared by every
    session that opens the same view (the first page of most visits): a page load then
    sends the cached JSON instead of rebuilding ~0.5 MB of layer data.

    ``only`` (``?only=ground,roads``) keeps just those layers: benchmark breakdowns."""
    summary = _summary(url, version)
    tiles = None
    roads: list[dict[str, Any]] = []
    if tiled:
        tiles = {
            "url": f"{api_base}/tiles/road_edge/{{z}}/{{x}}/{{y}}.pbf",
            "edge_count": summary["edges"],
            "worker_url": f"{api_base}/tiles/mvt-worker.js",
        }
    else:
        roads = _roads(url, version)
    scene = network.build(
        roads=roads,
        structures=_structures(url, version),
        lang=lang,
        color_by=cast(network.ColorBy, color_by),
        tiles=tiles,
        camera=dict(camera),
        corridor_bounds=_corridors(url, version),
        extent=summary["extent"],
        areas=_areas(url, version),
        tile_url=tile_url,
        worker_url=f"{api_base}/tiles/mvt-worker.js",
    )
    if only:
        keep = set(only.split(","))
        scene.deck.layers = [layer for layer in scene.deck.layers if layer.id in keep]
    scene.deck.freeze()
    return scene


def _map_and_panel(scene_key: str, scene: Scene, settings: Settings, lang: Lang) -> None:
    left, right = st.columns([3, 1.25], gap="medium")
    with left:
        selected = _show_deck(scene_key, scene)
        if not _panels_ready():
            return  # the same layout, the panels come with the next run
        st.caption(t("click_hint", lang) + " · " + t("offline_note", lang))
    with right:
        _legend(scene)
        st.divider()
        render_inspector(selected, settings, lang)


# --------------------------------------------------------------------------- inspector
def render_inspector(selected: dict[str, Any] | None, settings: Settings, lang: Lang) -> None:
    st.subheader(t("inspector", lang))
    if not selected:
        st.caption(t("click_hint", lang))
        return
    obj = selected["object"] or {}
    asset_id = obj.get("asset_id")
    if asset_id is None:
        _edge_card(obj, lang)
        return
    try:
        with st.spinner(t("loading", lang)), _conn() as c:
            card = tv.asset_card(c, int(asset_id))
    except TwinError as exc:
        st.warning(exc.message)
        return
    a = card["asset"]
    st.markdown(f"### {name_of(a, lang)}")
    st.caption(f"{a['external_id']} · {t(a['kind'], lang)}")
    facts = {
        t("kind", lang): t(a["kind"], lang),
        t("road_code", lang): a.get("road_code") or "—",
        t("stake", lang): a.get("stake") or "—",
        t("lifecycle", lang): a.get("lifecycle_state") or "—",
        t("condition_class", lang): a.get("cond_class") or "—",
        t("owner", lang): a.get("owner") or "—",
        t("built_on", lang): str(a.get("built_on") or "—"),
    }
    st.table(
        pd.DataFrame({"": list(facts.keys()), " ": [str(v) for v in facts.values()]}).set_index("")
    )
    _limits_table(card["limits"], lang)
    _inspection_history(card["inspections"], lang, asset=a)
    _work_orders(card["work_orders"], lang)
    _bim(card["bim_models"], a, lang)
    _actions(int(asset_id), settings, lang)


def _edge_card(obj: dict[str, Any], lang: Lang) -> None:
    st.markdown(f"### {t('road', lang)}")  # a road stretch (see network.road_layer)
    label = str(obj.get("label") or "")
    st.markdown(label.replace("\n", "  \n"))


def _limits_table(limits: list[dict[str, Any]], lang: Lang) -> None:
    st.markdown(f"**{t('limits', lang)}**")
    if not limits:
        st.caption(t("none_yet", lang))
        return
    rows = []
    for lim in limits:
        kind = lim["kind"]
        value = lim["value"]
        if value is None:
            shown = "∞" if lim.get("unlimited") else (lim.get("value_text") or "?")
        elif kind in ("height", "width", "length"):
            shown = f"{value / 100:.2f} m"
        elif kind in ("weight", "axle_load"):
            shown = f"{value / 1000:.1f} t"
        else:
            shown = str(value)
        rows.append(
            {
                t("kind", lang): kind,
                "value": shown,
                "source": lim["source_kind"],
                t("status", lang): lim["status"],
            }
        )
    st.table(pd.DataFrame(rows).set_index(t("kind", lang)))


def _inspection_history(
    inspections: list[dict[str, Any]], lang: Lang, *, asset: dict[str, Any]
) -> None:
    st.markdown(f"**{t('inspections', lang)}**")
    if not inspections:
        st.caption(t("none_yet", lang))
        return
    df = pd.DataFrame(inspections)
    df["inspected_on"] = pd.to_datetime(df["inspected_on"])
    st.markdown(f"*{t('condition_chart', lang)}* — {t('score', lang)}")
    st.line_chart(df.set_index("inspected_on")[["overall_score"]], height=160)
    show = df[["inspected_on", "overall_score", "condition_class", "inspector"]].rename(
        columns={
            "inspected_on": t("date", lang),
            "overall_score": t("score", lang),
            "condition_class": t("condition_class", lang),
        }
    )
    st.dataframe(show, hide_index=True, use_container_width=True)
    _forecast(inspections, asset, lang)


@st.cache_data(ttl=600, show_spinner=False)
def _markov_matrix(url: str, version: int, kind: str) -> tuple[list[list[float]], int]:
    """The one-year transition matrix fitted (assets.markov) on every graded inspection of
    assets of ``kind``, and the number of yearly pairs it rests on."""
    from assets.markov import Observation, fit

    with _conn() as c:
        obs = [Observation(a, d, k) for a, d, k in tv.inspection_observations(c, kind)]
    f = fit(obs)
    return f.matrix.tolist(), int(f.n_pairs)


def _forecast(inspections: list[dict[str, Any]], asset: dict[str, Any], lang: Lang) -> None:
    st.markdown(f"**{t('forecast', lang)}**")
    current = next(
        (i["condition_class"] for i in reversed(inspections) if i.get("condition_class")), None
    )
    if current is None:
        st.caption(t("none_yet", lang))
        return
    import numpy as np

    from assets.markov import forecast

    matrix, pairs = _markov_matrix(_db_url(), _data_version(), asset["kind"])
    years = 10
    dist = forecast(np.asarray(matrix), int(current), years=years)
    start = max(i["inspected_on"] for i in inspections if i.get("condition_class")).year
    df = pd.DataFrame(dist, columns=[t(f"cond_{k}", lang) for k in range(1, 6)])
    df.index = [start + y for y in range(years + 1)]
    st.area_chart(df, height=170)
    expected = (dist * np.arange(1, 6)).sum(axis=1)
    st.caption(
        f"Markov ({pairs} pairs): {t('condition_class', lang)} {current} → "
        f"{expected[5]:.1f} (+5 a), {expected[10]:.1f} (+10 a)"
    )


def _work_orders(orders: list[dict[str, Any]], lang: Lang) -> None:
    st.markdown(f"**{t('work_orders', lang)}**")
    if not orders:
        st.caption(t("none_yet", lang))
        return
    df = pd.DataFrame(orders)[["id", "kind", "status", "title", "estimated_cost_cny", "opened_on"]]
    st.dataframe(df, hide_index=True, use_container_width=True)


def _bim(models: list[dict[str, Any]], asset: dict[str, Any], lang: Lang) -> None:
    """The asset's IFC models: file facts and the triangulated model drawn in place
    (deck.gl ScenegraphLayer with the GLB inlined as a data URI, no other server needed),
    the asset's register line beside it; a click on an element (its box) shows its
    class, name, property sets and quantities."""
    st.markdown(f"**{t('bim', lang)}**")
    if not models:
        st.caption(t("none_yet", lang))
        return
    import pydeck as pdk

    from scenes._common import literal, make_deck

    for m in models:
        st.caption(f"{m['file_name']} · {m['ifc_schema']} · {m['element_count']} elements")
        try:
            from twin.services.bim import model_view

            with _conn() as c:
                view = model_view(c, int(m["id"]), with_elements=True)
        except (ImportError, TwinError):
            view = None
        uri = tv.glb_data_uri((view or m).get("glb_path"))
        if not view or not view.get("deck") or not uri:
            continue
        d = view["deck"]
        layers = []
        if m.get("footprint"):
            layers.append(
                pdk.Layer(
                    "PolygonLayer",
                    id=f"bim-fp-{m['id']}",
                    data=[{"polygon": m["footprint"]}],
                    get_polygon="polygon",
                    get_fill_color=[0, 200, 255, 40],
                    get_line_color=[0, 200, 255, 200],
                    line_width_min_pixels=1,
                )
            )
        if view.get("asset_paths"):
            layers.append(
                pdk.Layer(
                    "PathLayer",
                    id=f"bim-asset-{m['id']}",
                    data=[{"path": p} for p in view["asset_paths"]],
                    get_path="path",
                    get_color=d["asset_line_rgb"],
                    width_min_pixels=3,
                )
            )
        layers.append(
            pdk.Layer(
                "ScenegraphLayer",
                id=f"bim-{m['id']}",
                data=[{"position": d["position"]}],
                scenegraph=literal(uri),
                get_position="position",
                get_orientation=d["orientation"],
                size_scale=d.get("size_scale", 1.0),
                _lighting="'pbr'",
                pickable=False,
            )
        )
        if view.get("elements"):  # deck.gl picks a scenegraph whole: boxes pick elements
            layers.append(
                pdk.Layer(
                    "PolygonLayer",
                    id=f"bim-elements-{m['id']}",
                    data=[
                        {**e, "polygon": [[x, y, e["base_m"]] for x, y in e["polygon"]]}
                        for e in view["elements"]
                    ],
                    get_polygon="polygon",
                    get_elevation="height_m",
                    extruded=True,
                    get_fill_color=[255, 255, 255, 6],
                    stroked=False,
                    pickable=True,
                    auto_highlight=True,
                    highlight_color=[255, 255, 0, 90],
                )
            )
        deck = make_deck(layers, d["view_state"], tooltip={"text": "{ifc_class} {name}"})
        event = st.pydeck_chart(
            deck,
            height=260,
            key=f"bim-deck-{m['id']}",
            on_select="rerun",
            selection_mode="single-object",
        )
        objects = getattr(getattr(event, "selection", None), "objects", None) or {}
        picked = (objects.get(f"bim-elements-{m['id']}") or [None])[0]
        if picked:
            _bim_element(int(m["id"]), str(picked["global_id"]))


def _bim_element(model_id: int, global_id: str) -> None:
    """Class, name, container, property sets and quantities of one picked BIM element."""
    from twin.services.bim import element_info

    try:
        with _conn() as c:
            e = element_info(c, model_id, global_id)
    except TwinError as exc:
        st.warning(exc.message)
        return
    st.markdown(f"**{e['ifc_class']}** · {e['name'] or '—'} · `{e['global_id']}`")
    if e.get("container_name") or e.get("container"):
        st.caption(f"{e.get('container_class') or ''} {e.get('container_name') or e['container']}")
    rows = [
        {"set": name, "property": k, "value": str(v)}
        for group in (e.get("psets") or {}, e.get("quantities") or {})
        for name, props in group.items()
        for k, v in props.items()
    ]
    if rows:
        st.table(pd.DataFrame(rows).set_index("set"))
    else:
        st.caption("no property sets / 无属性集")


def _actions(asset_id: int, settings: Settings, lang: Lang) -> None:
    st.markdown(f"**{t('actions', lang)}**")
    user = st.session_state.get("user")
    if not user:
        st.caption(t("login_note", lang))
        return
    with st.form(f"inspect-{asset_id}", clear_on_submit=True):
        st.markdown(t("record_inspection", lang))
        day = st.date_input(t("date", lang), value=dt.date.today())
        score = st.number_input(t("score", lang), min_value=0.0, max_value=100.0, value=80.0)
        cls = st.selectbox(t("condition_class", lang), [1, 2, 3, 4, 5], index=1)
        notes = st.text_input(t("notes", lang))
        if st.form_submit_button(t("record_inspection", lang)):
            try:
                with st.spinner(t("loading", lang)), _write() as c:
                    _record_inspection(
                        c, asset_id, day=day, user=user, score=score, cls=int(cls), notes=notes
                    )
                _bump_data_version()
                st.success(t("saved", lang))
            except TwinError as exc:
                st.error(exc.message)
    with st.form(f"wo-{asset_id}", clear_on_submit=True):
        st.markdown(t("create_work_order", lang))
        kind = st.selectbox(
            t("kind", lang), ["repair", "routine", "rehabilitation", "replacement", "inspection"]
        )
        title = st.text_input(t("title", lang))
        cost = st.number_input(t("cost_cny", lang), min_value=0.0, value=0.0, step=10000.0)
        if st.form_submit_button(t("create_work_order", lang)):
            try:
                with _write() as c:
                    _create_work_order(
                        c, asset_id, user=user, kind=kind, title=title, cost=cost or None
                    )
                _bump_data_version()
                st.success(t("saved", lang))
            except TwinError as exc:
                st.error(exc.message)


def _record_inspection(
    c: Connection, asset_id: int, *, day: dt.date, user: str, score: float, cls: int, notes: str
) -> None:
    """Through ``twin.services.assets.record_inspection`` (grading, limit proposals, audit)
    for kinds graded from an overall score; bridges, tunnels and pavements are graded from
    component scores there, so an overall score alone is stored as given (with audit)."""
    kind = c.execute(text("SELECT kind FROM asset WHERE id = :i"), {"i": asset_id}).scalar()
    try:
        from twin.services.assets import record_inspection
    except ImportError:
        record_inspection = None  # type: ignore[assignment]
    if record_inspection is not None and kind not in ("bridge", "tunnel", "pavement_section"):
        record_inspection(
            c,
            asset_id,
            inspected_on=day,
            component_scores={"score": score},
            inspector=user,
            notes=notes or None,
            actor=user,
        )
        return
    tv.record_inspection_rows(
        c,
        asset_id,
        inspected_on=day,
        inspector=user,
        overall_score=score,
        condition_class=cls,
        notes=notes or None,
    )


def _create_work_order(
    c: Connection, asset_id: int, *, user: str, kind: str, title: str, cost: float | None
) -> None:
    try:
        from twin.services.work_orders import create_work_order
    except ImportError:
        tv.create_work_order_row(
            c, asset_id, actor=user, kind=kind, title=title, estimated_cost_cny=cost
        )
        return
    create_work_order(
        c, asset_id=asset_id, kind=kind, title=title, estimated_cost_cny=cost, actor=user
    )


def _login(settings: Settings, lang: Lang) -> None:
    from twin.services.app_users import verify

    box = st.expander(t("login", lang), expanded=False)
    user = st.session_state.get("user")
    if user:
        box.write(f"👷 {user}")
        if box.button(t("logout", lang)):
            st.session_state.pop("user", None)
            st.rerun()
        return
    with box.form("login"):
        name = st.text_input(t("user", lang))
        pw = st.text_input(t("password", lang), type="password")
        if st.form_submit_button(t("login", lang)):
            if verify(settings, name, pw):
                st.session_state["user"] = name.strip()
                st.rerun()
            else:
                st.error(t("login_failed", lang))
    box.caption(t("login_note", lang))


# --------------------------------------------------------------------------- route check
@st.cache_data(ttl=300, show_spinner=False)
def _places(url: str, version: int) -> list[dict[str, Any]]:
    with _conn() as c:
        return tv.named_places(c)


@st.cache_data(ttl=300, show_spinner=False)
def _pick_nodes(url: str, version: int) -> list[dict[str, Any]]:
    with _conn() as c:
        return tv.pick_nodes(c)


def _parse_point(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError:
        return None
    return (lon, lat)


def _vehicle_inputs(lang: Lang) -> Any:
    from road_network.vehicle import PRESETS, make_profile

    names = sorted(PRESETS)
    if "route_preset" not in st.session_state:
        wanted = st.query_params.get("preset")
        st.session_state["route_preset"] = wanted if wanted in names else "container40hc"
    preset = st.sidebar.selectbox(t("preset", lang), names, key="route_preset")
    base = PRESETS[preset]
    with st.sidebar.expander(t("vehicle", lang), expanded=False):
        h = st.number_input(
            t("height_m", lang), 1.0, 8.0, base.height_cm / 100, 0.05, key=f"vh-{preset}"
        )
        w = st.number_input(
            t("width_m", lang), 1.0, 8.0, base.width_cm / 100, 0.05, key=f"vw-{preset}"
        )
        ln = st.number_input(
            t("vehicle_length_m", lang), 2.0, 60.0, base.length_cm / 100, 0.5, key=f"vl-{preset}"
        )
        m = st.number_input(
            t("weight_t", lang), 1.0, 300.0, base.gross_weight_kg / 1000, 0.5, key=f"vm-{preset}"
        )
        a = st.number_input(
            t("axle_load_t", lang), 0.5, 40.0, base.axle_load_kg / 1000, 0.5, key=f"va-{preset}"
        )
    return make_profile(
        preset=preset, height_m=h, width_m=w, length_m=ln, weight_t=m, axle_load_t=a
    )


def _endpoint_picker(
    which: str, places: list[dict[str, Any]], lang: Lang
) -> tuple[float, float] | None:
    key = f"route_{which}"
    if key not in st.session_state:
        st.session_state[key] = _parse_point(
            st.query_params.get("from" if which == "origin" else "to")
        )
    options = ["—", *[f"{name_of(p, lang)} ({p['kind']})" for p in places]]

    def _chosen() -> None:
        label = st.session_state[f"{key}_pick"]
        if label != "—":
            p = places[options.index(label) - 1]
            st.session_state[key] = tuple(p["position"])

    st.sidebar.selectbox(t(which, lang), options, key=f"{key}_pick", on_change=_chosen)
    pt = st.session_state.get(key)
    if pt:
        st.sidebar.caption(f"{t(which, lang)}: {pt[0]:.5f}, {pt[1]:.5f}")
    return pt


def render_route(settings: Settings, lang: Lang) -> None:
    from road_network.vehicle import VehicleError
    from scenes import route as route_scene
    from twin.errors import InputError, NoRoute

    url = _db_url()
    with st.spinner(t("loading", lang)):
        roads = _roads(url, _data_version())
        places = _places(url, _data_version())
        nodes = _pick_nodes(url, _data_version())
    try:
        vehicle = _vehicle_inputs(lang)
    except VehicleError as exc:
        st.sidebar.error(str(exc))
        return
    origin = _endpoint_picker("origin", places, lang)
    destination = _endpoint_picker("destination", places, lang)
    answer: dict[str, Any] | None = None
    no_route: dict[str, Any] | None = None
    message: str | None = None
    if origin and destination:
        try:
            from twin.services import routing
        except ImportError:
            routing = None  # type: ignore[assignment]
        if routing is None:
            message = t("route_engine_pending", lang)
        else:
            run_key = (vehicle.key(), origin, destination, _data_version())
            cached = st.session_state.get("route_result")
            if not cached or cached[0] != run_key:
                with st.spinner(t("check_route", lang) + "…"), _conn() as c:
                    graph = routing.get_graph(settings, c)
                    try:
                        result: Any = (
                            "ok",
                            routing.check_route(graph, vehicle, origin, destination),
                        )
                    except NoRoute as exc:
                        result = ("no_route", exc.message, exc.details)
                    except InputError as exc:
                        result = ("input", exc.message, exc.details)
                st.session_state["route_result"] = (run_key, result)
                st.session_state.get("views", {}).pop("route", None)  # frame the new route
            result = st.session_state["route_result"][1]
            if result[0] == "ok":
                answer = result[1]
            elif result[0] == "no_route":
                message = f"{t('no_route', lang)}: {result[1]}"
                no_route = (
                    result[2] if isinstance(result[2], dict) else {"blocking": result[2] or []}
                )
            else:
                message = result[1]
    cams_key = "route"
    scene = route_scene.build(
        roads=roads,
        answer=answer,
        no_route=no_route,
        origin=origin,
        destination=destination,
        nodes=nodes,
        lang=lang,
        camera=st.session_state.get("views", {}).get(cams_key),
        areas=_areas(_db_url(), _data_version()),
    )
    if "views" not in st.session_state or cams_key not in st.session_state["views"]:
        _set_camera(cams_key, scene.cameras[0])
    left, right = st.columns([3, 1.25], gap="medium")
    with left:
        selected = _show_deck("route", scene)
        if message:
            st.warning(message)
        for n in scene.notes:
            st.markdown(f"**{n}**")
        if scene.tables["blocking"]:
            st.markdown(f"#### {t('blocking', lang)}")
            st.table(pd.DataFrame(scene.tables["blocking"]))
        if scene.tables["passed"]:
            st.markdown(f"#### {t('passed', lang)}")
            st.table(pd.DataFrame(scene.tables["passed"]))
    with right:
        _legend(scene)
        st.divider()
        if selected and selected["layer"] == "pick_points":
            pos = tuple(selected["object"]["position"])
            st.markdown(f"**{t('selected', lang)}**: {selected['object'].get('label')}")
            c1, c2 = st.columns(2)
            if c1.button(t("use_as_origin", lang)):
                st.session_state["route_origin"] = pos
                st.rerun()
            if c2.button(t("use_as_destination", lang)):
                st.session_state["route_destination"] = pos
                st.rerun()
        else:
            render_inspector(selected, settings, lang)


# --------------------------------------------------------------------------- port / v2x / rural
@st.cache_data(ttl=120, show_spinner=False)
def _port(url: str, version: int) -> dict[str, Any]:
    with _conn() as c:
        return tv.port_features(c)


@st.cache_data(ttl=120, show_spinner=False)
def _v2x(url: str, version: int) -> dict[str, Any]:
    from scenes.v2x import coverage_gaps

    with _conn() as c:
        feats = tv.v2x_features(c)
        feats["gaps"] = tv.stake_paths(c, coverage_gaps(feats["units"]))
        return feats


@st.cache_data(ttl=120, show_spinner=False)
def _villages(url: str, version: int) -> list[dict[str, Any]]:
    with _conn() as c:
        return tv.villages(c)


def _simple_scene(
    scene_key: str, scene: Scene, settings: Settings, lang: Lang, table: str | None = None
) -> None:
    left, right = st.columns([3, 1.25], gap="medium")
    with left:
        selected = _show_deck(scene_key, scene)
        if table and scene.tables.get(table):
            st.table(pd.DataFrame(scene.tables[table]))
    with right:
        _legend(scene)
        st.divider()
        _feature_card(selected, settings, lang)


def _feature_card(selected: dict[str, Any] | None, settings: Settings, lang: Lang) -> None:
    """Assets open the inspector; other features (yards, lanes, RSUs, villages) show their
    properties."""
    if selected and (selected.get("object") or {}).get("asset_id") is None and selected["object"]:
        obj = selected["object"]
        st.subheader(t("selected", lang))
        st.markdown(str(obj.get("label") or obj.get("code") or "").replace("\n", "  \n"))
        props = {
            k: v
            for k, v in obj.items()
            if k not in ("label", "path", "polygon", "position", "color", "fill", "icon")
            and not isinstance(v, dict | list)
        }
        st.table(
            pd.DataFrame({"": list(props), " ": [str(v) for v in props.values()]}).set_index("")
        )
        return
    render_inspector(selected, settings, lang)


def render_port(settings: Settings, lang: Lang) -> None:
    from scenes import port

    url = _db_url()
    with st.spinner(t("loading", lang)):
        feats = _port(url, _data_version())
        roads = _roads(url, _data_version())
    if not feats["yards"]:
        st.info(t("no_data", lang))
    probe = port.build_port(yards=feats["yards"], lanes=feats["lanes"], roads=roads, lang=lang)
    cam = _camera_state("port", probe.cameras)
    scene = port.build_port(
        yards=feats["yards"],
        lanes=feats["lanes"],
        roads=roads,
        lang=lang,
        camera=cam,
        areas=_areas(url, _data_version()),
    )
    _simple_scene("port", scene, settings, lang, table="lanes")


def render_v2x(settings: Settings, lang: Lang) -> None:
    from scenes import v2x

    url = _db_url()
    with st.spinner(t("loading", lang)):
        feats = _v2x(url, _data_version())
        roads = _roads(url, _data_version())
    if not feats["units"]:
        st.info(t("no_data", lang))
    kw = {
        "units": feats["units"],
        "messages": feats["messages"],
        "roads": roads,
        "gap_paths": feats["gaps"],
        "lang": lang,
    }
    cam = _camera_state("v2x", v2x.build_v2x(**kw).cameras)
    scene = v2x.build_v2x(**kw, camera=cam, areas=_areas(url, _data_version()))
    _simple_scene("v2x", scene, settings, lang, table="gaps")


def _reachability(settings: Settings, vehicle_preset: str) -> dict[str, dict[str, Any]]:
    """Village reachability for a vehicle: the scenario engine's baseline run (no change)."""
    from road_network.vehicle import make_profile
    from twin.services.scenarios import ScenarioRequest, run_scenario

    key = ("reach", vehicle_preset, _data_version())
    cached = st.session_state.get("reach")
    if cached and cached[0] == key:
        return dict(cached[1])
    with _conn() as c:
        res = run_scenario(
            c,
            settings,
            ScenarioRequest(
                name="baseline", vehicle=make_profile(preset=vehicle_preset), trips=[], save=False
            ),
        )
    reach = {
        v["code"]: {
            "reachable": bool(v["reachable_before"]),
            "to_main_road_m": v.get("to_main_road_before_m"),
        }
        for v in res.get("villages") or []
    }
    st.session_state["reach"] = (key, reach)
    return reach


def render_rural(settings: Settings, lang: Lang) -> None:
    from road_network.vehicle import PRESETS
    from scenes import rural

    url = _db_url()
    with st.spinner(t("loading", lang)):
        villages = _villages(url, _data_version())
        roads = _roads(url, _data_version())
    preset = st.sidebar.selectbox(
        t("preset", lang),
        sorted(PRESETS),
        index=sorted(PRESETS).index("gb1589"),
        key="rural_preset",
    )
    reach: dict[str, dict[str, Any]] | None = None
    if villages:
        try:
            with st.spinner(t("loading", lang)):
                reach = _reachability(settings, preset)
        except TwinError as exc:
            st.warning(exc.message)
    else:
        st.info(t("no_data", lang))
    cam = _camera_state(
        "rural", rural.build_rural(villages=villages, roads=roads, lang=lang).cameras
    )
    scene = rural.build_rural(
        villages=villages,
        roads=roads,
        reach=reach,
        lang=lang,
        camera=cam,
        areas=_areas(url, _data_version()),
    )
    _simple_scene("rural", scene, settings, lang, table="villages")


# --------------------------------------------------------------------------- scenario
@st.cache_resource(show_spinner=False)
def _scenario_runs() -> dict[str, dict[str, Any]]:
    """Background scenario runs by id, shared by the process. A cached resource, not a
    module global: Streamlit re-executes this script in a fresh namespace on every rerun,
    which would forget a run still going when the user touches any widget."""
    return {}


def _start_scenario(settings: Settings, request: Any, run_id: str) -> None:
    """Run a scenario in a background thread (saved to the database when done)."""
    import threading

    runs = _scenario_runs()
    runs[run_id] = {"status": "running", "started": time.time()}

    def work() -> None:
        from twin.services.scenarios import run_scenario

        try:
            with _write() as c:
                res = run_scenario(c, settings, request)
            runs[run_id] = {"status": "done", "id": res.get("id"), "seconds": res.get("seconds")}
        except TwinError as exc:
            runs[run_id] = {"status": "error", "message": exc.message}
        except Exception as exc:  # reported in the page, not a traceback
            runs[run_id] = {"status": "error", "message": str(exc)}

    threading.Thread(target=work, daemon=True, name=f"scenario-{run_id}").start()


def _scenario_form(settings: Settings, lang: Lang, structures: list[dict[str, Any]]) -> None:
    from road_network.scenario import LimitChange
    from road_network.vehicle import PRESETS, make_profile
    from twin.services.scenarios import ScenarioRequest

    with st.sidebar.form("scenario"):
        st.markdown(f"**{t('scenario', lang)}**")
        name = st.text_input(t("name", lang), value="scenario")
        preset = st.selectbox(
            t("preset", lang), sorted(PRESETS), index=sorted(PRESETS).index("container40hc")
        )
        labels = {s["external_id"]: f"{name_of(s, lang)} ({s['external_id']})" for s in structures}
        close = st.multiselect(
            t("closed_edge", lang), list(labels), format_func=lambda k: labels[k]
        )
        lim_asset = st.selectbox(
            t("changed_limit", lang), ["—", *labels], format_func=lambda k: labels.get(k, k)
        )
        lim_kind = st.selectbox(t("kind", lang), ["weight", "height"])
        lim_value = st.number_input(
            t("weight_limit_t", lang) + " / " + t("height_limit_m", lang), 0.5, 100.0, 20.0
        )
        with _conn() as c:
            rasters = tv.water_rasters(c)
        flood = st.selectbox(
            t("flood", lang),
            [None, *[r["id"] for r in rasters]],
            format_func=lambda i: (
                "—" if i is None else next(r["name"] for r in rasters if r["id"] == i)
            ),
        )
        if st.form_submit_button(t("scenario", lang) + " ▶"):
            changes = []
            if lim_asset != "—":
                value = int(lim_value * 1000) if lim_kind == "weight" else int(lim_value * 100)
                changes.append(LimitChange(lim_asset, lim_kind, value))
            req = ScenarioRequest(
                name=name,
                vehicle=make_profile(preset=preset),
                close_assets=list(close),
                limit_changes=changes,
                flood_raster_id=flood,
                actor=st.session_state.get("user"),
            )
            run_id = f"{time.time():.6f}"
            st.session_state["scenario_run"] = run_id
            st.session_state.pop("scenario_error", None)
            _start_scenario(settings, req, run_id)


@st.fragment(run_every=1.0)
def _scenario_progress(lang: Lang) -> None:
    """Polls the background run without blocking the rest of the page."""
    if st.session_state.get("scenario_error"):
        st.error(st.session_state["scenario_error"])
    run_id = st.session_state.get("scenario_run")
    run = _scenario_runs().get(run_id or "")
    if not run:
        return
    if run["status"] == "running":
        # Not used as a context manager: leaving the ``with`` block would mark it complete.
        box = st.status(t("scenario_running", lang), state="running", expanded=True)
        box.write(f"{time.time() - run['started']:.0f} s")
    elif run["status"] == "done":
        # Show the new scenario: picked before the picker is drawn in the full rerun. No
        # data version bump: a scenario changes no road, structure or area.
        st.session_state["scenario_id"] = run["id"]
        st.session_state["scenario_new"] = run["id"]
        st.session_state.pop("scenario_run", None)
        st.rerun(scope="app")
    else:  # kept until the next run is started, so the message does not flash by
        st.session_state["scenario_error"] = run.get("message")
        st.session_state.pop("scenario_run", None)
        st.error(run.get("message"))


def render_scenario(settings: Settings, lang: Lang) -> None:
    from scenes import scenario as sc

    url = _db_url()
    with st.spinner(t("loading", lang)):
        roads = _roads(url, _data_version())
        structures = _structures(url, _data_version())
        with _conn() as c:
            rows = tv.scenarios(c)
    _scenario_form(settings, lang, structures)
    _scenario_progress(lang)
    if not rows:
        st.info(t("scenario_pending", lang))
        return
    ids = [r["id"] for r in rows]
    wanted = st.session_state.get("scenario_id") or (
        int(st.query_params["scenario_id"])
        if str(st.query_params.get("scenario_id", "")).isdigit()
        else None
    )
    new = st.session_state.pop("scenario_new", None)
    if new in ids:
        st.session_state["scenario_pick"] = new
    if st.session_state.get("scenario_pick") not in ids:
        st.session_state["scenario_pick"] = wanted if wanted in ids else ids[0]
    pick = st.selectbox(
        t("scenario", lang),
        ids,
        key="scenario_pick",
        format_func=lambda i: next(
            f"#{r['id']} {r['name']} ({r['kind']})" for r in rows if r["id"] == i
        ),
    )
    row = next(r for r in rows if r["id"] == pick)
    st.markdown(f"### {row['name']}")
    result = dict(row["result"] or {})
    result.setdefault("params", row.get("params") or {})
    # Closed structures drawn where they are (the result lists their ids).
    by_ext = {s["external_id"]: s for s in structures}
    by_id = {str(s["asset_id"]): s for s in structures}
    marks = list(result.get("changed_structures") or [])
    for ref in (result.get("params") or {}).get("close_assets") or []:
        s_ = by_ext.get(str(ref)) or by_id.get(str(ref))
        if s_ and s_.get("position"):
            marks.append(
                {
                    "external_id": s_["external_id"],
                    "lon": s_["position"][0],
                    "lat": s_["position"][1],
                }
            )
    result["changed_structures"] = marks
    raster_id = (result.get("params") or {}).get("flood_raster_id")
    if raster_id:
        try:
            with st.spinner(t("loading", lang)), _conn() as c:
                result["flood"] = tv.flood_overlay(c, int(raster_id))
        except (TwinError, OSError) as exc:
            st.caption(str(exc))
    summ = result.get("summary") or {}
    if summ:
        cols = st.columns(4)
        cols[0].metric(
            t("affected_od", lang),
            f"{summ.get('trips_cut_off', 0)} / {summ.get('trips_detoured', 0)}",
        )
        cols[1].metric(t("extra_length_km", lang), f"{(summ.get('max_detour_m') or 0) / 1000:.1f}")
        cols[2].metric(t("affected_villages", lang), summ.get("villages_cut_off_vehicle", 0))
        # ``closed_edges`` already counts the flooded ones; closed structures come on top.
        closed_assets = (result.get("params") or {}).get("close_assets") or []
        cols[3].metric(t("closed_edge", lang), summ.get("closed_edges", 0) + len(closed_assets))
    before = sc.build(result, side="before", roads=roads, lang=lang)
    views = st.session_state.setdefault("views", {})
    cam = views.setdefault(f"scenario-{pick}", before.cameras[0].as_dict())
    areas = _areas(url, _data_version())
    before = sc.build(result, side="before", roads=roads, lang=lang, camera=cam, areas=areas)
    after = sc.build(result, side="after", roads=roads, lang=lang, camera=cam, areas=areas)
    c1, c2 = st.columns(2, gap="small")
    with c1:
        st.markdown(f"#### {t('before', lang)}")
        st.pydeck_chart(before.deck, height=480, key=f"scn-before-{pick}")
        _legend(before)
    with c2:
        st.markdown(f"#### {t('after', lang)}")
        st.pydeck_chart(after.deck, height=480, key=f"scn-after-{pick}")
        _legend(after)
    if after.tables["trips"]:
        st.markdown(f"#### {t('affected_od', lang)}")
        st.table(pd.DataFrame(after.tables["trips"]))
    if after.tables["villages"]:
        st.markdown(f"#### {t('affected_villages', lang)}")
        st.table(pd.DataFrame(after.tables["villages"]))


# --------------------------------------------------------------------------- map first
def _panels_ready() -> bool:
    """False on the first run of a session that opens the network overview: that run sends
    the map alone (see :data:`PANELS_DELAY_S`)."""
    return bool(st.session_state.get("panels_ready", True))


@st.fragment(run_every=PANELS_DELAY_S)
def _panels_later() -> None:
    """Called by the map-only first run (it only arms itself then); its first tick in the
    browser reruns the whole page, now with the panels. Any full run ends the timer (the
    fragment is not called again), so a click before the tick shows the panels as well."""
    if st.session_state.get("panels_armed"):
        st.rerun(scope="app")
    st.session_state["panels_armed"] = True


# --------------------------------------------------------------------------- main
RENDERERS: dict[str, Any] = {
    "network": render_network,
    "route": render_route,
    "port": render_port,
    "v2x": render_v2x,
    "rural": render_rural,
    "scenario": render_scenario,
}


def main() -> None:
    """The page."""
    st.set_page_config(page_title="RoadTwin", page_icon="🛣️", layout="wide")
    settings = _settings()
    qp = st.query_params
    if "lang" not in st.session_state:
        st.session_state["lang"] = "en" if qp.get("lang") == "en" else "zh"
    if "scene" not in st.session_state:
        st.session_state["scene"] = qp.get("scene") if qp.get("scene") in SCENES else "network"
        # A session opening on the overview: the first run sends the map alone.
        st.session_state["panels_ready"] = st.session_state["scene"] != "network"
    lang = _lang()
    scene = st.session_state["scene"]
    head = st.sidebar.container()  # filled after the scene, so the map is sent first
    t0 = time.perf_counter()
    try:
        RENDERERS.get(scene, render_network)(settings, lang)
    except TwinError as exc:
        st.error(exc.message)
    except Exception as exc:  # the database down, for instance: say so, no traceback
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            st.error(t("db_down", lang))
        else:
            raise
    if not _panels_ready():
        st.session_state["panels_ready"] = True  # every later run draws them
        _panels_later()
        return
    with head:
        st.radio(
            "语言 / Language",
            list(LANGS),
            format_func=lambda k: "中文" if k == "zh" else "English",
            key="lang",
            horizontal=True,
        )
        st.title(t("app_title", lang))
        st.radio(
            t("scene", lang),
            list(SCENES),
            format_func=lambda k: t(SCENE_LABEL[k], lang),
            key="scene",
        )
        _login(settings, lang)
    st.sidebar.caption(f"{(time.perf_counter() - t0) * 1000:.0f} ms")


main()
