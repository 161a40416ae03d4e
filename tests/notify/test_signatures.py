"""Webhook signatures: only Twilio, holding our auth token, can produce a valid X-Twilio-Signature."""

from __future__ import annotations

import pytest

from notify.signatures import public_url, sign_twilio_request, verify_twilio_signature

TOKEN = "test-auth-token"
URL = "https://dispatch.example.org/webhooks/twilio/voice/gather?alert=42&token=abc"
PARAMS = {"CallSid": "CA" + "1" * 32, "Digits": "1", "From": "+8613800138000"}


def test_twilios_published_example_signature_verifies() -> None:
    # The example from Twilio's webhook security documentation.
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }

    assert sign_twilio_request("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert verify_twilio_signature("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_a_signature_computed_for_the_url_and_params_verifies() -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)

    assert verify_twilio_signature(TOKEN, URL, PARAMS, signature)


def test_a_changed_param_fails() -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)

    assert not verify_twilio_signature(TOKEN, URL, {**PARAMS, "Digits": "2"}, signature)


def test_an_added_param_fails() -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)

    assert not verify_twilio_signature(TOKEN, URL, {**PARAMS, "Extra": "x"}, signature)


@pytest.mark.parametrize(
    "changed_url",
    [
        "https://dispatch.example.org/webhooks/twilio/voice/gather?alert=43&token=abc",
        "https://dispatch.example.org/webhooks/twilio/sms?alert=42&token=abc",
        "https://evil.example.net/webhooks/twilio/voice/gather?alert=42&token=abc",
        "http://dispatch.example.org/webhooks/twilio/voice/gather?alert=42&token=abc",
    ],
)
def test_a_changed_url_fails(changed_url: str) -> None:
    signature = sign_twilio_request(TOKEN, URL, PARAMS)

    assert not verify_twilio_signature(TOKEN, changed_url, PARAMS, signature)


def test_a_signature_made_with_another_token_fails() -> None:
    signature = sign_twilio_request("someone-elses-token", URL, PARAMS)

    assert not verify_twilio_signature(TOKEN, URL, PARAMS, signature)


@pytest.mark.parametrize("missing", [None, ""])
def test_a_missing_signature_fails(missing: str | None) -> None:
    assert not verify_twilio_signature(TOKEN, URL, PARAMS, missing)


def test_the_default_port_does_not_matter() -> None:
    # Twilio may sign with or without :443; RequestValidator accepts both.
    signature = sign_twilio_request(TOKEN, URL, PARAMS)

    assert verify_twilio_signature(TOKEN, URL.replace(".org/", ".org:443/"), PARAMS, signature)


@pytest.mark.parametrize(
    ("base_url", "path", "query", "expected"),
    [
        ("https://d.example.org", "/webhooks/sms", "", "https://d.example.org/webhooks/sms"),
        ("https://d.example.org/", "/webhooks/sms", "", "https://d.example.org/webhooks/sms"),
        ("https://d.example.org/", "webhooks/sms", "", "https://d.example.org/webhooks/sms"),
        ("https://d.example.org/dispatch/", "/webhooks/sms", "", "https://d.example.org/dispatch/webhooks/sms"),
        (
            "https://d.example.org",
            "/webhooks/gather",
            "alert=4&t=a%2Fb",
            "https://d.example.org/webhooks/gather?alert=4&t=a%2Fb",
        ),
        ("https://d.example.org", "/webhooks/gather", "?alert=4", "https://d.example.org/webhooks/gather?alert=4"),
        ("http://127.0.0.1:8000", "/webhooks/sms", "", "http://127.0.0.1:8000/webhooks/sms"),
    ],
)
def test_public_url_rebuilds_the_url_twilio_called(base_url: str, path: str, query: str, expected: str) -> None:
    assert public_url(base_url, path, query) == expected


def test_a_request_seen_behind_a_proxy_verifies_against_the_public_url() -> None:
    called = "https://d.example.org/dispatch/webhooks/sms?alert=4"
    signature = sign_twilio_request(TOKEN, called, PARAMS)
    # The app behind the proxy sees http://10.0.0.5:8000/webhooks/sms?alert=4.
    rebuilt = public_url("https://d.example.org/dispatch", "/webhooks/sms", "alert=4")

    assert verify_twilio_signature(TOKEN, rebuilt, PARAMS, signature)
    assert not verify_twilio_signature(TOKEN, "http://10.0.0.5:8000/webhooks/sms?alert=4", PARAMS, signature)


@pytest.mark.parametrize("bad", ["d.example.org", "ftp://d.example.org", "https://d.example.org/?x=1", "/relative"])
def test_public_url_refuses_a_base_url_that_is_not_an_absolute_http_url(bad: str) -> None:
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        public_url(bad, "/webhooks/sms")
