"""One test per role: what it must not reach. Every staff route checks the role and the grid scope."""

from __future__ import annotations

from starlette.testclient import TestClient

from dispatch.runtime import Runtime
from tests.support.flow import deliver, press
from tests.web.screens import field, link_path, login, pair, second_client

DOCTOR = "+8617000000001"
STAFF_PAGES = ["/staff", "/staff/board-fragment", "/staff/kpi", "/staff/kpi.csv", "/staff/coverage", "/staff/audit"]
REVIEW_PAGES = ["/staff/kpi", "/staff/kpi.csv", "/staff/coverage", "/staff/audit"]


def test_anonymous_visitors_are_sent_to_the_login_form(client: TestClient) -> None:
    for url in [*STAFF_PAGES, "/staff/incidents/x", "/staff/events"]:
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", url
    assert client.get("/resident/events?incident=x").status_code == 401


def test_a_household_sees_only_its_own_incident_and_no_staff_page(client: TestClient, runtime: Runtime) -> None:
    other = press(client, token="hh_token_two").json()
    pair(client, "hh_token_one")
    for url in STAFF_PAGES:
        assert client.get(url, follow_redirects=False).status_code == 303, url
    assert client.get(f"/resident/events?incident={other['id']}").status_code == 404
    page = client.get("/resident").text
    r = client.post("/resident/cancel", data={"csrf": field(page, "csrf"), "incident_id": other["id"]})
    assert r.status_code == 403


def test_a_grid_worker_sees_nothing_of_other_grids(client: TestClient, runtime: Runtime) -> None:
    g1 = press(client, token="hh_token_one").json()  # building B1, grid G1
    deliver(runtime)
    login(client, "S4")  # grid worker of G2
    board = client.get("/staff").text
    assert g1["code"] not in board and "第二网格" in board
    assert client.get(f"/staff/incidents/{g1['id']}").status_code == 403
    csrf = field(board, "csrf")
    r = client.post(f"/staff/incidents/{g1['id']}/confirm", data={"csrf": csrf, "outcome": "resolved"})
    assert r.status_code == 403
    for url in REVIEW_PAGES:
        assert client.get(url).status_code == 403, url


def test_a_building_leader_cannot_confirm_or_review(client: TestClient, runtime: Runtime) -> None:
    incident = press(client, token="hh_token_one").json()
    login(client, "S1")  # leader of B1: sees the incident in the building, may not close it
    board = client.get("/staff").text
    assert incident["code"] in board and "confirm" not in board
    r = client.post(
        f"/staff/incidents/{incident['id']}/confirm", data={"csrf": field(board, "csrf"), "outcome": "resolved"}
    )
    assert r.status_code == 403
    for url in REVIEW_PAGES:
        assert client.get(url).status_code == 403, url


def test_a_coordinator_cannot_press_for_a_household_nor_act_without_csrf(client: TestClient) -> None:
    login(client, "S6")
    r = client.post("/resident/press", data={"csrf": "x", "idempotency_key": "k"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/resident"
    api = client.post("/api/v1/incidents", json={}, headers={"Authorization": "Bearer st_coordinator"})
    assert api.status_code == 403
    other = second_client(client)
    pair(other)
    incident = press(other, token="hh_token_one").json()
    r = client.post(f"/staff/incidents/{incident['id']}/confirm", data={"csrf": "forged", "outcome": "resolved"})
    assert r.status_code == 403


def test_a_vanguard_link_opens_its_own_alert_only(client: TestClient, runtime: Runtime) -> None:
    press(client, token="hh_token_one")
    deliver(runtime)
    path = link_path(runtime, DOCTOR)
    nurse = link_path(runtime, "+8617000000002")
    page = client.get(path).text
    assert client.get(path[:-3] + "abc").status_code == 404, "a tampered link is refused"
    r = client.post(nurse, data={"action": "accept", "csrf": field(page, "csrf")})
    assert r.status_code == 403, "one link's form token does not work on another link"
    assert client.get("/staff", follow_redirects=False).status_code == 303, "a link is no staff session"


def test_a_duty_officer_sees_every_grid_but_not_the_coordinators_review(client: TestClient, runtime: Runtime) -> None:
    g1 = press(client, token="hh_token_one").json()
    g2 = press(client, token="hh_token_two").json()
    login(client, "S5")
    board = client.get("/staff").text
    assert g1["code"] in board and g2["code"] in board
    for url in REVIEW_PAGES:
        assert client.get(url).status_code == 403, url


def test_a_grid_secretary_is_held_to_the_grid_like_its_workers(client: TestClient, runtime: Runtime) -> None:
    g2 = press(client, token="hh_token_two").json()
    login(client, "S2")  # secretary of G1
    assert g2["code"] not in client.get("/staff").text
    assert client.get(f"/staff/incidents/{g2['id']}").status_code == 403
