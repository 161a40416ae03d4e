"""Twilio webhook signatures (`X-Twilio-Signature`) and the public URL they are computed over.

Twilio signs the exact URL it called plus the POSTed form fields with the account's auth token.
Behind a proxy or tunnel the URL our app sees differs from it, so the URL is rebuilt from the
configured PUBLIC_BASE_URL and the request's path and query string.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator


def verify_twilio_signature(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """True when `signature` is Twilio's signature of `url` and `params` under `auth_token`."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def sign_twilio_request(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` Twilio would send for this request (for tests and the demo)."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def public_url(base_url: str, path: str, query: str = "") -> str:
    """The URL Twilio called: PUBLIC_BASE_URL (which may carry a path prefix) + path + query.

    `query` is the raw query string as received (with or without the leading "?"); it is kept
    byte for byte because the signature covers it.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"PUBLIC_BASE_URL must be an absolute http(s) URL, got {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_BASE_URL must not have a query or fragment, got {base_url!r}")
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    query = query.removeprefix("?")
    return f"{url}?{query}" if query else url
