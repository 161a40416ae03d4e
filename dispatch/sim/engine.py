"""The event loop: presses, replies, walks and confirmations played against the real service on a fake clock.

Presses and confirmations go through the HTTP API (a starlette TestClient on the real app), replies through the
simulated phone network's reply path (the same handling as a Twilio SMS webhook), alerts through the real outbox,
escalation through the real durable timer rows. The loop only decides what simulated people do and when; every
timestamp the KPIs read is written by the service itself.
"""

from __future__ import annotations

import csv
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from dispatch.clock import LOCAL_TZ, FakeClock
from dispatch.escalation.models import EscalationTimer
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.incidents.states import TransitionError
from dispatch.kpi.breakdown import Observed
from dispatch.kpi.times import incident_times
from dispatch.runtime import Runtime
from dispatch.sim import behaviour as bh
from dispatch.sim.arrivals import Arrival
from dispatch.web.pages import simulated_reply
from notify.sender import Delivery

Action = Callable[..., None]


@dataclass(frozen=True)
class Household:
    id: str
    token: str
    residents: int


@dataclass
class Truth:
    """What really happened to one incident, known only to the simulation (the service sees its own events)."""

    arrival: Arrival
    grid_id: str | None = None
    code: str = ""
    first_arrival_at: datetime | None = None
    arrived_kind: str | None = None  # vanguard | staff | grid_worker
    winners: list[str] = field(default_factory=list)
    trip: bh.Trip | None = None  # the first vanguard on scene's way there


@dataclass
class Counters:
    presses: int = 0
    merged: int = 0
    alerts: int = 0
    accepts_sent: int = 0
    declines_sent: int = 0
    ignored: int = 0
    no_shows: int = 0
    timer_firings: int = 0
    http_conflicts: int = 0
    service_errors: dict[str, int] = field(default_factory=dict)  # exceptions the real code raised, by message


def read_households(data_dir: Path) -> list[Household]:
    with (data_dir / "households.csv").open(newline="", encoding="utf-8") as f:
        return [Household(r["household_id"], r["device_token"], int(r["residents"])) for r in csv.DictReader(f)]


def read_staff_tokens(data_dir: Path) -> tuple[dict[str, str], str]:
    """A grid worker's token per grid (who confirms there), and a duty officer's (sees every grid)."""
    by_grid: dict[str, str] = {}
    duty = ""
    with (data_dir / "staff.csv").open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["role"] == "grid_worker" and r["grid_id"]:
                by_grid.setdefault(r["grid_id"], r["api_token"])
            elif r["role"] == "duty_officer" and not duty:
                duty = r["api_token"]
    return by_grid, duty


class Simulation:
    def __init__(
        self,
        runtime: Runtime,
        client: TestClient,
        clock: FakeClock,
        data_dir: Path,
        behaviour: bh.Behaviour,
        rng: random.Random,
    ) -> None:
        self.rt = runtime
        self.client = client
        self.clock = clock
        self.b = behaviour
        self.rng = rng
        self.households = read_households(data_dir)
        self._weights = list(itertools.accumulate(h.residents for h in self.households))
        self.grid_tokens, self.duty_token = read_staff_tokens(data_dir)
        directory = runtime.ctx.directory
        rates = [c.accept_rate for c in (directory.vanguard(v) for v in vanguard_ids(runtime)) if c is not None]
        self.accept_factor = bh.acceptance_factor(rates, behaviour.acceptance)
        self.truth: dict[str, Truth] = {}
        self.counters = Counters()
        self._heap: list[tuple[datetime, int, Action, tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._stood_down: dict[tuple[str, str], datetime] = {}
        self._trips: dict[tuple[str, str], bh.Trip] = {}

    # -- the loop -------------------------------------------------------------------------------------------

    def at(self, when: datetime, action: Action, *args: Any) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), action, args))

    def later(self, seconds: float, action: Action, *args: Any) -> None:
        self.at(self.clock.now() + timedelta(seconds=seconds), action, *args)

    def _next_timer(self) -> datetime | None:
        with self.rt.readers() as session:
            due: datetime | None = session.scalar(
                select(func.min(EscalationTimer.due_at)).where(EscalationTimer.status == "pending")
            )
        return due

    def run(self, arrivals: list[Arrival], on_press: Callable[[], None] | None = None, tail_s: float = 7200) -> None:
        for arrival in arrivals:
            self.at(arrival.at, self._press, arrival, on_press)
        end = (arrivals[-1].at if arrivals else self.clock.now()) + timedelta(seconds=tail_s)
        while True:
            timer = self._next_timer()
            event_at = self._heap[0][0] if self._heap else None
            if timer is not None and (event_at is None or timer <= event_at):
                if timer > end:
                    break
                self.clock.set(max(timer, self.clock.now()))
                fired = self.rt.worker.timers.run_due()
                self.counters.timer_firings += fired
            elif event_at is not None:
                if event_at > end:
                    break
                when, _, action, args = heapq.heappop(self._heap)
                self.clock.set(max(when, self.clock.now()))
                action(*args)
            else:
                break
            self._deliver()

    def _deliver(self) -> None:
        while sent := self.rt.worker.deliver():
            for delivery in sent:
                self._delivered(delivery)

    # -- what people do -------------------------------------------------------------------------------------

    def _pick_household(self) -> Household:
        return self.rng.choices(self.households, cum_weights=self._weights, k=1)[0]

    def _press(self, arrival: Arrival, on_press: Callable[[], None] | None) -> None:
        household = self._pick_household()
        self.counters.presses += 1
        r = self.client.post(
            "/api/v1/incidents",
            json={"kind": arrival.source.kind},
            headers={"Authorization": f"Bearer {household.token}", "Idempotency-Key": f"sim-{self.counters.presses}"},
        )
        if on_press is not None:
            on_press()
        if r.status_code == 200:  # merged into the household's open incident
            self.counters.merged += 1
            return
        r.raise_for_status()
        body = r.json()
        self.truth[body["id"]] = Truth(arrival, grid_id=body.get("grid"), code=body["code"])

    def _delivered(self, delivery: Delivery) -> None:
        if delivery.sent is None or delivery.page_id is None or delivery.incident_id is None:
            return
        with self.rt.readers() as session:
            page = session.get(Page, delivery.page_id)
            if page is None:
                return
            phone, kind, person, role = page.phone, page.person_kind, page.person_id, page.role
        incident_id = delivery.incident_id
        truth = self.truth.get(incident_id)
        if truth is None:
            return
        received = bh.sms_latency(self.rng, self.b)
        if delivery.purpose == "alert":
            self.counters.alerts += 1
            self._answer_alert(truth, incident_id, phone, kind, person, received)
        elif delivery.purpose == "stand_down":
            self._stood_down[(incident_id, phone)] = self.clock.now() + timedelta(seconds=received)
        elif delivery.purpose == "details":
            truth.winners.append(person)
            self._set_off(truth, incident_id, phone, kind, person, role, received)

    def _answer_alert(
        self, truth: Truth, incident_id: str, phone: str, kind: str, person: str, received: float
    ) -> None:
        if kind == "vanguard":
            candidate = self.rt.ctx.directory.vanguard(person)
            p = min(0.95, (candidate.accept_rate if candidate else 0.0) * self.accept_factor)
            decision = bh.answer(self.rng, p, self.b)
        else:
            decision = bh.Answer.ACCEPT if self.rng.random() < self.b.staff_acceptance else bh.Answer.IGNORE
        if decision is bh.Answer.IGNORE:
            self.counters.ignored += 1
            return
        body = f"{'1' if decision is bh.Answer.ACCEPT else '2'} {truth.code}"
        self.later(received + bh.reaction(self.rng, self.b), self._reply, incident_id, phone, body)

    def _reply(self, incident_id: str, phone: str, body: str) -> None:
        told = self._stood_down.get((incident_id, phone))
        if told is not None and told <= self.clock.now():
            return  # they read the stand-down before answering
        if body.startswith("1"):
            self.counters.accepts_sent += 1
        elif body.startswith("2"):
            self.counters.declines_sent += 1
        try:
            simulated_reply(self.rt, phone, body)
        except TransitionError as exc:
            # A bug in the service, not in the simulation: counted and reported, and the run goes on.
            errors = self.counters.service_errors
            errors[str(exc)] = errors.get(str(exc), 0) + 1

    def _set_off(
        self, truth: Truth, incident_id: str, phone: str, kind: str, person: str, role: str, received: float
    ) -> None:
        if kind == "vanguard":
            if self.rng.random() < self.b.no_show:
                self.counters.no_shows += 1
                noticed = bh.lognormal(self.rng, self.b.no_show_noticed_median_s, self.b.no_show_noticed_median_s * 2)
                self.later(noticed, self._grid_worker_goes, incident_id)
                return
            journey = self._vanguard_trip(incident_id, person)
            self._trips[(incident_id, phone)] = journey
            travel = journey.total_s
        else:
            base = self.b.staff_travel_s.get(role, 480.0)
            travel = bh.lognormal(self.rng, base, base * 1.6)
        self.later(received + travel, self._arrive, incident_id, phone, kind)

    def _vanguard_trip(self, incident_id: str, person: str) -> bh.Trip:
        directory = self.rt.ctx.directory
        candidate = directory.vanguard(person)
        with self.rt.readers() as session:
            incident = session.get(Incident, incident_id)
            building = directory.buildings.get(incident.building_id or "") if incident else None
            floor = 1
            if incident is not None and incident.household_id:
                from dispatch.community.models import Household as HouseholdRow

                row = session.get(HouseholdRow, incident.household_id)
                floor = row.floor if row else 1
        if candidate is None or building is None:
            return bh.Trip(0.0, bh.lognormal(self.rng, 300.0, 600.0), 0.0)
        straight = ((candidate.x - building.x) ** 2 + (candidate.y - building.y) ** 2) ** 0.5
        return bh.trip(self.rng, self.b, straight, floor, building.has_lift)

    def _arrive(self, incident_id: str, phone: str, kind: str) -> None:
        truth = self.truth[incident_id]
        if truth.first_arrival_at is None:
            truth.first_arrival_at, truth.arrived_kind = self.clock.now(), kind
            truth.trip = self._trips.get((incident_id, phone))
        if self.rng.random() < self.b.texts_on_scene:
            delay = bh.lognormal(self.rng, self.b.on_scene_text_median_s, self.b.on_scene_text_median_s * 3)
            self.later(delay, self._reply, incident_id, phone, f"3 {truth.code}")
        else:
            self.later(
                bh.lognormal(self.rng, self.b.confirm_median_s, self.b.confirm_p90_s), self._confirm, incident_id
            )
        self.later(
            bh.lognormal(self.rng, self.b.resolve_median_s, self.b.resolve_median_s * 2), self._resolve, incident_id
        )

    def _grid_worker_goes(self, incident_id: str) -> None:
        truth = self.truth[incident_id]
        if truth.first_arrival_at is not None:
            return  # someone else (a re-opened search) got there meanwhile
        base = self.b.staff_travel_s["grid_worker"]
        self.later(bh.lognormal(self.rng, base, base * 1.6), self._grid_worker_arrives, incident_id)

    def _grid_worker_arrives(self, incident_id: str) -> None:
        truth = self.truth[incident_id]
        if truth.first_arrival_at is None:
            truth.first_arrival_at, truth.arrived_kind = self.clock.now(), "grid_worker"
            self._confirm(incident_id)
            self.later(
                bh.lognormal(self.rng, self.b.resolve_median_s, self.b.resolve_median_s * 2), self._resolve, incident_id
            )

    def _staff_post(self, incident_id: str, status: str) -> None:
        truth = self.truth[incident_id]
        token = self.grid_tokens.get(truth.grid_id or "", self.duty_token)
        r = self.client.post(
            f"/api/v1/incidents/{incident_id}/confirm",
            json={"status": status},
            headers={"Authorization": f"Bearer {token}"},
        )
        if r.status_code == 409:  # already on scene by text, or already closed
            self.counters.http_conflicts += 1
            return
        r.raise_for_status()

    def _confirm(self, incident_id: str) -> None:
        self._staff_post(incident_id, "on_scene")

    def _resolve(self, incident_id: str) -> None:
        self._staff_post(incident_id, "resolved")

    # -- what the service recorded ----------------------------------------------------------------------------

    def observed(self) -> list[Observed]:
        """Per incident: the service's own timeline (the KPI code's view), plus the simulation's ground truth."""
        events: dict[str, list[IncidentEvent]] = {}
        with self.rt.readers() as session:
            incidents = {i.id: i for i in session.scalars(select(Incident))}
            for e in session.scalars(select(IncidentEvent).order_by(IncidentEvent.id)):
                events.setdefault(e.incident_id, []).append(e)
            accepted = select(Page.incident_id, Page.distance_m).where(Page.status == "accepted")
            distance = {row.incident_id: row.distance_m for row in session.execute(accepted)}
        out: list[Observed] = []
        for incident_id, truth in self.truth.items():
            incident = incidents.get(incident_id)
            times = incident_times(incident_id, events.get(incident_id, []))
            if incident is None or times is None:
                continue
            true_s = (truth.first_arrival_at - times.pressed_at).total_seconds() if truth.first_arrival_at else None
            out.append(
                Observed(
                    times=times,
                    grid=incident.grid_id,
                    kind=incident.kind,
                    hour=times.pressed_at.astimezone(LOCAL_TZ).hour,
                    true_on_scene_s=true_s,
                    arrived_kind=truth.arrived_kind,
                    ems_s=truth.arrival.source.first_on_scene_s,
                    ambulance_s=truth.arrival.source.ambulance_on_scene_s,
                    accepter_distance_m=distance.get(incident_id),
                )
            )
        return out


def vanguard_ids(runtime: Runtime) -> list[str]:
    from dispatch.vanguards.models import Vanguard

    with runtime.readers() as session:
        return list(session.scalars(select(Vanguard.id)))
