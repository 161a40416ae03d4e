"""The vanguard's one-tap page: how far, accept, the door and a walking route after accepting, on scene,
availability and on-call schedule."""

from __future__ import annotations

import re

from sqlalchemy import select
from starlette.testclient import TestClient

from dispatch.audit.models import AuditEntry
from dispatch.runtime import Runtime
from dispatch.vanguards.models import Vanguard
from dispatch.web.route import StreetGraph
from tests.support.flow import deliver, press, shows_the_door
from tests.web.screens import field, link_path

DOCTOR = "+8617000000001"


def test_before_accepting_the_page_says_what_and_how_far_but_not_the_door(client: TestClient, runtime: Runtime) -> None:
    press(client)
    deliver(runtime)
    page = client.get(link_path(runtime, DOCTOR)).text
    assert "急病" in page and "米" in page and "接单" in page and not shows_the_door(page)
    assert '<svg class="map"' in page


def test_accepting_shows_the_door_the_route_and_the_on_scene_button(client: TestClient, runtime: Runtime) -> None:
    press(client)
    deliver(runtime)
    path = link_path(runtime, DOCTOR)
    page = client.post(path, data={"action": "accept", "csrf": field(client.get(path).text, "csrf")}).text
    assert "2单元 5楼 501室" in page and 'class="route"' in page and 'value="on_scene"' in page
    with runtime.readers() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "view_door"))
        assert entry is not None and entry.actor == "vanguard:V1" and entry.subject == "household:H1"
    done = client.post(path, data={"action": "on_scene", "csrf": field(page, "csrf")})
    assert "已记录到场" in done.text


def test_the_availability_toggle_reaches_the_database_and_the_matching(client: TestClient, runtime: Runtime) -> None:
    press(client)
    deliver(runtime)
    path = link_path(runtime, DOCTOR)
    csrf = field(client.get(path).text, "csrf")
    assert "已暂停接单" in client.post(path, data={"action": "pause", "csrf": csrf}).text
    with runtime.readers() as session:
        assert session.get(Vanguard, "V1").available is False  # type: ignore[union-attr]
    assert runtime.ctx.directory.vanguard("V1").available is False  # type: ignore[union-attr]
    client.post(path, data={"action": "resume", "csrf": csrf})
    assert runtime.ctx.directory.vanguard("V1").available is True  # type: ignore[union-attr]


def test_the_on_call_schedule_is_checked_before_it_is_saved(client: TestClient, runtime: Runtime) -> None:
    press(client)
    deliver(runtime)
    path = link_path(runtime, DOCTOR)
    csrf = field(client.get(path).text, "csrf")
    bad = client.post(path, data={"action": "schedule", "csrf": csrf, "on_call": "weekdays evenings"})
    assert "无法识别" in bad.text
    good = client.post(path, data={"action": "schedule", "csrf": csrf, "on_call": "Mon-Fri 18:30-23:00"})
    assert "已保存" in good.text
    with runtime.readers() as session:
        assert session.get(Vanguard, "V1").on_call == "Mon-Fri 18:30-23:00"  # type: ignore[union-attr]
    assert runtime.ctx.directory.vanguard("V1").on_call == "Mon-Fri 18:30-23:00"  # type: ignore[union-attr]


def test_the_walking_route_follows_the_streets_around_a_block() -> None:
    # Two streets meeting at a corner: the route turns the corner instead of cutting across the block.
    graph = StreetGraph([((0.0, 0.0), (100.0, 0.0)), ((100.0, 0.0), (100.0, 100.0))])
    route = graph.route((0.0, 5.0), (95.0, 100.0))
    assert route.along_streets and (100.0, 0.0) in route.points
    assert 200 <= route.length_m <= 215
    lonely = StreetGraph([]).route((0.0, 0.0), (30.0, 40.0))
    assert not lonely.along_streets and lonely.length_m == 50.0


def test_crossing_streets_are_joined_where_they_cross() -> None:
    graph = StreetGraph([((0.0, 50.0), (100.0, 50.0)), ((50.0, 0.0), (50.0, 100.0))])
    route = graph.route((0.0, 50.0), (50.0, 100.0))
    assert route.along_streets and (50.0, 50.0) in route.points and route.length_m == 100.0


def test_the_aed_fetcher_is_told_which_aed_and_routed_by_it(client: TestClient, runtime: Runtime) -> None:
    press(client)
    deliver(runtime)
    path = link_path(runtime, "+8617000000005")  # V5: the first wave's AED fetcher in the tiny community
    page = client.get(path).text
    assert "请先取 AED（除颤仪）：B1 一楼大堂" in page and ">AED</text>" in page
    accepted = client.post(path, data={"action": "accept", "csrf": field(page, "csrf")}).text
    route = re.search(r'<polyline class="route" points="([^"]+)"', accepted)
    assert route and len(route.group(1).split()) == 3, "you -> the AED -> the door"


def test_a_vanguard_can_share_a_live_position_from_the_page_and_stop_again(
    client: TestClient, runtime: Runtime
) -> None:
    from geo.crs import Crs, from_wgs84

    press(client)
    deliver(runtime)
    path = link_path(runtime, DOCTOR)
    csrf = field(client.get(path).text, "csrf")
    home = runtime.ctx.directory.vanguard("V1")
    assert home is not None
    lat, lon = from_wgs84(25.8500, 114.9330, Crs.GCJ02)  # standing at building B2, as a Chinese phone reports it
    shared = client.post(path, data={"action": "position", "csrf": csrf, "lat": lat, "lon": lon, "crs": "GCJ02"})
    assert "已共享您的位置" in shared.text
    moved = runtime.ctx.directory.vanguard("V1")
    b2 = runtime.ctx.directory.buildings["B2"]
    assert moved is not None and abs(moved.x - b2.x) < 1 and abs(moved.y - b2.y) < 1
    with runtime.readers() as session:
        row = session.get(Vanguard, "V1")
        assert row is not None and row.live_at is not None and abs((row.live_lon or 0) - 114.9330) < 1e-6
    bad = client.post(path, data={"action": "position", "csrf": csrf, "lat": 123, "lon": 114.9, "crs": "WGS84"})
    assert bad.status_code == 422 and "lat" in bad.text
    assert "未能获取位置" in client.post(path, data={"action": "position", "csrf": csrf}).text
    client.post(path, data={"action": "position_off", "csrf": csrf})
    back = runtime.ctx.directory.vanguard("V1")
    assert back is not None and (back.x, back.y) == (home.x, home.y)
