"""The narrow port between dispatch and whoever carries messages to phones.

Dispatch only ever talks to a `PhoneProvider`; `twilio` is imported in `notify.twilio_provider` alone, and
provider failures reach the caller as `ProviderError`, never as a vendor exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class ProviderError(Exception):
    """A send failed. `retryable` says whether trying again later can succeed (5xx, timeout, rate limit)."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class Sent:
    """What the provider accepted: its own id for the message or call, kept for idempotency and status callbacks."""

    provider: str
    provider_id: str
    status: str


class PhoneProvider(Protocol):
    name: str

    def send_sms(self, to: str, body: str, *, status_callback: str | None = None) -> Sent:
        """Hand one SMS to the provider. Raises ProviderError."""
        ...

    def place_call(self, to: str, twiml: str, *, status_callback: str | None = None) -> Sent:
        """Start one voice call that plays `twiml`. Raises ProviderError."""
        ...

    def find_sent(self, to: str, body: str, *, channel: str, since: datetime) -> Sent | None:
        """The message or call we already handed over (same recipient and body, since `since`), if the provider
        can tell. Asked before re-sending a message whose sender died mid-send, so a crash does not page twice.
        None when nothing was found or the provider cannot look. Raises ProviderError."""
        ...
