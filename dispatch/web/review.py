"""The coordinator's screens: response-time KPIs from recorded events (p50/p90 per grid, kind and hour over a
period), plots, CSV export, the doctor coverage map, and the audit log. Coordinators only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.audit import service as audit
from dispatch.auth.sessions import REVIEW_ROLES
from dispatch.clock import LOCAL_TZ
from dispatch.community.models import Staff
from dispatch.incidents.models import Incident, IncidentEvent
from dispatch.kpi.latest import latest_response_times
from dispatch.kpi.times import IncidentTimes, group_by, incident_times, percentile, summarize
from dispatch.vanguards.models import Vanguard
from dispatch.web.auth_deps import StaffDep
from dispatch.web.coverage import Responder, Site, coverage
from dispatch.web.deps import RuntimeDep
from dispatch.web.i18n import lang_of, t
from dispatch.web.maps import cached_map, render_svg
from dispatch.web.plots import histogram, trend
from dispatch.web.render import SECURITY_HEADERS, render

router = APIRouter(prefix="/staff")
METRICS = ("first_alert_s", "first_accept_s", "on_scene_s", "closed_s")
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Row:
    incident: Incident
    times: IncidentTimes

    @property
    def local(self) -> datetime:
        return self.times.pressed_at.astimezone(LOCAL_TZ)


def period(now: datetime, start: str | None, end: str | None) -> tuple[date, date]:
    today = now.astimezone(LOCAL_TZ).date()
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "dates are YYYY-MM-DD") from exc
    if first > last or (last - first).days > 366:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the period runs forward, a year at most")
    return first, last


def load_rows(session: Session, first: date, last: date) -> list[Row]:
    begin = datetime.combine(first, time(0), LOCAL_TZ)
    finish = datetime.combine(last + timedelta(days=1), time(0), LOCAL_TZ)
    incidents = {
        i.id: i
        for i in session.scalars(select(Incident).where(Incident.reported_at >= begin, Incident.reported_at < finish))
    }
    events: dict[str, list[IncidentEvent]] = {}
    ids = list(incidents)
    for start in range(0, len(ids), 500):
        for e in session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id.in_(ids[start : start + 500]))):
            events.setdefault(e.incident_id, []).append(e)
    rows = []
    for incident_id, incident in incidents.items():
        times = incident_times(incident_id, events.get(incident_id, []))
        if times is not None:
            rows.append(Row(incident, times))
    return sorted(rows, key=lambda r: r.times.pressed_at)


def table(rows: Sequence[Row], key: Callable[[Row], Any]) -> list[dict[str, Any]]:
    by_id = {r.incident.id: r for r in rows}
    groups = group_by([r.times for r in rows], lambda t_: key(by_id[t_.incident_id]))
    out = []
    for k in sorted(groups, key=lambda v: (v is None, str(v).zfill(3))):
        items = groups[k]
        out.append({"key": k, "n": len(items), **{m: summarize(getattr(i, m) for i in items) for m in METRICS}})
    return out


@router.get("/kpi", response_class=HTMLResponse)
def kpi(
    request: Request, runtime: RuntimeDep, viewer: StaffDep, start: str | None = None, end: str | None = None
) -> Response:
    viewer.require(REVIEW_ROLES)
    lang = lang_of(request)
    first, last = period(runtime.ctx.clock.now(), start, end)
    with runtime.readers() as session:
        rows = load_rows(session, first, last)
    accepts = [r.times.first_accept_s for r in rows if r.times.first_accept_s is not None]
    days = [(first + timedelta(days=d)) for d in range((last - first).days + 1)]
    per_day: dict[date, list[float]] = {}
    for r in rows:
        if r.times.first_accept_s is not None:
            per_day.setdefault(r.local.date(), []).append(r.times.first_accept_s)
    p50 = [percentile(per_day.get(d, []), 50) for d in days]
    p90 = [percentile(per_day.get(d, []), 90) for d in days]
    return render(
        request,
        "kpi.html",
        {
            "viewer": viewer,
            "start": first.isoformat(),
            "end": last.isoformat(),
            "n": len(rows),
            "metrics": METRICS,
            "tables": [
                ("by_grid", table(rows, lambda r: r.incident.grid_id or "—")),
                ("by_kind", table(rows, lambda r: t(lang, f"kind_{r.incident.kind}"))),
                ("by_hour", table(rows, lambda r: f"{r.local.hour:02d}:00")),
            ],
            "hist": histogram(accepts, title=t(lang, "distribution")),
            "trend": trend([d.isoformat() for d in days], p50, p90, title=t(lang, "trend")),
            # The simulated benchmark, next to the live figures, so that targets and reality are read together.
            "bench": latest_response_times(),
        },
    )


@router.get("/kpi.csv")
def kpi_csv(runtime: RuntimeDep, viewer: StaffDep, start: str | None = None, end: str | None = None) -> Response:
    viewer.require(REVIEW_ROLES)
    now = runtime.ctx.clock.now()
    first, last = period(now, start, end)
    with runtime.readers() as session:
        rows = load_rows(session, first, last)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # No names, phones or doors: an export leaves the system, so it carries only what the KPIs need.
    writer.writerow(["incident_id", "code", "kind", "grid", "status", "reported_local", "hour_local", *METRICS])
    for r in rows:
        values = ["" if getattr(r.times, m) is None else f"{getattr(r.times, m):.1f}" for m in METRICS]
        writer.writerow([r.incident.id, r.incident.code, r.incident.kind, r.incident.grid_id or "", r.incident.status,
                         r.local.strftime("%Y-%m-%d %H:%M:%S"), r.local.hour, *values])  # fmt: skip
    with runtime.sessions.begin() as session:
        audit.record(session, now, viewer.actor, "export_csv", f"period:{first}..{last}", {"rows": len(rows)})
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="response-times-{first}-{last}.csv"'}
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def coverage_shares(session: Session, runtime: RuntimeDep) -> dict[str, list[float]]:
    projector = runtime.ctx.directory.projector
    doctors = []
    for v in session.scalars(select(Vanguard).where(Vanguard.skills.contains("doctor"))):
        if "doctor" not in v.skills.split(";"):
            continue
        p = to_shape(v.geom)
        x, y = projector.to_metric(float(p.x), float(p.y))
        doctors.append(Responder(x, y, v.on_call, v.available))
    sites = [Site(b.grid_id, b.x, b.y) for b in runtime.ctx.directory.buildings.values() if b.grid_id]
    return dict(coverage(sites, doctors))


def _band(share: float) -> str:
    return "c0" if share < 0.25 else "c1" if share < 0.6 else "c2" if share < 0.9 else "c3"


@router.get("/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, runtime: RuntimeDep, viewer: StaffDep, hour: int | None = None) -> Response:
    viewer.require(REVIEW_ROLES)
    lang = lang_of(request)
    local = runtime.ctx.clock.now().astimezone(LOCAL_TZ)
    hour_of_week = hour if hour is not None and 0 <= hour < 168 else local.weekday() * 24 + local.hour
    with runtime.readers() as session:
        shares = coverage_shares(session, runtime)
        data = cached_map(request.app.state, session, runtime.ctx.directory, runtime.settings.data_dir)
    svg = render_svg(
        data,
        title=t(lang, "coverage"),
        lang=lang,
        grid_class={g: f"cov{_band(s[hour_of_week])[1]}" for g, s in shares.items()},
    )
    grids = [
        {"id": g, "rows": [[(s[d * 24 + h], _band(s[d * 24 + h])) for h in range(24)] for d in range(7)]}
        for g, s in shares.items()
    ]
    return render(
        request,
        "coverage.html",
        {"viewer": viewer, "grids": grids, "map_svg": svg, "hour": hour_of_week, "days": DAYS[lang]},
    )


DAYS = {
    "zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, runtime: RuntimeDep, viewer: StaffDep) -> Response:
    viewer.require(REVIEW_ROLES)
    with runtime.readers() as session:
        entries = audit.recent(session, limit=300)
        staff_ids = {e.actor.split(":", 1)[1] for e in entries if e.actor.startswith("staff:")}
        names = dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).all())
    return render(request, "audit.html", {"viewer": viewer, "entries": entries, "names": names})
