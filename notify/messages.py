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


def alert_sms(f: AlertFacts, role: str, reminder: int = 0) -> str:
    """`reminder`: how many times this level has been repeated (the last level keeps calling); it also keeps
    every repeated alert's text distinct."""
    near = f"，距您约{f.distance_m:.0f}米(步行约{f.eta_min}分钟)" if f.distance_m is not None else ""
    near_en = f", {f.distance_m:.0f} m (~{f.eta_min} min walk)" if f.distance_m is not None else ""
    ask = "回复 1 接单，2 无法前往" if role == "responder" else "回复 1 表示由您跟进，2 转下一位"
    ask_en = "Reply 1 to accept, 2 to decline"
    again = f"（第{reminder + 1}次提醒）" if reminder else ""
    again_en = f" (reminder {reminder + 1})" if reminder else ""
    return (
        f"【邻里先锋】{again}#{f.code} {f.kind_zh}：{f.place_zh}{near}。{ask}（{f.link}）。{EMERGENCY_NUMBERS_ZH}\n"
        f"[Vanguard]{again_en} #{f.code} {f.kind_en} at {f.place_en}{near_en}. {ask_en}."
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


def spell(code: str) -> str:
    """A code read aloud one character at a time ("K 7 R"), so a text-to-speech voice does not make a word of it."""
    return " ".join(code)


def alert_speech(f: AlertFacts, role: str) -> tuple[str, str]:
    """The alert as spoken on a voice call (Mandarin, English). Building level only, like the SMS."""
    near = f"，距您约{f.distance_m:.0f}米" if f.distance_m is not None else ""
    near_en = f", {f.distance_m:.0f} metres from you" if f.distance_m is not None else ""
    who = "邻里先锋紧急求助" if role == "responder" else "邻里先锋求助升级，请您跟进"
    return (
        f"{who}。编号 {spell(f.code)}。{f.kind_zh}，地点：{f.place_zh}{near}。",
        f"Vanguard emergency {spell(f.code)}: {f.kind_en} at {f.place_en}{near_en}.",
    )


def accepted_speech(place_zh: str, place_en: str) -> tuple[str, str]:
    return (
        f"谢谢您接单！请前往：{place_zh}。详细地址已发短信。",
        f"Thank you! Go to {place_en}. Details follow by SMS.",
    )


def declined_speech() -> tuple[str, str]:
    return ("收到，我们将联系其他人。", "Noted, we are asking someone else.")


def taken_speech() -> tuple[str, str]:
    return (
        "该求助已有人接单或已结束，无需前往，谢谢。",
        "Someone else has it or it is closed; no need to go. Thank you.",
    )


def intake_sms(code: str) -> str:
    return (
        f"【邻里先锋】已收到您的求助 #{code}，正在通知附近的志愿者。{EMERGENCY_NUMBERS_ZH}\n"
        f"[Vanguard] Help request #{code} received; nearby volunteers are being alerted. {EMERGENCY_NUMBERS_EN}."
    )


def intake_speech(code: str) -> tuple[str, str]:
    return (
        f"已收到您的求助，编号 {spell(code)}，正在通知附近的志愿者。危及生命请同时拨打120。",
        f"Your call for help is received, number {spell(code)}. Nearby volunteers are being alerted. "
        "If life is in danger, also call 120.",
    )


def unknown_caller_speech() -> tuple[str, str]:
    return (
        "您的号码未登记，正在为您转接社区值班员。",
        "Your number is not registered. Connecting you to the duty officer.",
    )


def unknown_sender_sms(phone: str, body: str) -> str:
    return (
        f"【邻里先锋】未登记号码 {phone} 发来短信：“{body[:200]}”。请回电核实。\n"
        f"[Vanguard] Unregistered {phone} texted us; please call back."
    )


def wellbeing_sms(code: str) -> str:
    return (
        f"【邻里先锋】#{code} 谢谢您的帮助！这次出勤还好吗？回复 1 一切都好，回复 2 希望有人和您聊聊。"
        f"不想再收到此类回访请回复 TD。\n"
        f"[Vanguard] #{code} Thank you for helping. How did it go? Reply 1 if all is well, 2 if you would like someone "
        "to talk to. Reply TD to stop these follow-ups."
    )


def wellbeing_thanks_sms(needs_support: bool) -> str:
    if needs_support:
        return (
            "【邻里先锋】收到，社区工作人员会尽快联系您。\n"
            "[Vanguard] Noted: someone from the community will call you soon."
        )
    return "【邻里先锋】收到，谢谢您！\n[Vanguard] Noted, thank you!"


def support_request_sms(name: str, phone: str, code: str) -> str:
    return (
        f"【邻里先锋】志愿者 {name}（{phone}）在 #{code} 出勤后希望有人联系聊聊，请尽快回电。\n"
        f"[Vanguard] {name} ({phone}) asks for someone to talk to after #{code}."
    )


def opted_out_sms() -> str:
    return "【邻里先锋】已为您取消出勤回访，即时生效。\n[Vanguard] Follow-ups stopped, effective now."


def lapsed_sms(code: str) -> str:
    return (
        f"【邻里先锋】#{code} 您接单后未确认到场，我们已同时联系其他人。若已在现场请回复 3。\n"
        f"[Vanguard] #{code} Not confirmed on scene in time: we are asking others too. Reply 3 if you are there."
    )


def role_line(primary: bool) -> tuple[str, str]:
    """Said with the door to every accepter: several may come, one is due first."""
    if primary:
        return ("。您是第一响应人", ". You are the first responder")
    return ("。已有人比您更早到达，请您作为后援继续前往", ". Someone is due before you: keep coming as backup")


def now_backup_sms(code: str) -> str:
    return (
        f"【邻里先锋】#{code} 另一位志愿者会比您更早到达，请您作为后援继续前往，到场后回复 3。\n"
        f"[Vanguard] #{code} Someone closer accepted: please keep coming as backup; reply 3 on arrival."
    )


def promoted_sms(code: str) -> str:
    return (
        f"【邻里先锋】#{code} 原第一响应人未能按时到达，您现在是第一响应人，请尽快前往，到场后回复 3。\n"
        f"[Vanguard] #{code} The first responder has not arrived: you are first now. Hurry; reply 3 on arrival."
    )


def thanks_arrived_sms(code: str) -> str:
    return (
        f"【邻里先锋】#{code} 已有专业志愿者到场，您可以返回，谢谢！\n"
        f"[Vanguard] #{code} A qualified responder is on scene: you may turn back. Thank you!"
    )


def call_120_sms(code: str) -> str:
    return (
        f"【邻里先锋】#{code} 暂时没有志愿者接单：请立即拨打 120（火警 119，报警 110）。我们仍在继续呼叫。\n"
        f"[Vanguard] #{code} No responder yet: call 120 now (fire 119, police 110). We keep calling."
    )


def call_120_speech(code: str) -> tuple[str, str]:
    return (
        f"求助 {spell(code)} 暂时没有志愿者接单。请立即拨打一二零。我们仍在继续呼叫。",
        f"No responder yet for request {spell(code)}. Call one two zero now. We keep calling.",
    )
