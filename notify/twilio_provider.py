"""`PhoneProvider` on Twilio's REST API, through the official `twilio` client.

This is the only module that imports `twilio.rest`; every failure leaves it as `ProviderError`:

- HTTP 429 and 5xx from Twilio: retryable.
- Other 4xx (bad number, bad credentials, unverified sender...): not retryable; `code` is
  Twilio's error code.
- The network (refused, reset, timed out): retryable. Twilio may have accepted a request whose
  answer we never read, so a retry can deliver twice: pages are at-least-once.
- A request we could not even build (malformed `api_base_url`): not retryable.

`api_base_url` points the client at another server speaking Twilio's API (the in-process fake in
tests, Stoplight Prism for contract tests). twilio 9.x builds every request URL from the domain's
`base_url` at call time (`Domain.absolute_url`), so setting `client.api.base_url` moves
`messages.create` and `calls.create` there.

The client's `requests` session reads proxy and CA-bundle settings from the environment on every request
(about 0.2 ms of CPU per message here, a quarter of the client's cost). They are read once, when the provider is
made, for the one host it talks to, and the session is told not to look again.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Final

import requests
import requests.utils
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notify.ports import ProviderError, Sent

CALL_PROGRESS_EVENTS: Final = ("initiated", "ringing", "answered", "completed")
TWILIO_API: Final = "https://api.twilio.com"

# Raised before anything is sent: the configuration is wrong and a retry cannot fix it.
_REQUEST_NOT_BUILT = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)
# What the client raises for a failed send. ValueError: a 2xx body that is not JSON.
_FAILURES = (TwilioException, requests.RequestException, ValueError)


class TwilioProvider:
    """SMS and calls from one Twilio account. `close()` it (or use `with`) when done."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base_url: str | None = None,
        timeout_s: float = 10,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s!r}")
        self.from_number = from_number
        self._http = TwilioHttpClient(
            timeout=timeout_s, proxy=requests.utils.get_environ_proxies(api_base_url or TWILIO_API)
        )
        if self._http.session is not None:
            # What `requests` would have read from the environment for every message, read once (see above).
            self._http.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            self._http.session.trust_env = False
        self._client = Client(account_sid, auth_token, http_client=self._http)
        if api_base_url is not None:
            self._client.api.base_url = api_base_url.rstrip("/")
            # TWILIO_EDGE / TWILIO_REGION from the environment would rewrite the host of every URL.
            self._client.edge = None
            self._client.region = None

    def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> Sent:
        options: dict[str, Any] = {}
        if status_callback is not None:
            options["status_callback"] = status_callback
        try:
            message = self._client.messages.create(to=to, from_=self.from_number, body=body, **options)
        except _FAILURES as exc:
            raise _provider_error("SMS", exc) from exc
        return self._sent(message, "SMS")

    def place_call(self, to: str, twiml: str, *, status_callback: str | None = None) -> Sent:
        options: dict[str, Any] = {}
        if status_callback is not None:
            options["status_callback"] = status_callback
            options["status_callback_event"] = list(CALL_PROGRESS_EVENTS)
        try:
            call = self._client.calls.create(to=to, from_=self.from_number, twiml=twiml, **options)
        except _FAILURES as exc:
            raise _provider_error("call", exc) from exc
        return self._sent(call, "call")

    def find_sent(self, to: str, body: str, *, channel: str, since: datetime) -> Sent | None:
        """An SMS with this body to `to` created since `since`. Calls carry no body to compare, so a call is never
        matched (a call whose sender died mid-send may ring twice: at-least-once, never lost)."""
        if channel != "sms":
            return None
        try:
            found = self._client.messages.list(to=to, from_=self.from_number, date_sent_after=since, limit=50)
        except _FAILURES as exc:
            raise _provider_error("message lookup", exc) from exc
        for message in found:
            created = getattr(message, "date_created", None)
            if getattr(message, "body", None) == body and (created is None or created >= since):
                return self._sent(message, "SMS")
        return None

    def close(self) -> None:
        """Close the pooled HTTP connections."""
        if self._http.session is not None:
            self._http.session.close()

    def __enter__(self) -> TwilioProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _sent(self, instance: Any, what: str) -> Sent:
        sid = getattr(instance, "sid", None)
        if not isinstance(sid, str) or not sid:
            # Twilio answered 2xx without an id: it may have accepted; treat it like a lost answer.
            raise ProviderError(f"Twilio accepted the {what} but returned no sid", retryable=True)
        status = getattr(instance, "status", None)
        return Sent(provider=self.name, provider_id=sid, status=str(status or "unknown"))


def _provider_error(what: str, exc: Exception) -> ProviderError:
    """Translate anything the twilio client raised into our `ProviderError`."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        code = None if exc.code is None else str(exc.code)
        retryable = status == 429 or status >= 500
        detail = getattr(exc, "msg", None) or getattr(exc, "title", "")
        return ProviderError(
            f"Twilio refused the {what}: HTTP {status}, code {code}: {detail}",
            retryable=retryable,
            code=code,
        )
    if isinstance(exc, _REQUEST_NOT_BUILT):
        return ProviderError(f"Twilio {what} request could not be built: {exc}", retryable=False)
    if isinstance(exc, requests.RequestException | TwilioException):
        return ProviderError(f"Twilio {what} failed in transit: {type(exc).__name__}: {exc}", retryable=True)
    # ValueError: a 2xx whose body is not Twilio's JSON; a proxy or the wrong server answered.
    return ProviderError(f"Twilio {what} got an unreadable answer: {exc}", retryable=True)
