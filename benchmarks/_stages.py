"""Where one press's time goes: the intake path profiled in-process on a durable SQLite file.

The server-level figures say how fast; this says why. It runs the same code the API route runs (one transaction:
report -> commit, then the response body) and then the worker's step 0 (matching and the first wave, its own
transaction) under cProfile, and reads the cumulative time of the stages.
"""

from __future__ import annotations

import cProfile
import csv
import pstats
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.sim.run import DEMO_DIR, settings_for
from dispatch.community.models import Household
from dispatch.incidents import service
from dispatch.runtime import build_runtime
from dispatch.web.views import incident_out

# (label, module path suffix, function name): the stages of one press.
STAGES = (
    ("intake: report", "dispatch/incidents/service.py", "report"),
    ("intake: response body (incident_out)", "dispatch/web/views.py", "incident_out"),
    ("worker: step 0 (take the due timer + fire)", "dispatch/escalation/runner.py", "run_due"),
    ("  matching: choose_vanguards", "dispatch/escalation/engine.py", "choose_vanguards"),
    ("  paging: page_recipients", "dispatch/escalation/engine.py", "page_recipients"),
    ("commits (all transactions)", "sqlalchemy/orm/session.py", "commit"),
)


def _household_ids(n: int) -> Iterator[str]:
    with (DEMO_DIR / "households.csv").open(newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= n:
                return
            yield row["household_id"]


def profile(workdir: Path, presses: int = 40) -> dict[str, Any]:
    runtime = build_runtime(settings_for(workdir / "stages.sqlite"))
    try:
        # Households spread over the community: presses from one stairwell would spend its medics' alert budget.
        ids = list(_household_ids(10**6))[::97][: presses + 5]

        def press(household_id: str) -> None:
            with runtime.sessions.begin() as session:
                household = session.get(Household, household_id)
                assert household is not None
                result = service.report(
                    session, runtime.ctx, household=household, kind="medical", gps=None, note=None, idempotency_key=None
                )
                incident_out(session, runtime.ctx, result.incident, with_timeline=True)
            runtime.worker.timers.run_due()  # what the woken worker does next: step 0

        for household_id in ids[:5]:  # warm caches (walking graph, rtree) before measuring
            press(household_id)
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        for household_id in ids[5:]:
            press(household_id)
        profiler.disable()
        per_press_ms = (time.perf_counter() - began) / presses * 1000
        began = time.perf_counter()
        messages = 0
        while sent := runtime.worker.deliver():
            messages += len(sent)
        deliver_ms = (time.perf_counter() - began) / max(messages, 1) * 1000
    finally:
        runtime.stop()
    stats: dict[tuple[str, int, str], Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    stages: dict[str, float | None] = {}
    for label, path, name in STAGES:
        total = sum(v[3] for (file, _, func), v in stats.items() if file.endswith(path) and func == name)
        stages[label] = round(total / presses * 1000, 2) if total else None
    return {
        "presses": presses,
        "per_press_ms_profiled": round(per_press_ms, 1),
        "stages_ms_per_press": stages,
        "simulated_delivery_ms_per_message": round(deliver_ms, 2),
        "note": "cProfile adds overhead; compare stages with each other, not with the server's latency",
    }
