"""Staff login (argon2), signed expiring session cookies, CSRF on every form."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from dispatch.auth import sessions
from dispatch.auth.passwords import authenticate, hash_password, set_password
from dispatch.community.models import Staff
from dispatch.runtime import Runtime
from tests.web.screens import field, login


def test_a_demo_password_logs_in_once_from_the_file_then_only_its_argon2_hash_counts(
    client: TestClient, runtime: Runtime
) -> None:
    r = login(client, "S3")
    assert r.status_code == 303 and r.headers["location"] == "/staff"
    with runtime.readers() as session:
        stored = session.get(Staff, "S3")
        assert stored is not None and stored.password_hash and stored.password_hash.startswith("$argon2id$")
    with runtime.sessions.begin() as session:
        set_password(session, "S3", "a new password")
    assert login(client, "S3", "demo").headers["location"] == "/login?error=login_failed"
    assert login(client, "S3", "a new password").headers["location"] == "/staff"


def test_staff_log_in_by_phone_too_and_wrong_or_unknown_logins_get_the_same_answer(client: TestClient) -> None:
    assert login(client, "+8617000000103").headers["location"] == "/staff"
    wrong = login(client, "S3", "guess").headers["location"]
    unknown = login(client, "S999", "demo").headers["location"]
    assert wrong == unknown == "/login?error=login_failed"


def test_no_demo_file_means_no_password_until_one_is_set(runtime: Runtime, tmp_path: object) -> None:
    with runtime.sessions.begin() as session:
        assert authenticate(session, "S3", "demo", None) is None
        set_password(session, "S3", "pw")
        assert authenticate(session, "S3", "pw", None) is not None
    assert hash_password("x") != hash_password("x"), "salted"


def test_the_login_form_needs_its_signed_token(client: TestClient) -> None:
    r = client.post("/login", data={"login": "S3", "password": "demo", "form_token": "forged"}, follow_redirects=False)
    assert r.headers["location"] == "/login?error=form_expired"


def test_the_session_cookie_is_httponly_samesite_secure_and_signed(client: TestClient) -> None:
    r = login(client, "S3")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert client.get("/staff").status_code == 200
    value = client.cookies[sessions.COOKIE]
    client.cookies.clear()
    client.cookies.set(sessions.COOKIE, value[:-2] + "xx", domain="dispatch.example.org")
    r = client.get("/staff", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_a_staff_session_expires(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    login(client, "S3")
    assert client.get("/staff").status_code == 200
    monkeypatch.setattr(sessions, "STAFF_MAX_AGE_S", -1)
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/login"


def test_logout_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    login(client, "S3")
    page = client.get("/staff").text
    assert client.post("/logout", data={"csrf": "nope"}, follow_redirects=False).status_code == 403
    r = client.post("/logout", data={"csrf": field(page, "csrf")}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/login"


def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
