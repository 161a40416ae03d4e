"""TwiML for the voice page: the alert in Mandarin and English, then "press 1 / press 2"."""

from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

ZH = "cmn-CN"
EN = "en-US"
PROMPT_ZH = "接受请按1，拒绝请按2。"
PROMPT_EN = "Press 1 to accept, 2 to decline."
GOODBYE_ZH = "没有收到按键，我们将联系其他志愿者。再见。"
GOODBYE_EN = "No key was pressed. We will contact other volunteers. Goodbye."
GATHER_TIMEOUT_S = 8


def accept_prompt_twiml(
    message_zh: str,
    message_en: str,
    action_url: str,
    *,
    voice_zh: str = "Polly.Zhiyu",
    voice_en: str = "Polly.Joanna",
) -> str:
    """A call that reads the alert and collects one key at `action_url` (POST, field `Digits`).

    The prompt is offered twice; with no key pressed the call says goodbye and hangs up (the
    escalation moves on). Twilio's default voices speak no Mandarin, hence explicit voices.
    """
    response = VoiceResponse()
    for _ in range(2):
        gather = Gather(num_digits=1, action=action_url, method="POST", timeout=GATHER_TIMEOUT_S)
        gather.say(message_zh, voice=voice_zh, language=ZH)
        gather.say(message_en, voice=voice_en, language=EN)
        gather.say(PROMPT_ZH, voice=voice_zh, language=ZH)
        gather.say(PROMPT_EN, voice=voice_en, language=EN)
        response.append(gather)
    response.say(GOODBYE_ZH, voice=voice_zh, language=ZH)
    response.say(GOODBYE_EN, voice=voice_en, language=EN)
    return str(response.to_xml())


def say_twiml(
    message_zh: str, message_en: str, *, voice_zh: str = "Polly.Zhiyu", voice_en: str = "Polly.Joanna"
) -> str:
    """A call that says one thing in both languages and hangs up."""
    response = VoiceResponse()
    response.say(message_zh, voice=voice_zh, language=ZH)
    response.say(message_en, voice=voice_en, language=EN)
    return str(response.to_xml())


def dial_twiml(message_zh: str, message_en: str, numbers: list[str], *, voice_zh: str = "Polly.Zhiyu") -> str:
    """Say why, then ring the given numbers in turn (the duty officers) until one answers."""
    response = VoiceResponse()
    response.say(message_zh, voice=voice_zh, language=ZH)
    response.say(message_en, voice="Polly.Joanna", language=EN)
    for number in numbers:
        response.dial(number, timeout=20)
    return str(response.to_xml())
