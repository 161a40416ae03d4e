"""The four people's screens in a real headless Chromium, against a real server on the demo community.

One story, each person's main path in turn: a resident pairs and presses; the grid worker's board and the
resident's status update live (server-sent events) when a vanguard accepts through the one-tap link; the grid
worker confirms on scene; the coordinator reads KPIs, coverage and the audit log. Every page passes axe-core with
no serious or critical violation. Screenshots land in tests/e2e/screenshots/ for a reviewer to look at.
"""

from __future__ import annotations

import csv
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dispatch.settings import REPO_ROOT
from tests.e2e.test_server import Server, demo_household, inbox

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def staff_login(role: str, grid: str | None = None) -> tuple[str, str]:
    with (REPO_ROOT / "data" / "demo" / "staff.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["role"] == role and (grid is None or r["grid_id"] == grid))
    return row["staff_id"], row["password"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'dispatch.sqlite'}",
        ESCALATION_WAIT_S="120",  # nobody escalates while the story plays
        DISPATCH_VAR_DIR=str(tmp / "var"),
        DISPATCH_DATA_DIR=str(REPO_ROOT / "data" / "demo"),
    )
    srv = Server(env, tmp / "server.log")
    srv.env["PUBLIC_BASE_URL"] = srv.url  # the SMS links point at this server
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    """Depends on the server so that it closes first: open event streams must not hold the server's shutdown."""
    if not Path(CHROMIUM).exists() or not AXE.exists():
        pytest.fail("browser tests need Debian's chromium and node_modules/axe-core: run scripts/setup --test")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()


def new_page(browser: Browser, server: Server, viewport: dict[str, int]) -> Page:
    # bypass_csp: only so the test can inject axe-core; the app's own pages run under their strict CSP.
    context = browser.new_context(base_url=server.url, viewport=viewport, locale="zh-CN", bypass_csp=True)
    context.set_default_timeout(10_000)
    return context.new_page()


def check_accessibility(page: Page, name: str) -> None:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ' ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"""
    )
    assert found == [], f"{name}: {found}"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_each_persons_main_path_with_live_updates(browser: Browser, server: Server) -> None:
    household, device_code = demo_household()

    # Resident: pair once, one press (kind skipped: medical), a live status, the emergency numbers always there.
    resident = new_page(browser, server, PHONE)
    resident.goto("/resident")
    check_accessibility(resident, "resident pairing")
    resident.get_by_label("设备码").fill(device_code)
    resident.get_by_role("button", name="绑定").click()
    expect(resident.locator("#press")).to_be_visible()
    shot(resident, "resident-1-button")
    check_accessibility(resident, "resident button")
    resident.locator("#press").click()
    status = resident.locator("#status-line")
    expect(status).to_contain_text("位先锋")
    expect(resident.locator("a[href='tel:120']").first).to_be_visible()
    incident_id = status.get_attribute("data-incident")
    assert incident_id
    shot(resident, "resident-2-alerted")
    check_accessibility(resident, "resident status")
    incident = httpx.get(
        f"{server.url}/api/v1/incidents/{incident_id}", headers={"Authorization": f"Bearer {device_code}"}
    ).json()

    # Grid worker: logs in and watches the grid's board before anyone accepts.
    worker_id, worker_pw = staff_login("grid_worker", incident["grid"])
    board = new_page(browser, server, DESKTOP)
    board.goto("/login")
    check_accessibility(board, "login")
    board.get_by_label("工号或手机号").fill(worker_id)
    board.get_by_label("密码").fill(worker_pw)
    board.get_by_role("button", name="工作人员登录").click()
    card = board.locator(f"article[data-incident='{incident_id}']")
    expect(card).to_be_visible()
    expect(card.locator(".accepted-by")).to_have_text("—")
    check_accessibility(board, "board")

    # Vanguard: opens the one-tap link from the SMS on the phone, accepts, gets the door and a route.
    sms = next(m for m in inbox(server) if "/r/" in m["body"] and "AED" not in m["body"])  # a responder's
    link = re.search(r"/r/[\w.\-]+", sms["body"])
    assert link
    vanguard = new_page(browser, server, PHONE)
    vanguard.goto(link.group(0))
    check_accessibility(vanguard, "vanguard alert")
    shot(vanguard, "vanguard-1-alert")
    accepted_at = time.monotonic()
    vanguard.get_by_role("button", name="接单", exact=True).click()
    expect(vanguard.locator(".door")).to_contain_text("室")
    expect(vanguard.locator("polyline.route")).to_have_count(1)
    shot(vanguard, "vanguard-2-accepted-route")
    check_accessibility(vanguard, "vanguard accepted")

    # Live: the resident's status and the board change without a reload.
    expect(status).to_contain_text("已接单", timeout=8_000)
    resident_s = time.monotonic() - accepted_at
    shot(resident, "resident-3-accepted")
    expect(card.locator(".accepted-by")).not_to_have_text("—", timeout=8_000)
    board_s = time.monotonic() - accepted_at
    (SHOTS / "live-update-seconds.txt").write_text(f"resident {resident_s:.2f}\nboard {board_s:.2f}\n")
    shot(board, "grid-worker-1-board-accepted")

    # The vanguard pauses alerts from the same page (availability toggle).
    vanguard.get_by_role("button", name="暂停接单").click()
    expect(vanguard.locator("#avail-h")).to_contain_text("暂停接单")
    vanguard.get_by_role("button", name="恢复接单").click()
    expect(vanguard.locator("#avail-h")).to_contain_text("可接单")

    # Grid worker confirms on scene; the resident sees it.
    board.locator(f"article[data-incident='{incident_id}'] button[value='on_scene']").click()
    expect(status).to_have_text("先锋已到场", timeout=8_000)
    resident.goto("/resident?lang=en")
    expect(resident.locator("#status-line")).to_have_text("A vanguard is on scene")
    shot(resident, "resident-4-on-scene-en")
    check_accessibility(resident, "resident status in English")
    board.goto("/staff?lang=en")
    shot(board, "grid-worker-2-board-en")
    check_accessibility(board, "board in English")
    board.goto(f"/staff/incidents/{incident_id}")
    shot(board, "grid-worker-3-incident")
    check_accessibility(board, "incident page")

    # Coordinator: KPIs, coverage and the audit log (which now holds the views above).
    coord_id, coord_pw = staff_login("coordinator")
    coord = new_page(browser, server, DESKTOP)
    coord.goto("/login")
    coord.get_by_label("工号或手机号").fill(coord_id)
    coord.get_by_label("密码").fill(coord_pw)
    coord.get_by_role("button", name="工作人员登录").click()
    coord.goto("/staff/kpi")
    expect(coord.locator("#n-incidents")).to_have_text("1")
    shot(coord, "coordinator-1-kpi")
    check_accessibility(coord, "kpi")
    coord.goto("/staff/coverage")
    expect(coord.locator("table.heat").first).to_be_visible()
    shot(coord, "coordinator-2-coverage")
    check_accessibility(coord, "coverage")
    coord.goto("/staff/audit")
    expect(coord.locator("#audit")).to_contain_text("view_door")
    expect(coord.locator("#audit")).to_contain_text("view_incident")
    check_accessibility(coord, "audit")
    with coord.expect_download() as download:
        coord.goto("/staff/kpi")
        coord.get_by_role("link", name="导出 CSV").click()
    assert incident_id in Path(download.value.path()).read_text(encoding="utf-8")

    # Demo phones: every SMS, with its link, and a reply box.
    phones = new_page(browser, server, DESKTOP)
    phones.goto("/demo/phones")
    phones.locator("li", has_text=sms["phone"]).get_by_role("link").click()
    expect(phones.locator(".msg").first).to_be_visible()
    shot(phones, "demo-phones")
    check_accessibility(phones, "demo phones")
    assert household
