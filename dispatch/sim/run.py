"""One simulation run: a fresh copy of the demo database, the real runtime on a fake clock, a scenario's changes.

A scenario changes only what a real deployment could change: who is available (the directory's availability
switch), the escalation policy's wave sizes (the policy file), and people's behaviour.
"""

from __future__ import annotations

import copy
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from starlette.testclient import TestClient

from dispatch.app import create_app
from dispatch.clock import LOCAL_TZ, FakeClock
from dispatch.escalation.policy import Policy
from dispatch.kpi.breakdown import Observed
from dispatch.runtime import build_runtime
from dispatch.settings import REPO_ROOT, Settings
from dispatch.sim.arrivals import Arrival, SfIncident, arrivals, population_scale
from dispatch.sim.behaviour import Behaviour, Trip
from dispatch.sim.engine import Counters, Simulation, vanguard_ids

DEMO_DIR = REPO_ROOT / "data" / "demo"
# A Monday, so the simulated weeks line up with the SF profile's hours of the week.
SIM_START = datetime(2026, 1, 5, 0, 0, tzinfo=LOCAL_TZ)


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    days: float
    behaviour: Behaviour = field(default_factory=Behaviour)
    available_share: float = 1.0  # share of vanguards left available (the others switched off)
    wave_sizes: tuple[int, ...] | None = None  # replaces the policy's vanguard wave sizes, in order


@dataclass
class RunResult:
    scenario: Scenario
    observed: list[Observed]
    counters: Counters
    wall_s: float
    incidents: int
    trips: list[Trip] = field(default_factory=list)  # the first vanguard on scene's way there, per incident

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


def with_wave_sizes(policy: Policy, sizes: tuple[int, ...]) -> Policy:
    raw = copy.deepcopy(policy.raw)
    waves = iter(sizes)
    for step in raw["steps"]:
        if step["action"] == "wave":
            step["size"] = next(waves, step["size"])
    return Policy(raw)


def run_scenario(
    scenario: Scenario,
    sf: list[SfIncident],
    template: Path,
    workdir: Path,
    seed: int,
    on_press: Callable[[], None] | None = None,
    data_dir: Path = DEMO_DIR,
) -> RunResult:
    db = workdir / f"{scenario.name}.sqlite"
    shutil.copyfile(template, db)
    rng = random.Random(seed)
    stream: list[Arrival] = list(arrivals(sf, SIM_START, scenario.days, rng, population_scale()))
    clock = FakeClock(SIM_START)
    runtime = build_runtime(settings_for(db, data_dir), clock=clock)
    if scenario.wave_sizes is not None:
        runtime.ctx.policy = with_wave_sizes(runtime.ctx.policy, scenario.wave_sizes)
    if scenario.available_share < 1.0:
        ids = sorted(vanguard_ids(runtime))
        off = random.Random(seed + 1).sample(ids, round(len(ids) * (1 - scenario.available_share)))
        for vanguard_id in off:
            runtime.ctx.directory.set_available(vanguard_id, False)
    began = time.perf_counter()
    with TestClient(create_app(runtime, start_background=False), base_url="https://dispatch.example.org") as client:
        sim = Simulation(runtime, client, clock, data_dir, scenario.behaviour, random.Random(seed + 2))
        sim.run(stream, on_press=on_press)
        observed = sim.observed()
    wall = time.perf_counter() - began
    trips = [t.trip for t in sim.truth.values() if t.trip is not None]
    return RunResult(scenario, observed, sim.counters, wall, len(stream), trips)
