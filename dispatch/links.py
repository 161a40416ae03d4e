"""Signed, expiring one-tap links for vanguards: the link itself is the credential for one page."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

LINK_MAX_AGE_S = 6 * 3600


class LinkError(ValueError):
    pass


class LinkSigner:
    def __init__(self, secret_key: str, public_base_url: str) -> None:
        self._s = URLSafeTimedSerializer(secret_key, salt="vanguard-page-link")
        self._base = public_base_url.rstrip("/")

    def token(self, page_id: int) -> str:
        return str(self._s.dumps({"p": page_id}))

    def url(self, page_id: int) -> str:
        return f"{self._base}/r/{self.token(page_id)}"

    def page_id(self, token: str, max_age_s: int = LINK_MAX_AGE_S) -> int:
        try:
            data = self._s.loads(token, max_age=max_age_s)
        except SignatureExpired as exc:
            raise LinkError("this link has expired") from exc
        except BadSignature as exc:
            raise LinkError("this link is not valid") from exc
        if not isinstance(data, dict) or not isinstance(data.get("p"), int):
            raise LinkError("this link is not valid")
        return int(data["p"])
