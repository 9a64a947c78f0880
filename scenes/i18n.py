"""Bilingual labels (中文 / English) for every scene and panel.

One table, keyed by a short label id; every label that shows a quantity carries its unit.
``t("height_limit_m", "zh")`` -> ``"限高 (m)"``.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

#: label id -> (中文, English)
LABELS: dict[str, tuple[str, str]] = {
    # shell
    "app_title": ("天津路网数字孪生", "Tianjin road network digital twin"),
    "scene": ("场景", "Scene"),
    "language": ("语言", "Language"),
    "scene_network": ("路网总览", "Network overview"),
    "area_water": ("水域（河流、湖库、海）", "Water (river, lake, reservoir, sea)"),
    "area_wetland": ("湿地", "Wetland"),
    "area_urban": ("城镇建成区", "Urban area"),
    "area_industrial": ("工业用地", "Industrial land"),
    "area_port": ("港区", "Port area"),
    "area_farmland": ("农田", "Farmland"),
    "area_park": ("公园绿地", "Park, green space"),
    "scene_route": ("大件/重载车辆路线核查", "Heavy-vehicle route check"),
    "scene_port": ("港口堆场", "Port yards"),
    "scene_v2x": ("车路协同走廊", "V2X corridor"),
    "scene_rural": ("农村公路与村庄", "Rural roads and villages"),
    "scenario": ("情景分析", "Scenario view"),
    "camera": ("视角", "Camera"),
    "color_by": ("着色依据", "Colour by"),
    "by_class": ("道路等级", "Road class"),
    "by_condition": ("技术状况等级", "Condition class"),
    "by_limit": ("限值", "Limit"),
    "legend": ("图例", "Legend"),
    "loading": ("正在加载…", "Loading…"),
    "no_data": (
        "数据库中没有数据。请先运行 `twin load sample`。",
        "The database holds no data yet. Run `twin load sample` first.",
    ),
    "db_down": ("无法连接数据库", "The database is unreachable"),
    "click_hint": ("点击地图上的任意对象查看详情", "Click any object on the map to inspect it"),
    "tiles_note": (
        "道路以矢量瓦片加载（{n} 条边）",
        "Roads are served as vector tiles ({n} edges)",
    ),
    "offline_note": (
        "离线底图：道路、水系与用地均来自本地数据",
        "Offline basemap: roads, water and land use drawn from our own data",
    ),
    # legend entries
    "road": ("道路", "Road"),
    "motorway": ("高速公路", "Expressway"),
    "trunk": ("一级公路/快速路", "Trunk"),
    "primary": ("主干道", "Primary"),
    "secondary": ("次干道", "Secondary"),
    "tertiary": ("支路", "Tertiary"),
    "rural": ("农村公路", "Rural road"),
    "port": ("港区道路", "Port road"),
    "other": ("其他道路", "Other road"),
    "cond_1": ("1类 (优)", "Class 1 (excellent)"),
    "cond_2": ("2类 (良)", "Class 2 (good)"),
    "cond_3": ("3类 (中)", "Class 3 (fair)"),
    "cond_4": ("4类 (差)", "Class 4 (poor)"),
    "cond_5": ("5类 (危险)", "Class 5 (critical)"),
    "cond_unknown": ("未评定", "Not rated"),
    "bridge": ("桥梁", "Bridge"),
    "tunnel": ("隧道", "Tunnel"),
    "underpass": ("下穿通道", "Underpass"),
    "height_restrictor": ("限高架", "Height restrictor"),
    "culvert": ("涵洞", "Culvert"),
    "clearance_column": ("净空高度柱 (m，高度放大 {x} 倍)", "Clearance column (m, height ×{x})"),
    "limit_lt_4": ("限高 < 4.0 m", "Height limit < 4.0 m"),
    "limit_4_45": ("限高 4.0–4.5 m", "Height limit 4.0–4.5 m"),
    "limit_ge_45": ("限高 ≥ 4.5 m", "Height limit ≥ 4.5 m"),
    "limit_none": ("无限高/未知", "No height limit / unknown"),
    "weight_lt_30": ("限重 < 30 t", "Weight limit < 30 t"),
    "weight_30_49": ("限重 30–49 t", "Weight limit 30–49 t"),
    # units / fields
    "height_limit_m": ("限高 (m)", "Height limit (m)"),
    "width_limit_m": ("限宽 (m)", "Width limit (m)"),
    "length_limit_m": ("限长 (m)", "Length limit (m)"),
    "weight_limit_t": ("限重 (t)", "Weight limit (t)"),
    "axle_load_limit_t": ("限轴重 (t)", "Axle load limit (t)"),
    "condition_class": ("技术状况等级 (1–5类)", "Condition class (1–5)"),
    "score": ("评分 (0–100)", "Score (0–100)"),
    "stake": ("桩号", "Stake"),
    "length_m": ("长度 (m)", "Length (m)"),
    "length_km": ("长度 (km)", "Length (km)"),
    "time_min": ("时间 (min)", "Time (min)"),
    "margin_m": ("余量 (m)", "Margin (m)"),
    "margin_t": ("余量 (t)", "Margin (t)"),
    "range_m": ("覆盖半径 (m)", "Range (m)"),
    "population": ("人口 (人)", "Population (persons)"),
    "road_distance_m": ("距最近道路 (m)", "Distance to nearest road (m)"),
    "depth_m": ("水深 (m)", "Water depth (m)"),
    "cost_cny": ("费用 (元)", "Cost (CNY)"),
    # inspector
    "inspector": ("资产检查", "Asset inspector"),
    "asset_card": ("资产卡片", "Asset card"),
    "kind": ("类型", "Kind"),
    "name": ("名称", "Name"),
    "road_code": ("路线编号", "Road code"),
    "lifecycle": ("生命周期状态", "Lifecycle state"),
    "owner": ("管养单位", "Owner"),
    "built_on": ("建成日期", "Built on"),
    "limits": ("限值", "Limits"),
    "inspections": ("检测历史", "Inspection history"),
    "condition_chart": ("技术状况趋势", "Condition over time"),
    "forecast": ("劣化预测", "Deterioration forecast"),
    "work_orders": ("工单", "Work orders"),
    "bim": ("BIM 模型", "BIM model"),
    "actions": ("工程师操作", "Engineer's actions"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "user": ("用户名", "User"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码错误", "Wrong user or password"),
    "login_note": (
        "用户在设置 TWIN_APP_USERS 中配置",
        "Users are configured in the TWIN_APP_USERS setting",
    ),
    "record_inspection": ("记录检测", "Record inspection"),
    "create_work_order": ("创建工单", "Create work order"),
    "saved": ("已保存", "Saved"),
    "none_yet": ("暂无", "None yet"),
    "service_pending": (
        "（服务尚未提供，显示数据库原始记录）",
        "(service not available yet: showing the database rows)",
    ),
    "date": ("日期", "Date"),
    "notes": ("备注", "Notes"),
    "title": ("标题", "Title"),
    "status": ("状态", "Status"),
    "selected": ("已选对象", "Selected object"),
    # route
    "vehicle": ("车辆", "Vehicle"),
    "preset": ("预设车型", "Preset"),
    "height_m": ("车高 (m)", "Height (m)"),
    "width_m": ("车宽 (m)", "Width (m)"),
    "vehicle_length_m": ("车长 (m)", "Length (m)"),
    "weight_t": ("总质量 (t)", "Gross mass (t)"),
    "axle_load_t": ("轴重 (t)", "Axle load (t)"),
    "origin": ("起点", "Origin"),
    "destination": ("终点", "Destination"),
    "check_route": ("核查路线", "Check route"),
    "legal_route": ("合法路线", "Legal route"),
    "direct_route": ("直达路线（受阻）", "Direct route (blocked)"),
    "blocking": ("阻断结构物", "Blocking structures"),
    "passed": ("途经结构物", "Structures passed"),
    "no_route": ("没有合法路线", "No legal route"),
    "route_engine_pending": ("路线引擎尚未可用", "The route engine is not available yet"),
    "pick_on_map": ("在地图上点击选择", "Pick on the map"),
    "use_as_origin": ("设为起点", "Use as origin"),
    "use_as_destination": ("设为终点", "Use as destination"),
    # port / v2x / rural
    "yard": ("堆场", "Yard"),
    "block": ("箱区", "Block"),
    "gate": ("闸口", "Gate"),
    "lane_autonomous": ("自动驾驶车道", "Autonomous lane"),
    "lane_manual": ("人工驾驶车道", "Manual lane"),
    "lane_dual": ("双车道混行（自动+人工）", "Dual-lane operation (autonomous + manual)"),
    "port_corridor": ("港区至高速公路通道", "Corridor to the expressway"),
    "rsu": ("路侧单元 RSU", "Roadside unit (RSU)"),
    "rsu_online": ("RSU 在线", "RSU online"),
    "rsu_offline": ("RSU 离线", "RSU offline"),
    "coverage_gap": ("覆盖盲区", "Coverage gap"),
    "rsi_message": ("RSI 消息", "RSI message"),
    "village": ("村庄", "Village"),
    "reachable": ("可达", "Reachable"),
    "unreachable": ("不可达", "Unreachable"),
    # scenario
    "before": ("情景前", "Before"),
    "after": ("情景后", "After"),
    "closed_edge": ("封闭路段", "Closed road"),
    "changed_limit": ("调整限值", "Changed limit"),
    "flood": ("淹没水深", "Flood depth"),
    "detour": ("绕行路线", "Detour"),
    "affected_od": ("受影响的起讫点对", "Affected OD pairs"),
    "affected_villages": ("受影响的村庄", "Affected villages"),
    "scenario_pending": (
        "还没有情景结果。情景计算完成后会显示在此处。",
        "No scenario result yet. Results appear here once a scenario has run.",
    ),
    "scenario_running": ("情景计算中…", "Scenario running…"),
    "extra_time_min": ("增加时间 (min)", "Extra time (min)"),
    "extra_length_km": ("增加里程 (km)", "Extra distance (km)"),
}

# The four named corridors and the port (camera presets).
LABELS.update(
    {
        "cam_overview": ("全市总览", "Whole network"),
        "cam_jinbin": ("津滨高速", "Jinbin Expressway"),
        "cam_tianjin_avenue": ("天津大道", "Tianjin Avenue"),
        "cam_jingjintang": ("京津塘高速", "Jing-Jin-Tang Expressway"),
        "cam_port_corridor": ("港口集疏运通道", "Port collection & distribution corridor"),
        "cam_port": ("天津港", "Port of Tianjin"),
    }
)


def t(key: str, lang: Lang = "zh", **fmt: object) -> str:
    """The label ``key`` in ``lang``, formatted with ``fmt``; the key itself when unknown."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


def name_of(row: dict[str, object], lang: Lang) -> str:
    """A row's display name in ``lang`` (``name_zh``/``name_en``), falling back to the other
    language, then to ``code``/``external_id``."""
    first, second = ("name_zh", "name_en") if lang == "zh" else ("name_en", "name_zh")
    for k in (first, second, "name", "code", "external_id"):
        v = row.get(k)
        if v:
            return str(v)
    return "?"
