"""What an attacker could do (issue 17), one test per finding: each asserts the refusal, and that nothing was lost
or leaked. Through the app's HTTP interface (TestClient and httpx's ASGI transport, as a client sends it)."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth import passwords, sessions
from dispatch.clock import FakeClock
from dispatch.db.engine import make_engine
from dispatch.incidents.models import Incident
from dispatch.runtime import Runtime
from dispatch.settings import TwilioSettings
from dispatch.web.demo_gate import demo_is_open
from tests.e2e.test_server import _free_port as free_port
from tests.support.flow import auth, deliver, press
from tests.web.screens import field, link_path, login, pair, press_on_page

DOCTOR = "+8617000000001"
STATIC_FILE = "app.css"


def incidents(runtime: Runtime) -> int:
    with runtime.readers() as session:
        return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


# -- 1. request bodies are limited before they are parsed ------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_unread_with_a_reason_and_the_next_press_goes_through(
    client: TestClient, runtime: Runtime
) -> None:
    huge = json.dumps({"kind": "medical", "note": "x" * (10 * 1024 * 1024)})
    headers = {**auth("hh_token_one"), "Content-Type": "application/json"}
    r = client.post("/api/v1/incidents", content=huge, headers=headers)
    assert r.status_code == 413
    assert "65536 bytes" in r.json()["detail"] and "120" in r.json()["detail"]
    assert len(r.content) < 1024, "nothing of the body comes back"
    assert incidents(runtime) == 0
    assert press(client).status_code == 201, "the server goes on taking presses"


def test_a_streamed_body_without_a_length_is_counted_and_refused_once_past_the_limit(
    client: TestClient, runtime: Runtime
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"kind": "medical", "note": "'
        for _ in range(1000):  # 16 MB if it were all read
            sent += 1
            yield b"y" * 16384
        yield b'"}'

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://dispatch.example.org") as http:
            return await http.post("/api/v1/incidents", content=chunks(), headers=auth("hh_token_one"))

    r = asyncio.run(scenario())
    assert r.status_code == 413 and "65536 bytes" in r.json()["detail"]
    assert sent <= 6, "reading stopped just past the limit"
    assert incidents(runtime) == 0


def test_a_body_at_the_limit_is_read_and_a_setting_moves_the_limit(client: TestClient, runtime: Runtime) -> None:
    note = "z" * 400
    assert press(client, kind="medical", note=note).status_code == 201
    runtime.settings = replace(runtime.settings, max_body_bytes=100)
    r = press(client, token="hh_token_two", kind="medical", note=note)
    assert r.status_code == 413 and "100 bytes" in r.json()["detail"]


def test_a_422_names_the_wrong_field_without_repeating_what_was_sent(client: TestClient, runtime: Runtime) -> None:
    secret = "门禁密码 4711#" * 50
    r = client.post("/api/v1/incidents", json={"kind": secret}, headers=auth("hh_token_one"))
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "kind"] and error["msg"] and set(error) == {"loc", "msg", "type"}
    assert "4711" not in r.text and "input" not in r.text
    r = client.post("/api/v1/incidents", json={"kind": "medical", "k" * 5000: 1}, headers=auth("hh_token_one"))
    assert r.status_code == 422 and len(r.text) < 500, "an attacker's key name is cut"
    assert incidents(runtime) == 0


# -- 2. the demo phones: only with simulated phones, and open only on this machine -----------------------------------


def reachable_from_anywhere(runtime: Runtime) -> TestClient:
    runtime.settings = replace(runtime.settings, bind_host="0.0.0.0")
    return TestClient(create_app(runtime, start_background=False), base_url="https://dispatch.example.org")


def test_served_beyond_this_machine_the_demo_phones_need_a_duty_officers_login(
    client: TestClient, runtime: Runtime
) -> None:
    incident = press(client).json()
    deliver(runtime)
    outside = reachable_from_anywhere(runtime)
    r = outside.get("/api/v1/demo/inbox")
    assert r.status_code == 401 and "/r/" not in r.text and "李医生" not in r.text
    r = outside.post(f"/api/v1/demo/phones/{DOCTOR}/reply", json={"body": "1"})
    assert r.status_code == 401
    assert outside.get("/demo/phones", follow_redirects=False).headers["location"] == "/login"
    assert (
        outside.post("/demo/phones/reply", data={"phone": DOCTOR, "body": "1"}, follow_redirects=False).status_code
        == 303
    )
    assert outside.get("/api/v1/demo/inbox", headers=auth("st_worker_g1")).status_code == 403
    assert outside.get("/api/v1/demo/inbox", headers=auth("hh_token_one")).status_code == 403
    with runtime.readers() as session:
        found = session.get(Incident, incident["id"])
        assert found is not None and found.accepted_by is None, "nobody accepted for the doctor"
    assert any("/r/" in m["body"] for m in outside.get("/api/v1/demo/inbox", headers=auth("st_duty")).json())
    login(outside, "S6")
    assert "李医生" in outside.get("/demo/phones").text


def test_bound_to_this_machine_the_demo_phones_are_open(client: TestClient) -> None:
    assert client.get("/api/v1/demo/inbox").status_code == 200
    assert demo_is_open(replace(client.app.state.runtime.settings, bind_host="::1"))  # type: ignore[attr-defined]
    for host in (None, "0.0.0.0", "192.168.1.20", "dispatch.example.org"):
        assert not demo_is_open(replace(client.app.state.runtime.settings, bind_host=host))  # type: ignore[attr-defined]


def test_with_a_real_provider_the_demo_phones_do_not_exist(runtime: Runtime) -> None:
    runtime.settings = replace(runtime.settings, twilio=TwilioSettings("AC1", "token", "+8610000000"))
    with TestClient(create_app(runtime, start_background=False), base_url="https://dispatch.example.org") as real:
        assert real.get("/api/v1/demo/inbox").status_code == 404
        assert real.post(f"/api/v1/demo/phones/{DOCTOR}/reply", json={"body": "1"}).status_code == 404
        assert real.get("/demo/phones").status_code == 404
        assert not any("demo" in path for path in real.get("/openapi.json").json()["paths"])


# -- 3. password guessing is slowed down, never a lock that shuts the owner out ----------------------------------------


@pytest.fixture
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2 at its smallest cost: these tests are about how many tries get checked, not how slowly."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    monkeypatch.setattr(passwords, "_dummy_hash", None)


def browser_at(client: TestClient, ip: str) -> TestClient:
    return TestClient(client.app, base_url="https://dispatch.example.org", client=(ip, 50000))


def where(r: httpx.Response) -> str:
    return str(r.headers["location"])


@pytest.mark.usefixtures("quick_argon2")
def test_one_source_guessing_one_login_waits_longer_after_each_failure_and_its_waiting_tries_are_not_checked(
    client: TestClient, clock: FakeClock
) -> None:
    for _ in range(5):
        assert where(login(client, "S3", "guess")) == "/login?error=login_failed"
    r = login(client, "S3")  # the right password, too early: not even checked
    assert where(r) == "/login?error=login_throttled" and sessions.COOKIE not in r.cookies
    clock.advance(1)
    assert where(login(client, "S3", "guess")) == "/login?error=login_failed"
    clock.advance(1)
    assert where(login(client, "S3")) == "/login?error=login_throttled", "the wait doubled to 2 s"
    clock.advance(1)
    assert where(login(client, "S3")) == "/staff"


@pytest.mark.usefixtures("quick_argon2")
def test_guesses_from_many_sources_never_keep_the_owner_out(client: TestClient, clock: FakeClock) -> None:
    owner = browser_at(client, "10.0.0.99")
    assert where(login(owner, "S3")) == "/staff"
    for n in range(6):  # a botnet: 30 wrong passwords for S3 from six addresses, one a minute (the slowest wait)
        attacker = browser_at(client, f"203.0.113.{n}")
        for _ in range(5):
            clock.advance(60)
            assert where(login(attacker, "S3", "guess")) == "/login?error=login_failed"
    assert where(login(browser_at(client, "203.0.113.77"), "S3", "guess")) == "/login?error=login_throttled"
    assert where(login(owner, "S3")) == "/staff", "a source that logged in before is not slowed by others' guesses"
    newcomer = browser_at(client, "10.0.0.7")  # the owner on a new network waits, but at most a minute
    assert where(login(newcomer, "S3")) == "/login?error=login_throttled"
    clock.advance(60)
    assert where(login(newcomer, "S3")) == "/staff"


@pytest.mark.usefixtures("quick_argon2")
def test_one_source_trying_many_logins_is_slowed_down_known_or_not(client: TestClient, clock: FakeClock) -> None:
    sprayer = browser_at(client, "198.51.100.1")
    for n in range(20):
        login_id = f"S{n % 6 + 1}" if n % 2 else f"X{n}"  # real staff ids and ids nobody has, alike
        assert where(login(sprayer, login_id, f"guess{n}")) == "/login?error=login_failed"
    assert where(login(sprayer, "S2")) == "/login?error=login_throttled"
    assert where(login(browser_at(client, "10.0.0.5"), "S2")) == "/staff", "other sources are not affected"
    clock.advance(1)
    assert where(login(sprayer, "S2")) == "/staff"


def test_a_wrong_login_and_a_wrong_password_cost_the_same_one_argon2_check(
    client: TestClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal time, shown as equal work: every failing path runs exactly one argon2 computation."""
    calls: list[str] = []
    real = passwords._hasher

    class Counting:
        def hash(self, password: str) -> str:
            calls.append("hash")
            return real.hash(password)

        def verify(self, hashed: str, password: str) -> bool:
            calls.append("verify")
            return real.verify(hashed, password)

        def check_needs_rehash(self, hashed: str) -> bool:
            return real.check_needs_rehash(hashed)

    passwords._spend_a_check("warm-up")  # the dummy hash is made once per process, before any login
    monkeypatch.setattr(passwords, "_hasher", Counting())
    with runtime.sessions.begin() as session:
        passwords.set_password(session, "S2", "secret")
    calls.clear()
    for login_id, password in (("S999", "demo"), ("S2", "wrong"), ("S3", "wrong")):  # unknown, hashed, demo file
        before = len(calls)
        assert where(login(client, login_id, password)) == "/login?error=login_failed"
        assert len(calls) - before == 1, (login_id, calls[before:])


def test_the_login_forms_token_works_once_and_only_in_the_browser_it_was_given_to(
    client: TestClient, runtime: Runtime
) -> None:
    token = field(client.get("/login").text, "form_token")
    form = {"login": "S3", "password": "guess", "form_token": token}
    assert where(client.post("/login", data=form, follow_redirects=False)) == "/login?error=login_failed"
    again = {**form, "password": "demo"}
    assert where(client.post("/login", data=again, follow_redirects=False)) == "/login?error=form_expired"
    elsewhere = field(browser_at(client, "203.0.113.9").get("/login").text, "form_token")  # an attacker's page
    forged = {**again, "form_token": elsewhere}
    r = client.post("/login", data=forged, follow_redirects=False)
    assert where(r) == "/login?error=form_expired" and sessions.COOKIE not in r.cookies
    token = field(client.get("/resident").text, "form_token")
    pairing = {"device_code": "hh_token_one", "form_token": token}
    assert where(client.post("/resident/pair", data=pairing, follow_redirects=False)) == "/resident"
    client.cookies.delete(sessions.COOKIE)
    assert where(client.post("/resident/pair", data=pairing, follow_redirects=False)) == "/resident?error=form_expired"


# -- 4. bad numbers: a clear 422, and the press is kept at the household's registered building ---------------------


def test_nan_or_infinite_coordinates_get_a_422_with_the_reason_and_the_press_is_kept_at_home(
    client: TestClient, runtime: Runtime
) -> None:
    raw = '{"kind": "fall", "location": {"lat": NaN, "lon": Infinity, "crs": "WGS84"}}'
    headers = {**auth("hh_token_one"), "Content-Type": "application/json", "Idempotency-Key": "k1"}
    r = client.post("/api/v1/incidents", content=raw, headers=headers)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["field"] == "location" and "finite" in detail["message"] and "120" in detail["message"]
    assert detail["recorded"] is True and r.headers["location"] == f"/api/v1/incidents/{detail['incident']['id']}"
    with runtime.readers() as session:
        (incident,) = session.scalars(select(Incident))
        assert (incident.kind, incident.location_source, incident.building_id) == ("fall", "household", "B1")
    shown = client.get(r.headers["location"], headers=auth("hh_token_one"))
    assert shown.status_code == 200, "the timeline holds no NaN that JSON cannot carry"
    pressed = next(e for e in shown.json()["timeline"] if e["type"] == "pressed")
    assert "finite" in pressed["detail"]["location_unusable"] and "gps" not in pressed["detail"]
    again = client.post("/api/v1/incidents", content=raw, headers=headers)
    assert again.status_code == 422 and again.json()["detail"]["incident"]["id"] == incident.id
    assert incidents(runtime) == 1, "sent again, it is the same press"


def test_a_fix_that_is_no_place_on_earth_is_kept_at_home_too(client: TestClient, runtime: Runtime) -> None:
    r = press(client, token="hh_token_two", kind="medical", location={"lat": 1e308, "lon": -181, "crs": "GCJ02"})
    assert r.status_code == 422 and r.json()["detail"]["recorded"] is True
    with runtime.readers() as session:
        (incident,) = session.scalars(select(Incident))
        assert incident.location_source == "household" and incident.building_id == "B2"
    assert press(client, token="hh_token_two", location={"lat": 91, "lon": 0, "crs": "MARS"}).status_code == 422
    assert incidents(runtime) == 1


def test_the_resident_page_never_loses_a_press_over_a_bad_position(client: TestClient, runtime: Runtime) -> None:
    pair(client)
    r = press_on_page(client, lat="NaN", lon="inf", crs="WGS84")
    assert r.status_code == 303 and r.headers["location"] == "/resident"
    with runtime.readers() as session:
        (incident,) = session.scalars(select(Incident))
        assert incident.location_source == "household" and incident.building_id == "B1"


# -- 5. staff sessions end on the server: logout, password change, idleness -------------------------------------------


def signed_in_copy(client: TestClient) -> TestClient:
    """Someone who copied the staff member's cookie (a shared computer, a stolen laptop)."""
    thief = TestClient(client.app, base_url="https://dispatch.example.org")
    thief.cookies.set(sessions.COOKIE, client.cookies[sessions.COOKIE], domain="dispatch.example.org")
    return thief


def test_after_logout_a_copy_of_the_session_cookie_opens_nothing(client: TestClient) -> None:
    login(client, "S3")
    thief = signed_in_copy(client)
    assert thief.get("/staff").status_code == 200
    client.post("/logout", data={"csrf": field(client.get("/staff").text, "csrf")})
    r = thief.get("/staff", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "冯网格员" not in thief.get("/staff/board-fragment", follow_redirects=False).text


def test_a_password_change_signs_out_every_session_of_that_person_only(client: TestClient, runtime: Runtime) -> None:
    login(client, "S3")
    other = browser_at(client, "10.0.0.8")
    login(other, "S2")
    with runtime.sessions.begin() as session:
        passwords.set_password(session, "S3", "a new password")
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/login"
    assert other.get("/staff").status_code == 200
    assert where(login(client, "S3", "a new password")) == "/staff"


def test_a_session_left_idle_ends_and_one_in_use_lasts_its_shift(client: TestClient, clock: FakeClock) -> None:
    login(client, "S3")
    for _ in range(8):  # used every 25 minutes for over three hours
        clock.advance(25 * 60)
        assert client.get("/staff").status_code == 200
    clock.advance(31 * 60)
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/login"
    login(client, "S3")
    for _ in range(28):  # busy all night: 11 h 40 min
        clock.advance(25 * 60)
        assert client.get("/staff/board-fragment").status_code == 200
    clock.advance(25 * 60)  # past the 12-hour shift, however busy
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/login"


# -- 6. one-tap link tokens stay out of the access log (through the real HTTP server) --------------------------------


@pytest.fixture
def served(runtime: Runtime) -> Iterator[tuple[str, list[str]]]:
    """The app behind a real uvicorn on a free port, with what its access log writes."""
    config = uvicorn.Config(create_app(runtime, start_background=False), host="127.0.0.1", port=free_port())
    server = uvicorn.Server(config)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("uvicorn.access").addHandler(handler)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}", lines
    finally:
        server.should_exit = True
        thread.join(10)
        logging.getLogger("uvicorn.access").removeHandler(handler)


def test_link_tokens_are_redacted_in_the_access_log(
    client: TestClient, runtime: Runtime, served: tuple[str, list[str]]
) -> None:
    url, log = served
    press(client)
    deliver(runtime)
    path = link_path(runtime, DOCTOR)
    token = path.removeprefix("/r/")
    assert httpx.get(url + path, timeout=10).status_code == 200
    assert httpx.post(url + path + "?outcome=x", data={"action": "x", "csrf": "y"}, timeout=10).status_code == 403
    assert any("/r/<redacted>" in line and '" 200' in line for line in log), log
    assert any("/r/<redacted>" in line and '" 403' in line for line in log), log
    assert not any(token in line or token[:20] in line for line in log)


# -- 7. malformed link answers, headers on every answer, a private database file -------------------------------------


def test_a_malformed_link_or_form_gets_a_4xx_never_a_500(client: TestClient, served: tuple[str, list[str]]) -> None:
    url, _ = served
    press(client)
    deliver(client.app.state.runtime)  # type: ignore[attr-defined]
    real = link_path(client.app.state.runtime, DOCTOR)  # type: ignore[attr-defined]
    probes = [
        (real, {"action": "accept", "csrf": "中文"}),  # non-ASCII secrets made hmac.compare_digest raise
        ("/r/%E4%B8%AD", {"action": "accept", "csrf": "x"}),
        ("/r/a.b.c", {"action": "accept", "csrf": "é"}),
        ("/r/" + "x" * 3000, {"action": "decline", "csrf": ""}),
        (real, {"action": "accept"}),
        (real, {}),
    ]
    for path, form in probes:
        r = httpx.post(url + path, data=form, timeout=10)
        assert 400 <= r.status_code < 500, (path[:40], form, r.status_code, r.text[:200])
    login(client, "S3")
    assert client.post("/logout", data={"csrf": "中文"}).status_code == 403
    assert client.get("/staff").status_code == 200, "still signed in"
    with client.app.state.runtime.readers() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(Incident.accepted_by)) is None


def test_every_answer_carries_no_store_and_the_security_headers(
    client: TestClient, served: tuple[str, list[str]]
) -> None:
    url, _ = served
    answers = [
        httpx.get(f"{url}/api/v1/incidents", headers=auth("st_duty"), timeout=10),
        httpx.get(f"{url}/api/v1/incidents", timeout=10),  # 401
        httpx.post(f"{url}/api/v1/incidents", json={"kind": "?"}, headers=auth("hh_token_one"), timeout=10),  # 422
        httpx.post(f"{url}/api/v1/incidents", content=b"x" * 70000, headers=auth("hh_token_one"), timeout=10),  # 413
        httpx.get(f"{url}/healthz", timeout=10),
        httpx.get(f"{url}/openapi.json", timeout=10),
    ]
    assert [a.status_code for a in answers] == [200, 401, 422, 413, 200, 200]
    for a in answers:
        assert a.headers["cache-control"] == "no-store", a.url
        assert a.headers["x-content-type-options"] == "nosniff"
        assert a.headers["referrer-policy"] == "no-referrer"
        assert (
            a.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in a.headers["content-security-policy"]
        )
    page = httpx.get(f"{url}/login", timeout=10)
    assert "script-src 'self'" in page.headers["content-security-policy"], "a page keeps its own stricter policy"
    static = httpx.get(f"{url}/static/{STATIC_FILE}", timeout=10)
    assert static.status_code == 200 and static.headers.get("cache-control") != "no-store"


def test_a_new_sqlite_database_and_its_journal_are_readable_by_their_owner_alone(tmp_path: Path) -> None:
    path = tmp_path / "private.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, path.with_name("private.sqlite-wal"), path.with_name("private.sqlite-shm")]
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
    engine.dispose()


# -- 8. errors met in a browser are pages a person can read; the API keeps JSON ---------------------------------------


def assert_error_page(r: httpx.Response, status_code: int, zh: str, back: str) -> None:
    assert r.status_code == status_code and r.headers["content-type"].startswith("text/html"), r.text[:200]
    assert zh in r.text and r.text.index(zh) < r.text.index("Back"), "Chinese first, English beside"
    assert 'href="tel:120"' in r.text and "119" in r.text and f'href="{back}"' in r.text


def test_a_browser_meets_a_readable_page_for_a_bad_link_a_refusal_a_missing_page_and_a_bad_form(
    client: TestClient,
) -> None:
    assert_error_page(client.get("/r/not-a-real-link"), 404, "此链接无效或已过期", "/")
    login(client, "S3")
    html = {"Accept": "text/html"}
    assert_error_page(client.get("/staff/incidents/nope", headers=html), 404, "找不到此页面", "/staff")
    assert_error_page(client.get("/staff/kpi", headers=html), 403, "无权执行此操作", "/staff")
    r = client.post("/staff/incidents/x/confirm", data={"csrf": "c", "outcome": "秘密<script>"}, headers=html)
    assert_error_page(r, 422, "填写的内容有误", "/staff")
    assert "秘密" not in r.text and "<script>" not in r.text, "what was sent is not shown back"
    client.cookies.clear()
    assert client.get("/staff", headers=html, follow_redirects=False).headers["location"] == "/login"


def test_the_json_api_keeps_json_errors_even_when_a_browser_asks(client: TestClient) -> None:
    r = client.get("/api/v1/incidents/nope", headers={**auth("st_duty"), "Accept": "text/html"})
    assert r.status_code == 404 and r.json() == {"detail": "no such incident"}
    r = client.post("/api/v1/incidents", json={"kind": "?"}, headers={**auth("hh_token_one"), "Accept": "text/html"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "kind"]
