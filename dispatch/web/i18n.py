"""Screen texts in Chinese (default) and English. `?lang=en` or `?lang=zh` switches and is remembered in a cookie."""

from __future__ import annotations

from fastapi import Request

LANGS = ("zh", "en")
LANG_COOKIE = "vd_lang"

TEXTS: dict[str, tuple[str, str]] = {
    "app": ("邻里先锋应急调度", "Vanguard Dispatch"),
    "call_emergency": ("如危及生命，请立即拨打", "If life is in danger, call now"),
    "never_replaces": ("本服务不替代 120 / 110 / 119。", "This service never replaces 120 / 110 / 119."),
    "lang_switch": ("English", "中文"),
    "login": ("工作人员登录", "Staff login"),
    "logout": ("退出登录", "Log out"),
    "login_id": ("工号或手机号", "Staff id or phone"),
    "password": ("密码", "Password"),
    "login_failed": ("工号或密码不正确。", "Wrong staff id or password."),
    "login_throttled": (
        "尝试次数过多，请稍候（最多几分钟）再试。",
        "Too many attempts: wait a little (at most a few minutes), then try again.",
    ),
    "form_expired": ("表单已过期，请重试。", "This form has expired; please try again."),
    # resident
    "resident": ("居民求助", "Resident help"),
    "pair_title": ("绑定本户设备", "Pair this household device"),
    "pair_help": (
        "输入贴在求助按钮上的设备码，只需一次。",
        "Type the device code printed on the household's button, once.",
    ),
    "device_code": ("设备码", "Device code"),
    "pair": ("绑定", "Pair"),
    "pair_failed": ("设备码无效。", "Unknown device code."),
    "press": ("紧急求助", "Emergency: get help"),
    "press_hint": ("按下即呼叫附近的志愿先锋", "One press alerts the nearest volunteer vanguards"),
    "kind_question": (
        "或者一键说明情况（红色大按钮默认：急病）：",
        "Or say what happened in the same tap (the big button means: medical):",
    ),
    "use_gps": ("使用手机定位（不在家时）", "Use this phone's location (when away from home)"),
    "gps_note": (
        "定位以 WGS-84 坐标发送；不勾选则使用本户登记地址。",
        "The location is sent as WGS-84 coordinates; unticked, the household's registered address is used.",
    ),
    "gps_denied": ("未获得定位权限，将使用本户地址。", "No location permission: the household address is used."),
    "cancel": ("误报，取消求助", "False alarm: cancel"),
    "status": ("状态", "Status"),
    "live_status": ("实时进展", "Live status"),
    "st_reported": ("已受理，正在寻找先锋", "Received: finding vanguards"),
    "st_alerted": ("已呼叫 {n} 位先锋", "{n} vanguards alerted"),
    "st_accepted": ("{name} 已接单，约 {min} 分钟到达", "{name} accepted, about {min} min away"),
    "st_on_scene": ("先锋已到场", "A vanguard is on scene"),
    "st_resolved": ("已解决", "Resolved"),
    "st_cancelled": ("已取消", "Cancelled"),
    "st_false_alarm": ("已标记为误报", "Marked as a false alarm"),
    "st_escalated": ("已升级呼叫：第 {n} 级", "Escalated: level {n}"),
    "state_reported": ("已受理", "received"),
    "state_dispatching": ("正在呼叫先锋", "alerting vanguards"),
    "state_accepted": ("已有人接单", "accepted"),
    "state_on_scene": ("已到场", "on scene"),
    "state_resolved": ("已解决", "resolved"),
    "state_cancelled": ("已取消", "cancelled"),
    "state_false_alarm": ("误报", "false alarm"),
    "new_press": ("再次求助", "Ask for help again"),
    # kinds
    "kind_medical": ("急病", "Medical"),
    "kind_fall": ("跌倒", "Fall"),
    "kind_fire": ("火情", "Fire"),
    "kind_utility": ("水电气", "Gas / water / power"),
    "kind_security": ("治安", "Security"),
    "kind_distress": ("心理危机", "Distress"),
    # vanguard
    "how_far": ("距离", "Distance"),
    "metres_away": ("约 {m} 米，步行约 {min} 分钟", "about {m} m, about {min} min on foot"),
    "accept": ("接单", "Accept"),
    "decline": ("无法前往", "Decline"),
    "on_scene_btn": ("我已到场", "I'm on scene"),
    "door": ("门牌", "Door"),
    "door_fmt": ("{e}单元 {f}楼 {u}室", "entrance {e}, floor {f}, unit {u}"),
    "aed_first": ("请先取 AED（除颤仪）：{label}", "Fetch the AED (defibrillator) first: {label}"),
    "route": ("路线", "Route"),
    "route_note": (
        "沿社区道路的步行路线（示意，非导航）。",
        "Walking route along the community's streets (a sketch, not turn-by-turn).",
    ),
    "you": ("您", "You"),
    "incident": ("求助点", "Incident"),
    "availability": ("接单状态", "Availability"),
    "available_now": ("可接单", "Available"),
    "unavailable_now": ("暂停接单", "Paused"),
    "pause": ("暂停接单", "Pause alerts"),
    "share_position": ("共享我的当前位置", "Share my current position"),
    "stop_position": ("停止共享位置", "Stop sharing my position"),
    "position_help": (
        "可选：共享后按您的实时位置计算距离，10分钟后失效，之后按住址计算。",
        "Optional: matching uses your live position for 10 minutes, then your home building again.",
    ),
    "resume": ("恢复接单", "Resume alerts"),
    "schedule": ("值班时间", "On-call schedule"),
    "schedule_help": (
        "例如 Mon-Fri 18:30-23:00; Sat-Sun 08:00-20:00（北京时间）",
        "e.g. Mon-Fri 18:30-23:00; Sat-Sun 08:00-20:00 (Beijing time)",
    ),
    "save": ("保存", "Save"),
    "schedule_bad": ("无法识别该值班时间。", "Cannot read that schedule."),
    "saved": ("已保存。", "Saved."),
    # staff
    "board": ("事件看板", "Incident board"),
    "my_scope": ("范围", "Scope"),
    "all_grids": ("全社区", "Whole community"),
    "no_incidents": ("当前没有进行中的事件。", "No open incidents."),
    "alerted": ("已呼叫", "Alerted"),
    "accepted_by": ("接单人", "Accepted by"),
    "level": ("升级级别", "Escalation level"),
    "confirm_on_scene": ("确认到场", "Confirm on scene"),
    "confirm_resolved": ("已解决", "Resolved"),
    "confirm_false_alarm": ("误报", "False alarm"),
    "details": ("详情", "Details"),
    "timeline": ("时间线", "Timeline"),
    "reported_at": ("报警时间", "Reported"),
    "map": ("地图", "Map"),
    "recently_closed": ("近期已结束", "Recently closed"),
    "phone": ("电话", "Phone"),
    # coordinator
    "kpi": ("响应时间", "Response times"),
    "period": ("时间段", "Period"),
    "from": ("从", "From"),
    "to": ("到", "To"),
    "show": ("查看", "Show"),
    "incidents_n": ("事件数", "Incidents"),
    "by_grid": ("按网格", "By grid"),
    "by_kind": ("按类型", "By kind"),
    "by_hour": ("按时段（北京时间）", "By hour (Beijing time)"),
    "distribution": ("首次接单用时分布（秒）", "Time to first accept, distribution (s)"),
    "trend": ("每日首次接单用时 p50 / p90（秒）", "Daily time to first accept, p50 / p90 (s)"),
    "m_first_alert_s": ("按下→首条短信", "press → first alert"),
    "m_first_accept_s": ("按下→首次接单", "press → first accept"),
    "m_on_scene_s": ("按下→到场", "press → on scene"),
    "m_closed_s": ("按下→结束", "press → closed"),
    "page_paged": ("已呼叫", "alerted"),
    "page_accepted": ("已接单", "accepted"),
    "page_declined": ("已拒绝", "declined"),
    "page_stood_down": ("已撤回", "stood down"),
    "page_late": ("迟到", "too late"),
    "page_failed": ("发送失败", "failed"),
    "csv": ("导出 CSV", "Export CSV"),
    "coverage": ("医生覆盖", "Doctor coverage"),
    "coverage_help": (
        "每个网格、每周每小时：楼栋 400 米内有值班医生的比例。",
        "For each grid and hour of the week: the share of buildings with an on-call doctor within 400 m.",
    ),
    "audit": ("审计日志", "Audit log"),
    "audit_help": ("谁在何时查看了谁的个人信息。", "Who viewed whose personal data, and when."),
    "no_data": ("该时间段没有数据。", "No data in this period."),
    "phones": ("模拟手机", "Simulated phones"),
}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in LANGS else "zh"


def t(lang: str, key: str, **values: object) -> str:
    # An unknown key (a status added elsewhere, say) shows its own name rather than breaking the page.
    fallback = key.split("_", 1)[-1]
    zh, en = TEXTS.get(key, (fallback, fallback))
    text = en if lang == "en" else zh
    return text.format(**values) if values else text
