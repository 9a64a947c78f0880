"""The 3D twin in a real headless Chromium: every scene renders, clicks select assets.

The Streamlit app and the API run as subprocesses on 127.0.0.1. They cannot see the rows
of the rolled-back test transaction, so this module creates its own scratch database
(``roadtwin_browser_test`` in the embedded cluster), migrates it, loads the demo network
from ``tests/twin_demo_data.py`` with a commit, and drops it at the end. Screenshots are
saved under ``tests/artifacts/`` (git-ignored) and inspected pixel by pixel.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import twin_browser as tb

from scenes._common import AREA_COLORS, BACKGROUND, CLASS_COLORS, CONDITION_COLORS, WATER

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("chromium and chromedriver (apt) are needed", allow_module_level=True)

DB_NAME = "roadtwin_browser_test"
SAMPLE_OSM = tb.ROOT / "data" / "sample" / "tianjin.osm"
BASEMAP = list(dict.fromkeys(AREA_COLORS.values()))


@pytest.fixture(scope="module")
def demo_ids(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A committed demo network in a scratch database; yields ids and the URL."""
    from twin_demo_data import load_demo

    from twin import db as dbm
    from twin.settings import Settings

    with tb.scratch_database(DB_NAME) as url:
        engine = dbm.get_engine(Settings(), url=url)
        with engine.begin() as conn:
            ids = load_demo(conn)
            # The sample's water and land use (the Haihe, Bohai Bay, farmland...) as the
            # offline basemap, read by the real area loader.
            from twin.services.land_areas import import_areas

            import_areas(conn, SAMPLE_OSM, dataset="sample:tianjin")
        # A saved planner scenario for the scenario view: the class-4 bridge closed.
        from road_network.vehicle import make_profile
        from twin.services.scenarios import ScenarioRequest, run_scenario

        settings = Settings(database_url=url, home=tmp_path_factory.mktemp("browser-home"))
        with engine.begin() as conn:
            res = run_scenario(
                conn,
                settings,
                ScenarioRequest(
                    name="close DEMO-HR-001",
                    vehicle=make_profile(preset="gb1589"),
                    close_assets=["DEMO-HR-001"],
                    actor="tester",
                ),
            )
        engine.dispose()
        yield {**ids, "url": url, "scenario_id": res["id"]}


@pytest.fixture(scope="module")
def servers(demo_ids: dict[str, Any]) -> Iterator[tb.Servers]:
    with tb.serve(demo_ids["url"], log_dir=tb.ARTIFACTS / "logs") as s:
        yield s


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    d = tb.chrome()
    try:
        yield d
    finally:
        d.quit()


def _open(driver: Any, servers: tb.Servers, query: str) -> tuple[Any, np.ndarray]:
    driver.get(f"{servers.app_url}/?{query}")
    canvas = tb.wait_canvas(driver)
    px = tb.wait_rendered(driver, canvas, background=BACKGROUND)
    return canvas, px


def test_network_overview_renders_roads_and_structures_offline(
    driver: Any, servers: tb.Servers
) -> None:
    _canvas, px = _open(driver, servers, "scene=network&lang=en&cam=cam_overview")
    tb.save(px, "network_by_class")
    assert px.shape[0] > 300 and px.shape[1] > 500
    # The offline basemap: our dark ground, water and land use cover most of the canvas,
    # nothing external.
    assert tb.basemap_fraction(px, BASEMAP, BACKGROUND) > 0.3
    assert tb.color_fraction(px, WATER, tol=8) > 0.01  # the Haihe and Bohai Bay
    assert tb.foreground_fraction(px, BACKGROUND) > 0.005
    # Expressways (tomato) and the trunk road (orange) are drawn in their class colours.
    assert tb.color_fraction(px, CLASS_COLORS["motorway"], tol=40) > 0.0005
    assert tb.color_fraction(px, CLASS_COLORS["trunk"], tol=40) > 0.0002
    urls = tb.requested_urls(driver)
    external = [
        u for u in urls if not u.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))
    ]
    assert urls and not external, f"the page asked for external resources: {external[:5]}"
    # The panels come with the rerun after the map-only first run (app.PANELS_DELAY_S).
    assert tb.wait_text(driver, "Road class"), "no legend beside the map"


def _pixel_of(lon: float, lat: float, view: tuple[float, float, float], shape: Any) -> Any:
    """Canvas pixel (row, col) of (lon, lat) for a top-down ``view`` (lon, lat, zoom):
    Web Mercator, 512 px tiles as deck.gl."""
    import math

    def merc(lo: float, la: float) -> tuple[float, float]:
        x = (lo + 180) / 360
        y = (1 - math.log(math.tan(math.pi / 4 + math.radians(la) / 2)) / math.pi) / 2
        return x, y

    scale = 512 * 2 ** view[2]
    (x, y), (x0, y0) = merc(lon, lat), merc(view[0], view[1])
    h, w = shape[:2]
    return round(h / 2 + (y - y0) * scale), round(w / 2 + (x - x0) * scale)


def test_water_and_land_use_drawn_from_our_data(driver: Any, servers: tb.Servers) -> None:
    """The Haihe and Bohai Bay show in water blue where the sample puts them; farmland
    around the Jinnan villages; the legend names them in both languages."""
    view = (117.745, 38.95, 10.0)
    _, px = _open(driver, servers, "scene=network&lang=en&view={},{},{}".format(*view))
    tb.save(px, "network_water_land_use")

    def patch(shot: np.ndarray, at: tuple[float, float], v: tuple[float, float, float]) -> Any:
        r, c = _pixel_of(at[0], at[1], v, shot.shape)
        assert 2 <= r < shot.shape[0] - 2 and 2 <= c < shot.shape[1] - 2, (at, r, c)
        return shot[r - 2 : r + 3, c - 2 : c + 3].reshape(-1, 3).mean(axis=0)

    water = np.array(WATER)
    sea = patch(px, (117.90, 38.90), view)  # Bohai Bay, off Binhai
    farm = patch(px, (117.53, 38.94), view)  # farmland among the Jinnan villages
    assert np.abs(sea - water).max() < 12, f"sea pixel {sea} is not water blue {water}"
    assert np.abs(farm - np.array(AREA_COLORS["farmland"])).max() < 12, f"farmland {farm}"
    # Close up on the Haihe (a control point of its centreline) east of the city.
    river_view = (117.60, 39.02, 14.0)
    _, close = _open(driver, servers, "scene=network&lang=en&view={},{},{}".format(*river_view))
    tb.save(close, "network_haihe")
    river = patch(close, (117.60, 39.02), river_view)
    assert np.abs(river - water).max() < 12, f"river pixel {river} is not water blue {water}"
    assert tb.color_fraction(px, WATER, tol=8) > 0.05
    assert tb.wait_text(driver, "Water (river, lake, reservoir, sea)")
    assert "Farmland" in tb.page_text(driver)
    urls = tb.requested_urls(driver)
    assert all(u.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) for u in urls)


def test_network_by_condition_shows_condition_colours(driver: Any, servers: tb.Servers) -> None:
    _canvas, px = _open(driver, servers, "scene=network&lang=en&color=condition&cam=cam_overview")
    tb.save(px, "network_by_condition")
    # S11 pavement is class 1 (green), PC1 class 4 (orange-red); no tomato class colour.
    assert tb.color_fraction(px, CONDITION_COLORS[1], tol=35) > 0.0003
    assert tb.color_fraction(px, CLASS_COLORS["motorway"], tol=10) < 0.0005
    assert tb.wait_text(driver, "Condition class")


def test_click_on_clearance_column_opens_asset_card(driver: Any, servers: tb.Servers) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    canvas, px = _open(driver, servers, "scene=network&lang=en&focus=DEMO-UP-001&color=limit")
    tb.save(px, "network_focus_underpass")
    h, w = px.shape[:2]
    centre = px[h // 2 - 3 : h // 2 + 4, w // 2 - 3 : w // 2 + 4].reshape(-1, 3).mean(axis=0)
    # The underpass (3.8 m) column is red (height limit < 4.0 m band) under the centre.
    assert centre[0] > 150 and centre[1] < 110, f"centre pixel {centre} is not the red column"
    card = "DEMO-UP-001 · Underpass"  # only the inspector card shows this line
    for _ in range(3):  # a click during a rerun can be swallowed; try again
        ActionChains(driver).move_to_element(canvas).click().perform()
        if tb.wait_text(driver, card, timeout_s=10):
            break
    assert card in tb.page_text(driver), "the side panel did not show the asset card"
    text = tb.page_text(driver)
    assert "DEMO-UP-001" in text
    assert "3.80 m" in text  # the height limit, with its unit
    shot = tb.canvas_pixels(tb.wait_canvas(driver))
    tb.save(shot, "network_selected_underpass")
    # The rerun that the click caused kept the camera: the (now highlighted) column is
    # still under the centre, and the ground stays dark (not dimmed by the selection).
    h, w = shot.shape[:2]
    centre = shot[h // 2 - 3 : h // 2 + 4, w // 2 - 3 : w // 2 + 4].reshape(-1, 3).mean(axis=0)
    aside = shot[h // 2 - 3 : h // 2 + 4, w // 2 - 153 : w // 2 - 146].reshape(-1, 3).mean(axis=0)
    assert np.abs(centre - aside).max() > 30, f"view moved after the rerun: {centre} vs {aside}"
    # The ground, water and land use stay as they were (only faded), not greyed out.
    assert tb.basemap_fraction(shot, BASEMAP, BACKGROUND) > 0.5


def test_route_check_scene_shows_legal_and_blocked_routes(driver: Any, servers: tb.Servers) -> None:
    from scenes.route import BLOCKED, LEGAL

    _, px = _open(
        driver,
        servers,
        "scene=route&lang=en&preset=container40hc&from=117.34,39.048&to=117.40,39.094",
    )
    assert tb.wait_text(driver, "Xingang underpass"), "the blocking underpass is not listed"
    px = tb.wait_rendered(driver, tb.wait_canvas(driver), background=BACKGROUND)
    tb.save(px, "route_container40hc")
    # The legal route (green) and the blocked direct route (red) are both drawn.
    assert tb.color_fraction(px, LEGAL, tol=40) > 0.002
    assert tb.color_fraction(px, BLOCKED, tol=40) > 0.001
    text = tb.page_text(driver)
    assert "Blocking structures" in text and "Structures passed" in text
    assert "height 3.8 m" in text  # the underpass limit against the 4.1 m vehicle
    assert "Tanggu height restrictor" in text  # passed with 0.1 m margin


def test_port_scene_shows_yards_blocks_and_dual_lanes(driver: Any, servers: tb.Servers) -> None:
    from scenes.port import BLOCK, LANE_COLORS

    _, px = _open(driver, servers, "scene=port&lang=en")
    tb.save(px, "port")
    assert tb.color_fraction(px, BLOCK, tol=40) > 0.005  # extruded container blocks
    assert tb.color_fraction(px, LANE_COLORS["dual"], tol=50) > 0.0005  # dual-lane operation
    assert tb.color_fraction(px, LANE_COLORS["autonomous"], tol=50) > 0.0005
    assert "Dual-lane operation" in tb.page_text(driver)


def test_v2x_scene_shows_coverage_gap_and_rsi_icons(driver: Any, servers: tb.Servers) -> None:
    from scenes.v2x import GAP, RSU_ONLINE

    _, px = _open(driver, servers, "scene=v2x&lang=en")
    tb.save(px, "v2x")
    assert tb.color_fraction(px, GAP, tol=40) > 0.001  # the uncovered stretch
    assert tb.color_fraction(px, RSU_ONLINE, tol=60) > 0.001  # coverage circles
    assert tb.color_fraction(px, (255, 23, 68), tol=40) > 0.00005  # low-clearance icon (red)
    text = tb.page_text(driver)
    assert "Coverage gap" in text and "K" in text  # gaps listed by stake


def test_rural_scene_colours_villages_by_reachability(driver: Any, servers: tb.Servers) -> None:
    from scenes.rural import REACHABLE, UNREACHABLE

    _, px = _open(driver, servers, "scene=rural&lang=en")
    assert tb.wait_text(driver, "Beitang village")
    px = tb.wait_rendered(driver, tb.wait_canvas(driver), background=BACKGROUND)
    tb.save(px, "rural")
    assert tb.color_fraction(px, REACHABLE, tol=40) > 0.00008  # Beitang, next to the trunk road
    assert tb.color_fraction(px, UNREACHABLE, tol=40) > 0.0002  # the island village
    assert "Unreachable" in tb.page_text(driver)


def test_scenario_view_before_after(
    driver: Any, servers: tb.Servers, demo_ids: dict[str, Any]
) -> None:
    from scenes.scenario import CHANGED, CLOSED

    driver.get(f"{servers.app_url}/?scene=scenario&lang=en&scenario_id={demo_ids['scenario_id']}")
    assert tb.wait_text(driver, "close DEMO-HR-001")
    assert tb.wait_text(driver, "After")
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and len(driver.find_elements(By.CSS_SELECTOR, tb.DECK_CANVAS_CSS)) < 2
    ):
        time.sleep(0.3)
    canvases = driver.find_elements(By.CSS_SELECTOR, tb.DECK_CANVAS_CSS)
    assert len(canvases) >= 2
    after = tb.wait_rendered(driver, canvases[1], background=BACKGROUND)
    tb.save(after, "scenario_after")
    tb.save(tb.canvas_pixels(canvases[0]), "scenario_before")
    # The cut-off port flow (red) and the closed restrictor (yellow marker) after.
    assert tb.color_fraction(after, CLOSED, tol=40) > 0.0003
    assert tb.color_fraction(after, CHANGED, tol=40) > 0.00005


def test_engineer_actions_need_login_and_write_through_the_services(
    demo_ids: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The side panel's actions, driven in process (Streamlit's AppTest, no browser) against
    the same scratch database: a wrong password is refused, a configured user records an
    inspection and opens a work order, and both land in the database."""
    import hashlib
    import json as _json

    from sqlalchemy import text
    from streamlit.testing.v1 import AppTest

    from twin import db as dbm
    from twin.settings import Settings, get_settings

    pw_hash = hashlib.pbkdf2_hmac("sha256", b"secret", b"\x00", 1000).hex()
    monkeypatch.setenv("TWIN_DATABASE_URL", demo_ids["url"])
    monkeypatch.setenv(
        "TWIN_APP_USERS", _json.dumps({"tester": f"pbkdf2_sha256$1000$00${pw_hash}"})
    )
    get_settings.cache_clear()
    try:
        at = AppTest.from_file(str(tb.ROOT / "app.py"), default_timeout=60)
        at.query_params["lang"] = "en"
        at.session_state["selected"] = {
            "network": {"layer": "clearance", "object": {"asset_id": demo_ids["underpass_id"]}}
        }
        at.run()
        assert not at.exception
        # A session's first run sends the map alone (app.PANELS_DELAY_S); in the browser a
        # timer reruns the page with the panels. Here the second run is that rerun.
        assert not at.text_input, "the first run drew the panels"
        at.run()
        assert not at.exception
        assert any("Xingang underpass" in m.value for m in at.markdown)
        assert not at.get("form_submit_button") or all(
            b.label != "Record inspection" for b in at.button
        ), "actions are shown before login"
        at.text_input[0].input("tester")
        at.text_input[1].input("wrong")
        at.button[0].click().run()
        assert any("Wrong user or password" in e.value for e in at.error)
        at.text_input[0].input("tester")
        at.text_input[1].input("secret")
        at.button[0].click().run()
        assert at.session_state["user"] == "tester"
        form_buttons = {b.label: b for b in at.button}
        assert "Record inspection" in form_buttons and "Create work order" in form_buttons
        at.number_input[0].set_value(42.0)
        form_buttons["Record inspection"].click().run()
        assert not at.exception
        engine = dbm.get_engine(Settings(), url=demo_ids["url"])
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT overall_score, condition_class, inspector FROM inspection"
                    " WHERE asset_id = :a ORDER BY id DESC LIMIT 1"
                ),
                {"a": demo_ids["underpass_id"]},
            ).one()
            assert (
                row.overall_score == 42.0 and row.condition_class == 4 and row.inspector == "tester"
            )
        at.text_input[-1].input("清理排水 / clear the drains")
        {b.label: b for b in at.button}["Create work order"].click().run()
        assert not at.exception
        with engine.connect() as conn:
            title = conn.execute(
                text("SELECT title FROM work_order WHERE asset_id = :a ORDER BY id DESC LIMIT 1"),
                {"a": demo_ids["underpass_id"]},
            ).scalar()
            assert title == "清理排水 / clear the drains"
        # The class-4 bridge: inspection history chart and Markov forecast render.
        at.session_state["selected"] = {
            "network": {"layer": "structures", "object": {"asset_id": demo_ids["bridge_id"]}}
        }
        at.run()
        assert not at.exception, at.exception
        assert any("Markov" in c.value for c in at.caption)
        assert any("Haihe Bridge No. 2" in m.value for m in at.markdown)
        engine.dispose()
    finally:
        get_settings.cache_clear()


def test_network_roads_as_vector_tiles_from_the_api(driver: Any, servers: tb.Servers) -> None:
    """``?tiles=1`` draws the roads from /tiles/road_edge (PostGIS ST_AsMVT) as big networks
    do; the expressways still show in their class colour."""
    tb.requested_urls(driver)  # drop earlier entries
    _, px = _open(driver, servers, "scene=network&lang=en&tiles=1&view=117.45,39.07,11")
    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline
        and tb.color_fraction(px, CLASS_COLORS["motorway"], tol=40) < 0.0005
    ):
        time.sleep(0.5)
        px = tb.canvas_pixels(tb.wait_canvas(driver))
    tb.save(px, "network_vector_tiles")
    tiles = [u for u in tb.requested_urls(driver) if "/tiles/road_edge/" in u]
    assert tiles and all(u.startswith(servers.api_url) for u in tiles)
    assert tb.color_fraction(px, CLASS_COLORS["motorway"], tol=40) > 0.0005
    assert tb.wait_text(driver, "vector tiles")
    # Nothing (workers included) tried to reach beyond loopback.
    remote = [
        e["message"]
        for e in driver.get_log("browser")
        if "Failed to load" in e["message"] or "unpkg" in e["message"]
    ]
    assert not remote, remote[:2]


def test_launch_a_scenario_from_the_page(driver: Any, servers: tb.Servers) -> None:
    """A planner closes the Jinbin interchange bridge for a van through the sidebar form:
    a progress indicator shows while it runs in the background (the page's own script run
    has finished: nothing blocks), then the before/after maps with the detour drawn and
    the table of affected OD pairs."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from scenes.scenario import DETOUR

    driver.get(f"{servers.app_url}/?scene=scenario&lang=en")
    assert tb.wait_text(driver, "Scenario view ▶")
    side = driver.find_element(By.CSS_SELECTOR, '[data-testid="stSidebar"]')
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not side.find_elements(
        By.CSS_SELECTOR, 'input[aria-label="Name"]'
    ):
        time.sleep(0.2)
    name = side.find_element(By.CSS_SELECTOR, 'input[aria-label="Name"]')
    name.send_keys(Keys.CONTROL, "a")
    name.send_keys("close the Jinbin bridge (browser)")
    # A van (2.6 m): the only way round, connector 1, passes under a 3.8 m underpass.
    preset = next(
        m
        for m in side.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]')
        if "Preset" in m.text
    )
    pick = preset.find_element(By.TAG_NAME, "input")
    pick.click()
    pick.send_keys("van")
    pick.send_keys(Keys.ENTER)
    closed = next(
        m
        for m in side.find_elements(By.CSS_SELECTOR, '[data-testid="stMultiSelect"]')
        if "Closed road" in m.text
    )
    box = closed.find_element(By.TAG_NAME, "input")
    box.click()
    box.send_keys("DEMO-BR-002")
    box.send_keys(Keys.ENTER)
    box.send_keys(Keys.ESCAPE)
    assert "Jinbin interchange bridge (DEMO-BR-002)" in closed.text
    run = next(
        b
        for b in side.find_elements(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button')
        if "Scenario view" in b.text
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", run)
    time.sleep(0.3)
    run.click()

    running = "Scenario running…"
    saw_progress = saw_free_page = False
    t0 = time.monotonic()
    while time.monotonic() - t0 < 90:
        text = tb.page_text(driver)
        if running in text:
            saw_progress = True
            # Streamlit's own "running" widget is gone: the script run that started the
            # scenario finished and the page answers, while the scenario still runs.
            if not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'):
                saw_free_page = True
                driver.save_screenshot(str(tb.ARTIFACTS / "scenario_running.png"))
        elif saw_progress and "close the Jinbin bridge (browser)" in text:
            break
        time.sleep(0.1)
    print(f"scenario run seen for {time.monotonic() - t0:.1f} s")
    assert saw_progress, "no progress indicator while the scenario ran"
    assert saw_free_page, "the page stayed busy while the scenario ran"
    assert tb.wait_text(driver, "close the Jinbin bridge (browser)"), tb.page_text(driver)[:1500]
    assert tb.wait_text(driver, "Affected OD pairs")
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and len(driver.find_elements(By.CSS_SELECTOR, tb.DECK_CANVAS_CSS)) < 2
    ):
        time.sleep(0.3)
    canvases = driver.find_elements(By.CSS_SELECTOR, tb.DECK_CANVAS_CSS)
    after = tb.wait_rendered(driver, canvases[1], background=BACKGROUND)
    tb.save(after, "scenario_launched_after")
    driver.save_screenshot(str(tb.ARTIFACTS / "scenario_launched_page.png"))
    text = tb.page_text(driver)
    assert "detour" in text  # the affected OD pair's status in the table
    assert tb.color_fraction(after, DETOUR, tol=40) > 0.0003  # the detour drawn (amber)
