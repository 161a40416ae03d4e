"""`dispatch bench response-times [--quick] [--days N]`: the coordinators' benchmark.

A discrete-event simulation (dispatch/sim/) plays incidents arriving with the timing of real San Francisco calls,
scaled to the community's 60,000 residents, against the real service on a fake clock, with vanguards behaving as
published programmes report. Every figure is computed from the timeline the service itself recorded
(dispatch/kpi/), next to the simulation's ground truth. Writes benchmarks/results/response_times.{json,md} and
PNG/SVG plots.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks import _rt_report
from dispatch.kpi.breakdown import breakdown, stage_medians, summary
from dispatch.sim.arrivals import hourly_rates, load_sf_incidents, population_scale
from dispatch.sim.behaviour import Behaviour
from dispatch.sim.run import RunResult, Scenario, prepare_template, run_scenario

RESULTS = Path(__file__).resolve().parent / "results"


def scenarios(days: float, sensitivity_days: float) -> list[Scenario]:
    base = Behaviour()
    return [
        Scenario("baseline", "published behaviour (acceptance 28.7%)", days, base),
        Scenario("half_available", "only half the vanguards available", sensitivity_days, base, available_share=0.5),
        Scenario("acceptance_15", "acceptance 15%", sensitivity_days, replace(base, acceptance=0.15)),
        Scenario(
            "no_show_47", "47% of accepters never arrive (myResponder)", sensitivity_days, replace(base, no_show=0.47)
        ),
        Scenario("wave_1_3", "waves of 1 then 3", sensitivity_days, base, wave_sizes=(1, 3)),
        Scenario("wave_6_10", "waves of 6 then 10", sensitivity_days, base, wave_sizes=(6, 10)),
    ]


def expected_incidents(days: float) -> int:
    rates = hourly_rates(load_sf_incidents(), population_scale())
    return round(sum(rates) / 7 * days)


def result_json(run: RunResult) -> dict[str, Any]:
    items = run.observed
    return {
        "label": run.scenario.label,
        "days": run.scenario.days,
        **summary(items),
        "stage_medians_s": stage_medians(items),
        "first_vanguard_trip_medians_s": {
            "prepare": _rt_report.median(t.prepare_s for t in run.trips),
            "street_walk": _rt_report.median(t.street_s for t in run.trips),
            "climb": _rt_report.median(t.climb_s for t in run.trips),
            "total": _rt_report.median(t.total_s for t in run.trips),
        },
        "accepter_distance_p50_m": _rt_report.median([o.accepter_distance_m for o in items]),
        "first_on_scene_by": _rt_report.counts(o.arrived_kind for o in items),
        "counters": asdict(run.counters),
        "wall_s": round(run.wall_s, 1),
        "cost_per_incident_ms": round(run.cost_per_incident_s * 1000, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dispatch bench response-times", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few days per scenario: under two minutes")
    parser.add_argument("--days", type=float, help="simulated days for the baseline (default 28; a year is 365)")
    parser.add_argument("--sensitivity-days", type=float, help="simulated days for each sensitivity run")
    parser.add_argument("--only-baseline", action="store_true", help="skip the sensitivity runs (e.g. for a year)")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the Markdown report from the last results, without running"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.report_only:
        saved = json.loads((args.out / "response_times.json").read_text(encoding="utf-8"))
        plots = sorted(p.name for p in args.out.glob("response_times_*.png"))
        (args.out / "response_times.md").write_text(_rt_report.markdown(saved, plots), encoding="utf-8")
        return 0
    days = args.days or (4.0 if args.quick else 28.0)
    sens_days = args.sensitivity_days or (1.5 if args.quick else 14.0)
    console = Console()
    sf = load_sf_incidents()
    plan = scenarios(days, sens_days)[:1] if args.only_baseline else scenarios(days, sens_days)
    runs: list[RunResult] = []
    load_before = os.getloadavg()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vd-sim-", dir=_fast_tmp()) as tmp:
        template = prepare_template(Path(tmp) / "template.sqlite")
        columns = (TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for scenario in plan:
                task = progress.add_task(scenario.name, total=expected_incidents(scenario.days))
                runs.append(
                    run_scenario(scenario, sf, template, Path(tmp), args.seed, on_press=partial(progress.advance, task))
                )
                progress.update(task, total=runs[-1].incidents, completed=runs[-1].incidents)
    total_s = time.perf_counter() - began
    baseline = runs[0]
    head = result_json(baseline)
    year_incidents = expected_incidents(365)
    results: dict[str, Any] = {
        "on_scene_p50_s": head["on_scene_p50_s"],
        "on_scene_p90_s": head["on_scene_p90_s"],
        "first_accept_p90_s": head["first_accept_p90_s"],
        "before_ambulance_share": head["before_ambulance_share"],
        "targets": _rt_report.TARGETS,
        "baseline": head,
        "by_grid": breakdown(baseline.observed, lambda o: o.grid),
        "by_kind": breakdown(baseline.observed, lambda o: o.kind),
        "by_hour": breakdown(baseline.observed, lambda o: o.hour),
        "scenarios": {r.scenario.name: result_json(r) for r in runs},
        "behaviour": asdict(Behaviour()),
        "cost": {
            "total_wall_s": round(total_s, 1),
            "cost_per_incident_ms": head["cost_per_incident_ms"],
            "incidents_per_year": year_incidents,
            "year_estimate_min": round(year_incidents * baseline.cost_per_incident_s / 60, 1),
        },
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "seed": args.seed,
        "quick": args.quick,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "response_times.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    plots = _rt_report.plots(runs, args.out)
    (args.out / "response_times.md").write_text(_rt_report.markdown(results, plots), encoding="utf-8")
    _rt_report.print_summary(console, results)
    console.print(f"wrote {args.out / 'response_times.json'} and response_times.md ({total_s:.0f} s)")
    return 0


def _fast_tmp() -> str | None:
    # The simulated database never needs to survive a power cut: keep it in memory-backed /dev/shm when present.
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None
