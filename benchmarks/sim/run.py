"""One simulation run: a fresh copy of the demo database, the real runtime on a fake clock, a scenario's changes, and
the reference policies on the same calls.

A scenario changes only what a real deployment could change: who is on call (the directory's availability switch),
the escalation policy's wave sizes (the policy file), and people's behaviour.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from starlette.testclient import TestClient

from benchmarks.sim import service
from benchmarks.sim.behaviour import Behaviour, Trip, acceptance_factor
from benchmarks.sim.breakdown import Observed
from benchmarks.sim.calls import Call
from benchmarks.sim.direct import BOUND, BROADCAST, Setting, evaluate
from benchmarks.sim.engine import Counters, Simulation
from benchmarks.sim.outcome import Outcome
from benchmarks.sim.ways import Ways
from dispatch.app import create_app
from dispatch.clock import LOCAL_TZ, FakeClock
from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import REPO_ROOT, Settings

DEMO_DIR = REPO_ROOT / "data" / "demo"
# A Monday, so the simulated weeks line up with the SF profile's hours of the week.
SIM_START = datetime(2026, 1, 5, 0, 0, tzinfo=LOCAL_TZ)
REFERENCES = (BOUND, BROADCAST)


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    behaviour: Behaviour = field(default_factory=Behaviour)
    available_share: float = 1.0  # share of vanguards left on call (the others switched off, a seeded choice)
    wave_sizes: tuple[int, ...] | None = None  # replaces the policy's vanguard wave sizes, in order


@dataclass
class RunResult:
    scenario: Scenario
    days: float
    observed: list[Observed]
    counters: Counters
    wall_s: float
    incidents: int
    trips: list[Trip] = field(default_factory=list)  # the first vanguard on scene's way there, per incident
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)  # production, bound, broadcast

    @property
    def cost_per_incident_s(self) -> float:
        return self.wall_s / self.incidents if self.incidents else 0.0


def settings_for(db_path: Path, data_dir: Path = DEMO_DIR) -> Settings:
    return Settings(
        database_url=f"sqlite:///{db_path}",
        public_base_url="https://dispatch.example.org",
        secret_key="simulation",
        data_dir=data_dir,
        twilio=None,
        escalation_wait_s=None,
    )


def prepare_template(path: Path, data_dir: Path = DEMO_DIR) -> Path:
    """Migrate once and load the community once; each run copies the file (loading takes seconds)."""
    if not path.exists():
        build_runtime(settings_for(path, data_dir), clock=FakeClock(SIM_START)).stop()
    return path


def off_call(ids: list[str], share_on: float, seed: int) -> list[str]:
    """The seeded set switched off for a run with only `share_on` of the vanguards on call."""
    return random.Random(seed + 1).sample(sorted(ids), round(len(ids) * (1 - share_on))) if share_on < 1 else []


def references(runtime: Runtime, calls: list[Call], setting: Setting, ways: Ways) -> dict[str, list[Outcome]]:
    ids = service.vanguard_ids(runtime)
    out: dict[str, list[Outcome]] = {r.name: [] for r in REFERENCES}
    for call in calls:
        people = service.pageable_at(runtime, ids, call.at)
        skills = service.qualifying_skills(runtime, call.kind)
        door = service.door(runtime, call.household.building_id)
        for ref in REFERENCES:
            out[ref.name].append(evaluate(setting, ref, call.index, people, skills, door, call.floor, ways))
    return out


def run_scenario(
    scenario: Scenario,
    calls: list[Call],
    template: Path,
    workdir: Path,
    seed: int,
    on_press: Callable[[], None] | None = None,
    data_dir: Path = DEMO_DIR,
    days: float = 0.0,
) -> RunResult:
    db = workdir / f"{scenario.name}.sqlite"
    shutil.copyfile(template, db)
    clock = FakeClock(min([SIM_START, *(c.at for c in calls[:1])]))
    runtime = build_runtime(settings_for(db, data_dir), clock=clock)
    if scenario.wave_sizes is not None:
        runtime.ctx.policy = service.with_wave_sizes(runtime.ctx.policy, scenario.wave_sizes)
    service.switch_off(runtime, off_call(service.vanguard_ids(runtime), scenario.available_share, seed))
    began = time.perf_counter()
    with TestClient(create_app(runtime, start_background=False), base_url="https://dispatch.example.org") as client:
        sim = Simulation(runtime, client, clock, data_dir, scenario.behaviour, random.Random(seed + 2), seed=seed)
        sim.run(calls, on_press=on_press)
        observed = sim.observed()
    wall = time.perf_counter() - began
    production = sim.outcomes()
    # The references on exactly the incidents the service opened (a press merged into an open one is not one).
    opened = {o.index for o in production}
    rates = [p.accept_rate for p in (service.person(runtime, v) for v in service.vanguard_ids(runtime)) if p]
    setting = Setting(scenario.behaviour, seed, acceptance_factor(rates, scenario.behaviour.acceptance))
    refs = references(runtime, [c for c in calls if c.index in opened], setting, sim.ways)
    runtime.stop()
    outcomes = {"production": production, **refs}
    return RunResult(scenario, days, observed, sim.counters, wall, len(calls), sim.first_trips(), outcomes)
