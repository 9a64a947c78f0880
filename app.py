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
from sqlalchemy import Connection

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


@st.cache_data(ttl=120, show_spinner=False)
def _summary(url: str, version: int) -> dict[str, Any]:
    with _conn() as c:
        return tv.network_summary(c)


@st.cache_data(ttl=120, show_spinner=False)
def _roads(url: str, version: int) -> list[dict[str, Any]]:
    with _conn() as c:
        return tv.road_edges(c, limit=INLINE_MAX_EDGES)


@st.cache_data(ttl=120, show_spinner=False)
def _structures(url: str, version: int) -> list[dict[str, Any]]:
    with _conn() as c:
        return tv.structures(c)


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
        views[scene] = cam.as_dict()
    return views[scene]


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
        tiles = None
        roads: list[dict[str, Any]] = []
        if summary["edges"] > INLINE_MAX_EDGES:
            tiles = {
                "url": f"{_api_base(settings)}/tiles/road_edge/{{z}}/{{x}}/{{y}}.pbf",
                "edge_count": summary["edges"],
            }
        else:
            roads = _roads(url, _data_version())
    if summary["edges"] == 0 and not structures:
        st.info(t("no_data", lang))
    if "color_by" not in st.session_state and st.query_params.get("color") in (
        "class",
        "condition",
        "limit",
    ):
        st.session_state["color_by"] = st.query_params.get("color")
    color_by = st.sidebar.radio(
        t("color_by", lang),
        ["class", "condition", "limit"],
        format_func=lambda k: t(
            {"class": "by_class", "condition": "by_condition", "limit": "by_limit"}[k], lang
        ),
        key="color_by",
    )
    cams = network.cameras(overview_bounds=summary["extent"], corridor_bounds=corridors)
    _camera_picker("network", cams, lang)
    _focus_camera("network", structures)
    scene = network.build(
        roads=roads,
        structures=structures,
        lang=lang,
        color_by=cast(network.ColorBy, color_by),
        tiles=tiles,
        camera=_camera_state("network", cams),
        corridor_bounds=corridors,
        extent=summary["extent"],
        tile_url=settings.tile_url,
    )
    _map_and_panel("network", scene, settings, lang)


def _map_and_panel(scene_key: str, scene: Scene, settings: Settings, lang: Lang) -> None:
    left, right = st.columns([3, 1.25], gap="medium")
    with left:
        selected = _show_deck(scene_key, scene)
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
    _inspection_history(card["inspections"], lang)
    _work_orders(card["work_orders"], lang)
    _bim(card["bim_models"], lang)
    _actions(int(asset_id), settings, lang)


def _edge_card(obj: dict[str, Any], lang: Lang) -> None:
    st.markdown(f"### {t('road', lang)} #{obj.get('id', '?')}")
    label = str(obj.get("label") or "")
    st.markdown(label.replace("<br/>", "  \n"))


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


def _inspection_history(inspections: list[dict[str, Any]], lang: Lang) -> None:
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
    _forecast(inspections, lang)


def _forecast(inspections: list[dict[str, Any]], lang: Lang) -> None:
    st.markdown(f"**{t('forecast', lang)}**")
    st.caption(t("service_pending", lang))


def _work_orders(orders: list[dict[str, Any]], lang: Lang) -> None:
    st.markdown(f"**{t('work_orders', lang)}**")
    if not orders:
        st.caption(t("none_yet", lang))
        return
    df = pd.DataFrame(orders)[["id", "kind", "status", "title", "estimated_cost_cny", "opened_on"]]
    st.dataframe(df, hide_index=True, use_container_width=True)


def _bim(models: list[dict[str, Any]], lang: Lang) -> None:
    st.markdown(f"**{t('bim', lang)}**")
    if not models:
        st.caption(t("none_yet", lang))
        return
    for m in models:
        st.caption(f"{m['file_name']} · {m['ifc_schema']} · {m['element_count']} elements")


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
                    tv.record_inspection_rows(
                        c,
                        asset_id,
                        inspected_on=day,
                        inspector=user,
                        overall_score=score,
                        condition_class=int(cls),
                        notes=notes or None,
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
                    tv.create_work_order_row(
                        c,
                        asset_id,
                        actor=user,
                        kind=kind,
                        title=title,
                        estimated_cost_cny=cost or None,
                    )
                _bump_data_version()
                st.success(t("saved", lang))
            except TwinError as exc:
                st.error(exc.message)


def _login(settings: Settings, lang: Lang) -> None:
    from twin.services.app_users import verify

    box = st.sidebar.expander(t("login", lang), expanded=False)
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


# --------------------------------------------------------------------------- main
RENDERERS: dict[str, Any] = {"network": render_network}


def main() -> None:
    """The page."""
    st.set_page_config(page_title="RoadTwin", page_icon="🛣️", layout="wide")
    settings = _settings()
    qp = st.query_params
    if "lang" not in st.session_state:
        st.session_state["lang"] = "en" if qp.get("lang") == "en" else "zh"
    if "scene" not in st.session_state:
        st.session_state["scene"] = qp.get("scene") if qp.get("scene") in SCENES else "network"
    st.sidebar.radio(
        "语言 / Language",
        list(LANGS),
        format_func=lambda k: "中文" if k == "zh" else "English",
        key="lang",
        horizontal=True,
    )
    lang = _lang()
    st.sidebar.title(t("app_title", lang))
    st.sidebar.radio(
        t("scene", lang), list(SCENES), format_func=lambda k: t(SCENE_LABEL[k], lang), key="scene"
    )
    _login(settings, lang)
    scene = st.session_state["scene"]
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
    st.sidebar.caption(f"{(time.perf_counter() - t0) * 1000:.0f} ms")


main()
