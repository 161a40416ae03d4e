"""TwilioProvider drives the real `twilio` client against an in-process fake of Twilio's REST API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from notify.ports import ProviderError, Sent
from notify.twilio_provider import TwilioProvider
from tests.fakes.fake_twilio import FakeTwilio

OUR_NUMBER = "+15005550006"
VANGUARD = "+8613800138000"
CALLBACK = "https://dispatch.example.org/webhooks/twilio/status?alert=42"
TWIML = '<Response><Say language="en-US">Emergency</Say></Response>'

MakeProvider = Callable[..., TwilioProvider]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def make_provider(twilio: FakeTwilio) -> Iterator[MakeProvider]:
    """Builds providers pointed at the fake, with any argument overridden; closes them after the test."""
    made: list[TwilioProvider] = []

    def make(*, auth_token: str | None = None, timeout_s: float = 2) -> TwilioProvider:
        provider = TwilioProvider(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token if auth_token is None else auth_token,
            from_number=OUR_NUMBER,
            api_base_url=twilio.base_url,
            timeout_s=timeout_s,
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


@pytest.fixture
def provider(make_provider: MakeProvider) -> TwilioProvider:
    return make_provider()


def test_an_sms_goes_from_our_number_with_its_status_callback_and_returns_twilios_sid(
    provider: TwilioProvider, twilio: FakeTwilio
) -> None:
    sent = provider.send_sms(VANGUARD, "急救 Emergency: Bldg 3, reply 1 to accept", status_callback=CALLBACK)

    [message] = twilio.messages
    assert message.form == {
        "From": OUR_NUMBER,
        "To": VANGUARD,
        "Body": "急救 Emergency: Bldg 3, reply 1 to accept",
        "StatusCallback": CALLBACK,
    }
    assert message.auth_ok
    assert sent == Sent(provider="twilio", provider_id=message.sid or "", status="queued")
    assert sent.provider_id.startswith("SM")


def test_an_sms_without_a_status_callback_sends_no_callback_field(provider: TwilioProvider, twilio: FakeTwilio) -> None:
    provider.send_sms(VANGUARD, "Stand down, thank you")

    assert "StatusCallback" not in twilio.messages[0].form


def test_a_call_carries_the_twiml_and_asks_for_every_progress_event(
    provider: TwilioProvider, twilio: FakeTwilio
) -> None:
    sent = provider.place_call(VANGUARD, TWIML, status_callback=CALLBACK)

    [call] = twilio.calls
    assert call.form["From"] == OUR_NUMBER
    assert call.form["To"] == VANGUARD
    assert call.form["Twiml"] == TWIML
    assert call.form["StatusCallback"] == CALLBACK
    assert call.getlist("StatusCallbackEvent") == ["initiated", "ringing", "answered", "completed"]
    assert sent.provider == "twilio"
    assert sent.provider_id == call.sid
    assert sent.provider_id.startswith("CA")
    assert sent.status == "queued"


def test_a_call_without_a_status_callback_asks_for_no_progress_events(
    provider: TwilioProvider, twilio: FakeTwilio
) -> None:
    provider.place_call(VANGUARD, TWIML)

    assert "StatusCallback" not in twilio.calls[0].form
    assert twilio.calls[0].getlist("StatusCallbackEvent") == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_twilio_server_error_is_retryable(provider: TwilioProvider, twilio: FakeTwilio, status: int) -> None:
    twilio.fail_next(status, code=20500)

    with pytest.raises(ProviderError) as failure:
        provider.send_sms(VANGUARD, "hello")

    assert failure.value.retryable
    assert twilio.messages == []


def test_rate_limiting_is_retryable(provider: TwilioProvider, twilio: FakeTwilio) -> None:
    twilio.fail_next(429, code=20429)

    with pytest.raises(ProviderError) as failure:
        provider.place_call(VANGUARD, TWIML)

    assert failure.value.retryable
    assert failure.value.code == "20429"


def test_a_request_twilio_rejects_is_final_and_carries_twilios_error_code(
    provider: TwilioProvider, twilio: FakeTwilio
) -> None:
    twilio.fail_next(400, code=21211)  # invalid 'To' phone number

    with pytest.raises(ProviderError) as failure:
        provider.send_sms("+86 not a number", "hello")

    assert not failure.value.retryable
    assert failure.value.code == "21211"


@pytest.mark.parametrize(("status", "retryable"), [(400, False), (429, True), (503, True)])
def test_problem_details_errors_map_the_same_way(
    provider: TwilioProvider, twilio: FakeTwilio, status: int, retryable: bool
) -> None:
    twilio.fail_next(status, code=20001, problem_details=True)

    with pytest.raises(ProviderError) as failure:
        provider.send_sms(VANGUARD, "hello")

    assert failure.value.retryable is retryable
    assert failure.value.code == "20001"


def test_a_missing_number_is_refused_by_twilio_with_code_21604(provider: TwilioProvider) -> None:
    with pytest.raises(ProviderError) as failure:
        provider.send_sms("", "hello")

    assert not failure.value.retryable
    assert failure.value.code == "21604"


def test_wrong_credentials_are_final(make_provider: MakeProvider, twilio: FakeTwilio) -> None:
    provider = make_provider(auth_token="not-the-token")

    with pytest.raises(ProviderError) as failure:
        provider.send_sms(VANGUARD, "hello")

    assert not failure.value.retryable
    assert failure.value.code == "20003"
    assert not twilio.requests[0].auth_ok


def test_an_unreachable_twilio_is_retryable(provider: TwilioProvider, twilio: FakeTwilio) -> None:
    twilio.stop()

    with pytest.raises(ProviderError) as failure:
        provider.place_call(VANGUARD, TWIML)

    assert failure.value.retryable


def test_a_slow_answer_times_out_and_is_retryable_though_twilio_may_have_sent_it(
    make_provider: MakeProvider, twilio: FakeTwilio
) -> None:
    provider = make_provider(timeout_s=0.2)
    twilio.delay_next(5)  # cut short when the fake stops

    with pytest.raises(ProviderError) as failure:
        provider.send_sms(VANGUARD, "hello")

    assert failure.value.retryable
    assert len(twilio.messages) == 1  # accepted: a retry may page twice (at-least-once)


def test_a_retry_after_transient_failures_goes_through(provider: TwilioProvider, twilio: FakeTwilio) -> None:
    twilio.fail_next(503, times=2)

    for _ in range(2):
        with pytest.raises(ProviderError):
            provider.send_sms(VANGUARD, "hello")
    sent = provider.send_sms(VANGUARD, "hello")

    assert [m.sid for m in twilio.messages] == [sent.provider_id]
    assert len(twilio.requests) == 3


def test_failures_reach_the_caller_as_provider_errors_only(provider: TwilioProvider, twilio: FakeTwilio) -> None:
    twilio.fail_next(500)

    with pytest.raises(ProviderError) as failure:
        provider.send_sms(VANGUARD, "hello")

    assert type(failure.value) is ProviderError
    assert not type(failure.value).__module__.startswith("twilio")


def test_a_local_api_base_url_ignores_twilio_edge_and_region_settings(
    make_provider: MakeProvider, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")

    make_provider().send_sms(VANGUARD, "hello")

    assert len(twilio.messages) == 1


def test_the_provider_is_a_context_manager_that_closes_its_connections(twilio: FakeTwilio) -> None:
    with TwilioProvider(twilio.account_sid, twilio.auth_token, OUR_NUMBER, api_base_url=twilio.base_url) as provider:
        provider.send_sms(VANGUARD, "hello")

    assert provider.name == "twilio"
    assert len(twilio.messages) == 1


def test_a_proxy_set_in_the_environment_when_the_provider_is_made_is_used(
    make_provider: MakeProvider, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: the send must fail
    monkeypatch.setenv("NO_PROXY", "")
    provider = make_provider()

    with pytest.raises(ProviderError) as failure:
        provider.send_sms(VANGUARD, "hello")

    assert failure.value.retryable
    assert twilio.messages == [], "the request went to the proxy, not straight to Twilio"


def test_the_environment_is_read_once_not_for_every_message(
    make_provider: MakeProvider, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    provider = make_provider()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # set later: not looked at

    provider.send_sms(VANGUARD, "hello")

    assert len(twilio.messages) == 1
    assert provider._http.session is not None
    assert provider._http.session.verify == "/etc/ssl/certs/ca-certificates.crt", "the CA bundle still counts"
