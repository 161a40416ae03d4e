"""The words people receive. Short, bilingual, and privacy by stage: the door number only after accepting."""

from __future__ import annotations

from dataclasses import dataclass

EMERGENCY_NUMBERS_ZH = "危及生命请同时拨打120/110/119"
EMERGENCY_NUMBERS_EN = "Life in danger: also call 120/110/119"


@dataclass(frozen=True)
class AlertFacts:
    code: str
    kind_zh: str
    kind_en: str
    place_zh: str  # building-level only: "章江花园 B0012栋, 文清路12号"
    place_en: str
    distance_m: float | None
    eta_min: int | None
    link: str


def alert_sms(f: AlertFacts, role: str) -> str:
    near = f"，距您约{f.distance_m:.0f}米(步行约{f.eta_min}分钟)" if f.distance_m is not None else ""
    near_en = f", {f.distance_m:.0f} m (~{f.eta_min} min walk)" if f.distance_m is not None else ""
    ask = "回复 1 接单，2 无法前往" if role == "responder" else "回复 1 表示由您跟进，2 转下一位"
    ask_en = "Reply 1 to accept, 2 to decline"
    return (
        f"【邻里先锋】#{f.code} {f.kind_zh}：{f.place_zh}{near}。{ask}（{f.link}）。{EMERGENCY_NUMBERS_ZH}\n"
        f"[Vanguard] #{f.code} {f.kind_en} at {f.place_en}{near_en}. {ask_en}."
    )


def details_sms(code: str, full_address_zh: str, full_address_en: str, household_phone: str | None) -> str:
    call = f"，住户电话 {household_phone}" if household_phone else ""
    return (
        f"【邻里先锋】#{code} 谢谢您接单！请前往：{full_address_zh}{call}。"
        f"到达后回复 3 确认到场。{EMERGENCY_NUMBERS_ZH}\n"
        f"[Vanguard] #{code} Thank you! Go to {full_address_en}. Reply 3 when on scene."
    )


def stand_down_sms(code: str) -> str:
    return f"【邻里先锋】#{code} 已有人接单，无需前往，谢谢！\n[Vanguard] #{code} Someone accepted; stand down, thanks."


def late_accept_sms(code: str) -> str:
    return f"【邻里先锋】#{code} 已有其他人接单，无需前往，谢谢！\n[Vanguard] #{code} Already taken, thank you."


def closed_sms(code: str, status_zh: str) -> str:
    return f"【邻里先锋】#{code} 该求助已{status_zh}，无需前往。\n[Vanguard] #{code} This incident is closed."


def ambiguous_reply_sms(codes: list[str]) -> str:
    listed = "、".join(f"#{c}" for c in codes)
    example = codes[0]
    return (
        f"【邻里先锋】您有多个求助待回复（{listed}），请回复如 “1 {example}” 指明编号。\n"
        f"[Vanguard] Several open alerts ({listed}): reply e.g. '1 {example}'."
    )


def unknown_reply_sms() -> str:
    return "【邻里先锋】未识别您的回复。回复 1 接单，2 无法前往。\n[Vanguard] Reply 1 to accept, 2 to decline."


def nothing_open_sms() -> str:
    return "【邻里先锋】您目前没有待回复的求助。\n[Vanguard] You have no open alerts."


def declined_ack_sms(code: str) -> str:
    return f"【邻里先锋】#{code} 收到，已转给其他人。\n[Vanguard] #{code} Noted, we are asking someone else."
