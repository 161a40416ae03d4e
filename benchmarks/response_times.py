"""`dispatch-bench response-times [--quick] [--days N] [--calls FILE]`: the coordinators' benchmark.

A discrete-event simulation (benchmarks/sim/) plays a call stream against the real service on a fake clock, with
vanguards behaving as published programmes report, walking the community's street graph. The same calls, seeds and
behaviour are also played under two reference policies evaluated from the behaviour model: `bound` (every qualified
on-call vanguard paged at the press) and `broadcast` (every one within 1.3 km), once with everyone on call and once
with half of them off call. Writes benchmarks/results/response_times.{json,md} and PNG/SVG plots.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from dataclasses import asdict, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks import _rt_policies, _rt_report
from benchmarks.sim.arrivals import SF_CALLS, arrivals, hourly_rates, load_sf_incidents, population_scale
from benchmarks.sim.behaviour import Behaviour
from benchmarks.sim.breakdown import breakdown, stage_medians, summary
from benchmarks.sim.calls import Call, Doors, calls_from_arrivals, load_calls, read_building_points, read_households
from benchmarks.sim.outcome import figures
from benchmarks.sim.run import DEMO_DIR, SIM_START, RunResult, Scenario, prepare_template, run_scenario

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE = Scenario("baseline", "published behaviour (acceptance 28.7%), everyone on call")
HALF_OFF = Scenario("half_off_call", "half the vanguards off call (a seeded half)", available_share=0.5)


def sensitivity() -> list[Scenario]:
    base = Behaviour()
    return [
        Scenario("acceptance_15", "acceptance 15%", replace(base, acceptance=0.15)),
        Scenario("no_show_47", "47% of accepters never arrive (myResponder)", replace(base, no_show=0.47)),
        Scenario("wave_1_3", "waves of 1 then 3", base, wave_sizes=(1, 3)),
        Scenario("wave_6_10", "waves of 6 then 10", base, wave_sizes=(6, 10)),
    ]


def expected_incidents(days: float) -> int:
    rates = hourly_rates(load_sf_incidents(), population_scale())
    return round(sum(rates) / 7 * days)


def build_calls(path: Path | None, days: float, seed: int, data_dir: Path = DEMO_DIR) -> list[Call]:
    """The replayed CSV, or the committed SF stream's profile scaled to the community over `days`."""
    doors = Doors(read_households(data_dir), read_building_points(data_dir))
    if path is not None:
        return load_calls(path, doors, random.Random(seed + 3), SIM_START)
    stream = arrivals(load_sf_incidents(), SIM_START, days, random.Random(seed), population_scale())
    return calls_from_arrivals(stream, doors, random.Random(seed + 3))


def first_days(calls: list[Call], days: float) -> list[Call]:
    if not calls:
        return []
    end = calls[0].at + timedelta(days=days)
    return [c for c in calls if c.at < end]


def result_json(run: RunResult) -> dict[str, Any]:
    items = run.observed
    return {
        "label": run.scenario.label,
        "days": run.days,
        **summary(items),
        "policies": {
            name: figures(outcomes, recorded_by_service=name == "production") for name, outcomes in run.outcomes.items()
        },
        "stage_medians_s": stage_medians(items),
        "first_vanguard_trip_medians_s": {
            "prepare": _rt_report.median(t.prepare_s for t in run.trips),
            "street_walk": _rt_report.median(t.street_s for t in run.trips),
            "street_m": _rt_report.median(t.street_m for t in run.trips),
            "climb": _rt_report.median(t.climb_s for t in run.trips),
            "total": _rt_report.median(t.total_s for t in run.trips),
        },
        "accepter_distance_p50_m": _rt_report.median([o.accepter_distance_m for o in items]),
        "first_on_scene_by": _rt_report.counts(o.arrived_kind for o in items),
        "counters": asdict(run.counters),
        "wall_s": round(run.wall_s, 1),
        "cost_per_incident_ms": round(run.cost_per_incident_s * 1000, 1),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dispatch-bench response-times", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few days, no sensitivity runs: under two minutes")
    parser.add_argument("--days", type=float, help="simulated days of the SF profile (default 28; a year is 365)")
    parser.add_argument(
        "--calls", type=Path, help="replay this CSV call stream instead (columns: benchmarks/README.md)"
    )
    parser.add_argument("--sensitivity-days", type=float, help="simulated days for each sensitivity run")
    parser.add_argument("--only-baseline", action="store_true", help="skip the sensitivity runs (e.g. for a year)")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the Markdown report from the last results, without running"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.report_only:
        saved = json.loads((args.out / "response_times.json").read_text(encoding="utf-8"))
        plots = sorted(p.name for p in args.out.glob("response_times_*.png"))
        (args.out / "response_times.md").write_text(_rt_report.markdown(saved, plots), encoding="utf-8")
        return 0
    days = args.days or (4.0 if args.quick else 28.0)
    sens_days = args.sensitivity_days or 14.0
    calls = build_calls(args.calls, days, args.seed)
    if args.calls is not None and calls:
        days = max(1.0, (calls[-1].at - calls[0].at).total_seconds() / 86400)
    plan = [(BASELINE, calls), (HALF_OFF, calls)]
    if not (args.quick or args.only_baseline):
        plan += [(s, first_days(calls, sens_days)) for s in sensitivity()]
    console = Console()
    runs: list[RunResult] = []
    load_before = os.getloadavg()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vd-sim-", dir=_fast_tmp()) as tmp:
        template = prepare_template(Path(tmp) / "template.sqlite")
        columns = (TextColumn("{task.description:<16}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            for scenario, stream in plan:
                task = progress.add_task(scenario.name, total=len(stream))
                run_days = days if stream is calls else sens_days
                on_press = partial(progress.advance, task)
                runs.append(run_scenario(scenario, stream, template, Path(tmp), args.seed, on_press, days=run_days))
    total_s = time.perf_counter() - began
    results = assemble(runs, args, total_s, load_before)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "response_times.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    plots = _rt_report.plots(runs, args.out) + _rt_policies.plots(runs[0], runs[1], args.out)
    (args.out / "response_times.md").write_text(_rt_report.markdown(results, plots), encoding="utf-8")
    _rt_report.print_summary(console, results)
    console.print(f"wrote {args.out / 'response_times.json'} and response_times.md ({total_s:.0f} s)")
    return 0


def assemble(runs: list[RunResult], args: argparse.Namespace, total_s: float, load_before: Any) -> dict[str, Any]:
    baseline, half = runs[0], runs[1]
    head = result_json(baseline)
    half_json = result_json(half)
    year_incidents = expected_incidents(365)
    policies, half_policies = head["policies"], half_json["policies"]
    return {
        "on_scene_p50_s": head["on_scene_p50_s"],
        "on_scene_p90_s": head["on_scene_p90_s"],
        "first_accept_p90_s": head["first_accept_p90_s"],
        "before_ambulance_share": head["before_ambulance_share"],
        "targets": _rt_report.TARGETS,
        "policies": policies,
        "half_off_call": half_policies,
        "ratios": _rt_policies.ratios(policies, half_policies),
        "policy_targets": _rt_policies.targets(policies, half_policies, head, _rt_policies.intake_latency(args.out)),
        "calls": str(args.calls) if args.calls else f"{SF_CALLS.name} (hour-of-week profile scaled to the community)",
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


def _fast_tmp() -> str | None:
    # The simulated database never needs to survive a power cut: keep it in memory-backed /dev/shm when present.
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None
