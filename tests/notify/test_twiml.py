"""The voice page: the alert in Mandarin then English, "press 1 / press 2", offered twice, then goodbye."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from notify.twiml import accept_prompt_twiml

ACTION = "https://dispatch.example.org/webhooks/twilio/voice/gather?alert=42&token=a%2Fb"
ZH = "紧急求助：3栋2单元5楼，需要医生。"
EN = "Emergency: building 3, unit 2, floor 5. A doctor is needed."


def parse(twiml: str) -> ET.Element:
    return ET.fromstring(twiml.encode())


def says(element: ET.Element) -> list[tuple[str | None, str]]:
    return [(say.get("language"), say.text or "") for say in element.findall("Say")]


def test_it_is_a_twiml_response_document() -> None:
    twiml = accept_prompt_twiml(ZH, EN, ACTION)

    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert parse(twiml).tag == "Response"


def test_one_key_is_gathered_and_posted_to_the_action_url() -> None:
    gathers = parse(accept_prompt_twiml(ZH, EN, ACTION)).findall("Gather")

    assert gathers
    for gather in gathers:
        assert gather.get("action") == ACTION  # '&' escaped in the XML, intact once parsed
        assert gather.get("method") == "POST"
        assert gather.get("numDigits") == "1"
        assert gather.get("timeout") == "8"


def test_the_alert_is_said_in_mandarin_then_english_with_the_keys_in_both() -> None:
    gather = parse(accept_prompt_twiml(ZH, EN, ACTION)).findall("Gather")[0]

    spoken = says(gather)
    assert spoken[:2] == [("cmn-CN", ZH), ("en-US", EN)]
    prompts = dict(spoken[2:])
    assert "1" in prompts["cmn-CN"] and "2" in prompts["cmn-CN"]
    assert prompts["en-US"] == "Press 1 to accept, 2 to decline."


def test_every_say_names_a_voice_that_speaks_its_language() -> None:
    # Twilio's default voices (man, woman) speak no Mandarin.
    for say in parse(accept_prompt_twiml(ZH, EN, ACTION)).iter("Say"):
        assert say.get("voice") == {"cmn-CN": "Polly.Zhiyu", "en-US": "Polly.Joanna"}[say.get("language") or ""]


def test_the_prompt_is_offered_twice_then_the_call_says_goodbye() -> None:
    root = parse(accept_prompt_twiml(ZH, EN, ACTION))

    verbs = [child.tag for child in root]
    assert verbs == ["Gather", "Gather", "Say", "Say"]
    first, second = root.findall("Gather")
    assert says(first) == says(second)
    assert [language for language, _ in says(root)] == ["cmn-CN", "en-US"]


def test_message_text_is_escaped_not_interpreted_as_markup() -> None:
    root = parse(accept_prompt_twiml("<Hangup/> & 1", "<Hangup/> & 2", ACTION))

    assert root.find(".//Hangup") is None
    assert says(root.findall("Gather")[0])[:2] == [("cmn-CN", "<Hangup/> & 1"), ("en-US", "<Hangup/> & 2")]


def test_a_typical_alert_fits_twilios_4000_character_limit_for_inline_twiml() -> None:
    assert len(accept_prompt_twiml(ZH * 3, EN * 3, ACTION)) < 4000
