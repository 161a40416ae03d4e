"""Signed session cookies with expiry, and the CSRF token each session carries.

The cookie holds who (staff id or household id), a random CSRF token and the time it was signed; itsdangerous
rejects it after `max_age`. Staff sessions last a shift at most, and a staff cookie also carries the secret of a
server-side session (auth/staff_sessions.py), which logout, a password change or idleness ends. A paired household
device's cookie lasts much longer and is stateless, because a resident must never meet a login form in an emergency.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

COOKIE = "vd_session"
STAFF_MAX_AGE_S = 12 * 3600
HOUSEHOLD_MAX_AGE_S = 180 * 24 * 3600
LOGIN_FORM_MAX_AGE_S = 3600

# Which roles may open which staff screens. Grid-scoped roles see only their grid (or building).
BOARD_ROLES = frozenset({"grid_worker", "grid_secretary", "building_leader", "duty_officer", "coordinator"})
REVIEW_ROLES = frozenset({"coordinator"})
CONFIRM_ROLES = frozenset({"grid_worker", "grid_secretary", "duty_officer", "coordinator"})


@dataclass(frozen=True)
class WebSession:
    kind: str  # staff | household
    id: str
    csrf: str
    secret: str = ""  # a staff session's server-side secret (empty for a household)

    @property
    def max_age_s(self) -> int:
        return STAFF_MAX_AGE_S if self.kind == "staff" else HOUSEHOLD_MAX_AGE_S


class SessionCodec:
    def __init__(self, secret_key: str) -> None:
        # One salt per kind, so a cookie is only ever read with its own kind's lifetime.
        self._cookies = {
            kind: URLSafeTimedSerializer(secret_key, salt=f"vd-session-{kind}") for kind in ("staff", "household")
        }
        self._login = URLSafeTimedSerializer(secret_key, salt="vd-login-form")

    def new(self, kind: str, ident: str, secret: str = "") -> tuple[WebSession, str]:
        session = WebSession(kind, ident, secrets.token_urlsafe(24), secret)
        payload = {"i": ident, "c": session.csrf, **({"s": secret} if secret else {})}
        return session, f"{kind[0]}.{self._cookies[kind].dumps(payload)}"

    def read(self, cookie: str | None) -> WebSession | None:
        if not cookie or cookie[:2] not in ("s.", "h."):
            return None
        kind = "staff" if cookie[0] == "s" else "household"
        max_age = STAFF_MAX_AGE_S if kind == "staff" else HOUSEHOLD_MAX_AGE_S
        try:
            data = self._cookies[kind].loads(cookie[2:], max_age=max_age)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("i"), str) or not isinstance(data.get("c"), str):
            return None
        secret = data.get("s")
        return WebSession(kind, data["i"], data["c"], secret if isinstance(secret, str) else "")

    def login_form_token(self) -> tuple[str, str]:
        """CSRF for the login and pairing forms, which come before any session: a signed, expiring nonce, and the
        nonce alone for a cookie of this browser (a token fetched by another site does not match its cookie)."""
        nonce = secrets.token_urlsafe(16)
        return str(self._login.dumps(nonce)), nonce

    def login_form_nonce(self, token: str) -> str | None:
        try:
            nonce = self._login.loads(token, max_age=LOGIN_FORM_MAX_AGE_S)
        except (BadSignature, SignatureExpired):
            return None
        return nonce if isinstance(nonce, str) else None


def same_secret(a: str, b: str) -> bool:
    """Constant-time equality of two secrets, for any text sent: hmac.compare_digest refuses non-ASCII strings
    with a TypeError, which made a form field with one character of Chinese a 500."""
    return hmac.compare_digest(a.encode(), b.encode())


def csrf_ok(session: WebSession | None, token: str | None) -> bool:
    return session is not None and token is not None and same_secret(session.csrf, token)
