"""The event loop: presses, replies, walks and confirmations played against the real service on a fake clock.

Presses and confirmations go through the HTTP API (a starlette TestClient on the real app), replies through the
service's SMS reply handling (what the Twilio webhook calls), alerts through the real outbox, escalation through
the real durable timer rows. The loop only decides what simulated people do and when; every timestamp the KPIs read
is written by the service itself. A vanguard's behaviour for an incident comes from the common random numbers
(`behaviour.draw`), so the bound and broadcast (`direct.py`) see the same person do the same.
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

from benchmarks.sim import behaviour as bh
from benchmarks.sim import service
from benchmarks.sim.breakdown import Observed
from benchmarks.sim.calls import Call
from benchmarks.sim.outcome import Arrival, Outcome
from benchmarks.sim.ways import Ways
from dispatch.clock import LOCAL_TZ, FakeClock
from dispatch.escalation.models import EscalationTimer
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.incidents.states import TransitionError
from dispatch.kpi.times import incident_times
from dispatch.runtime import Runtime
from notify.sender import Delivery

Action = Callable[..., None]


@dataclass
class Truth:
    """What really happened to one incident, known only to the simulation (the service sees its own events)."""

    call: Call
    qualifying: frozenset[str]
    grid_id: str | None = None
    code: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    alerts: int = 0
    vanguard_alerts: int = 0
    trips: dict[str, bh.Trip] = field(default_factory=dict)  # by phone

    @property
    def first(self) -> Arrival | None:
        return self.arrivals[0] if self.arrivals else None


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
        seed: int = 0,
    ) -> None:
        self.rt = runtime
        self.client = client
        self.clock = clock
        self.b = behaviour
        self.rng = rng  # staff, grid workers and message latencies after the alert: not shared with the bound
        self.seed = seed  # the common random numbers' run seed
        self.grid_tokens, self.duty_token = read_staff_tokens(data_dir)
        people = [service.person(runtime, v) for v in service.vanguard_ids(runtime)]
        self.accept_factor = bh.acceptance_factor([p.accept_rate for p in people if p], behaviour.acceptance)
        self.ways = Ways(service.walking_graph(runtime))
        self.truth: dict[str, Truth] = {}
        self.counters = Counters()
        self._heap: list[tuple[datetime, int, Action, tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._stood_down: dict[tuple[str, str], datetime] = {}

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

    def run(self, calls: list[Call], on_press: Callable[[], None] | None = None, tail_s: float = 7200) -> None:
        for call in calls:
            self.at(call.at, self._press, call, on_press)
        end = (calls[-1].at if calls else self.clock.now()) + timedelta(seconds=tail_s)
        while True:
            timer = self._next_timer()
            event_at = self._heap[0][0] if self._heap else None
            if timer is not None and (event_at is None or timer <= event_at):
                if timer > end:
                    break
                self.clock.set(max(timer, self.clock.now()))
                self.counters.timer_firings += self.rt.worker.timers.run_due()
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

    def draws(self, truth: Truth, vanguard_id: str) -> bh.Draws:
        return bh.draw(self.seed, truth.call.index, vanguard_id, self.b)

    def _press(self, call: Call, on_press: Callable[[], None] | None) -> None:
        self.counters.presses += 1
        r = self.client.post(
            "/api/v1/incidents",
            json={"kind": call.kind},
            headers={"Authorization": f"Bearer {call.household.token}", "Idempotency-Key": f"sim-{call.index}"},
        )
        if on_press is not None:
            on_press()
        if r.status_code == 200:  # merged into the household's open incident
            self.counters.merged += 1
            return
        r.raise_for_status()
        body = r.json()
        qualifying = service.qualifying_skills(self.rt, call.kind)
        self.truth[body["id"]] = Truth(call, qualifying, grid_id=body.get("grid"), code=body["code"])

    def _delivered(self, delivery: Delivery) -> None:
        if delivery.sent is None or delivery.page_id is None or delivery.incident_id is None:
            return
        truth = self.truth.get(delivery.incident_id)
        if truth is None:
            return
        with self.rt.readers() as session:
            page = session.get(Page, delivery.page_id)
            if page is None:
                return
            phone, kind, person, role = page.phone, page.person_kind, page.person_id, page.role
        incident_id = delivery.incident_id
        if delivery.purpose == "alert":
            self.counters.alerts += 1
            truth.alerts += 1
            truth.vanguard_alerts += kind == "vanguard"
            self._answer_alert(truth, incident_id, phone, kind, person)
        elif delivery.purpose == "stand_down":
            self._stood_down[(incident_id, phone)] = self.clock.now() + timedelta(seconds=self._sms())
        elif delivery.purpose == "details":
            self._set_off(truth, incident_id, phone, kind, person, role)

    def _sms(self) -> float:
        return bh.sms_latency(self.rng, self.b)

    def _answer_alert(self, truth: Truth, incident_id: str, phone: str, kind: str, person: str) -> None:
        if kind == "vanguard":
            who = service.person(self.rt, person)
            d = self.draws(truth, person)
            decision = d.answer(min(0.95, (who.accept_rate if who else 0.0) * self.accept_factor))
            delay = d.alert_sms_s + d.reaction_s
        else:
            decision = bh.Answer.ACCEPT if self.rng.random() < self.b.staff_acceptance else bh.Answer.IGNORE
            delay = self._sms() + bh.reaction(self.rng, self.b)
        if decision is bh.Answer.IGNORE:
            self.counters.ignored += 1
            return
        body = f"{'1' if decision is bh.Answer.ACCEPT else '2'} {truth.code}"
        self.later(delay, self._reply, incident_id, phone, body)

    def _reply(self, incident_id: str, phone: str, body: str) -> None:
        told = self._stood_down.get((incident_id, phone))
        if told is not None and told <= self.clock.now():
            return  # they read the stand-down before answering
        if body.startswith("1"):
            self.counters.accepts_sent += 1
        elif body.startswith("2"):
            self.counters.declines_sent += 1
        try:
            service.reply(self.rt, phone, body)
        except TransitionError as exc:
            # A bug in the service, not in the simulation: counted and reported, and the run goes on.
            errors = self.counters.service_errors
            errors[str(exc)] = errors.get(str(exc), 0) + 1

    def _set_off(self, truth: Truth, incident_id: str, phone: str, kind: str, person: str, role: str) -> None:
        if any(a.phone == phone for a in truth.arrivals):
            return  # already there (details sent again)
        if kind == "vanguard":
            d = self.draws(truth, person)
            if d.no_show:
                self.counters.no_shows += 1
                noticed = bh.lognormal(self.rng, self.b.no_show_noticed_median_s, self.b.no_show_noticed_median_s * 2)
                self.later(noticed, self._grid_worker_goes, incident_id)
                return
            journey = self._vanguard_trip(truth, person, d)
            truth.trips[phone] = journey
            travel = d.details_sms_s + journey.total_s
        else:
            base = self.b.staff_travel_s.get(role, 480.0)
            travel = self._sms() + bh.lognormal(self.rng, base, base * 1.6)
        self.later(travel, self._arrive, incident_id, phone, kind, person)

    def _vanguard_trip(self, truth: Truth, person: str, d: bh.Draws) -> bh.Trip:
        who = service.person(self.rt, person)
        door = service.door(self.rt, truth.call.household.building_id)
        if who is None:
            raise LookupError(f"the service paged {person}, whom its directory does not know")
        metres = self.ways.one((door.x, door.y), who.x, who.y)
        return bh.trip(self.b, d, metres, truth.call.floor, door.has_lift)

    def _qualified(self, truth: Truth, kind: str, person: str) -> bool:
        who = service.person(self.rt, person) if kind == "vanguard" else None
        return who is not None and bool(who.skills & truth.qualifying)

    def _arrive(self, incident_id: str, phone: str, kind: str, person: str) -> None:
        truth = self.truth[incident_id]
        at_s = (self.clock.now() - truth.call.at).total_seconds()
        truth.arrivals.append(Arrival(incident_id, phone, kind, person, at_s, self._qualified(truth, kind, person)))
        if kind == "vanguard":
            d = self.draws(truth, person)
            texts, text_s = d.texts_on_scene, d.on_scene_text_s
        else:
            texts = self.rng.random() < self.b.texts_on_scene
            text_s = bh.lognormal(self.rng, self.b.on_scene_text_median_s, self.b.on_scene_text_median_s * 3)
        if texts:
            self.later(text_s, self._reply, incident_id, phone, f"3 {truth.code}")
        else:
            confirm = bh.lognormal(self.rng, self.b.confirm_median_s, self.b.confirm_p90_s)
            self.later(confirm, self._confirm, incident_id)
        if len(truth.arrivals) == 1:
            resolve = bh.lognormal(self.rng, self.b.resolve_median_s, self.b.resolve_median_s * 2)
            self.later(resolve, self._resolve, incident_id)

    def _grid_worker_goes(self, incident_id: str) -> None:
        if self.truth[incident_id].arrivals:
            return  # someone else (a re-opened search) got there meanwhile
        base = self.b.staff_travel_s["grid_worker"]
        self.later(bh.lognormal(self.rng, base, base * 1.6), self._grid_worker_arrives, incident_id)

    def _grid_worker_arrives(self, incident_id: str) -> None:
        truth = self.truth[incident_id]
        if truth.arrivals:
            return
        at_s = (self.clock.now() - truth.call.at).total_seconds()
        truth.arrivals.append(Arrival(incident_id, "", "grid_worker", "", at_s, False))
        self._confirm(incident_id)
        resolve = bh.lognormal(self.rng, self.b.resolve_median_s, self.b.resolve_median_s * 2)
        self.later(resolve, self._resolve, incident_id)

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

    def outcomes(self) -> list[Outcome]:
        """Per incident, the policy comparison's figures: who really reached the door when, alerts sent, and when
        the service's timeline first recorded a qualified responder on scene: an on-scene event by a qualified
        vanguard (their text "3"), or by staff once one was at the door (the grid worker confirming them)."""
        recorded: dict[str, float] = {}
        with self.rt.readers() as session:
            on_scene = IncidentEvent.type.startswith("on_scene")
            for e in session.scalars(
                select(IncidentEvent).where(on_scene).order_by(IncidentEvent.at, IncidentEvent.id)
            ):
                truth = self.truth.get(e.incident_id)
                if truth is None or e.incident_id in recorded:
                    continue
                at_s = (e.at - truth.call.at).total_seconds()
                there = min((a.at_s for a in truth.arrivals if a.qualified), default=None)
                by_staff = (e.actor or "").startswith("staff:") and there is not None and there <= at_s
                if by_staff or self._qualified(truth, "vanguard", e.actor or ""):
                    recorded[e.incident_id] = at_s
        return [
            Outcome.of(t.call.index, t.arrivals, t.alerts, t.vanguard_alerts, recorded.get(incident_id))
            for incident_id, t in sorted(self.truth.items(), key=lambda kv: kv[1].call.index)
        ]

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
            first = truth.first
            out.append(
                Observed(
                    times=times,
                    grid=incident.grid_id,
                    kind=incident.kind,
                    hour=times.pressed_at.astimezone(LOCAL_TZ).hour,
                    true_on_scene_s=first.at_s if first else None,
                    arrived_kind=first.kind if first else None,
                    ems_s=truth.call.ems_s,
                    ambulance_s=truth.call.ambulance_s,
                    accepter_distance_m=distance.get(incident_id),
                )
            )
        return out

    def first_trips(self) -> list[bh.Trip]:
        """The first vanguard on scene's way there, per incident that had one."""
        trips = []
        for truth in self.truth.values():
            first = next((a for a in truth.arrivals if a.kind == "vanguard"), None)
            if first is not None and first.phone in truth.trips:
                trips.append(truth.trips[first.phone])
        return trips
