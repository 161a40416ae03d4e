"""The response-time benchmark's human report: Markdown with plots, and a console summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import _rt_policies
from benchmarks._published import ACCEPTANCE_RANGE, PUBLISHED
from benchmarks.sim.breakdown import AMBULANCE_S
from benchmarks.sim.run import RunResult
from dispatch.kpi.times import percentile

# The targets for the demo community with the published behaviour: (key, comparison, bound).
TARGETS: dict[str, dict[str, Any]] = {
    "first_accept_p90_s": {"max": 60},
    "on_scene_p50_s": {"max": 120},
    "on_scene_p90_s": {"max": 240},
    "before_ambulance_share": {"min": 0.95},
}


def median(values: Iterable[float | None]) -> float | None:
    return percentile([v for v in values if v is not None], 50)


def counts(values: Iterable[str | None]) -> dict[str, int]:
    return dict(Counter(v or "nobody" for v in values))


def met(key: str, value: float | None) -> bool:
    bound = TARGETS[key]
    if value is None:
        return False
    return bool(value <= bound["max"] if "max" in bound else value >= bound["min"])


def _s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s ({int(value // 60)}:{int(value % 60):02d})"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def plots(runs: list[RunResult], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[str] = []
    base = runs[0].observed
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, values in (
        ("first accept (recorded)", [o.times.first_accept_s for o in base]),
        ("on scene (recorded)", [o.times.on_scene_s for o in base]),
        ("on scene (ground truth)", [o.true_on_scene_s for o in base]),
        ("SF first unit on scene", [o.ems_s for o in base]),
    ):
        xs = sorted(v / 60 for v in values if v is not None)
        if xs:
            ax.step(xs, [(i + 1) / len(base) for i in range(len(xs))], where="post", label=label)
    ax.axvline(AMBULANCE_S / 60, color="grey", linestyle="--", label="12-min ambulance")
    ax.set_xlim(0, 25)
    ax.set_xlabel("minutes from the press")
    ax.set_ylabel("share of incidents")
    ax.set_title(f"Baseline: {len(base)} simulated incidents")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    for ext in ("png", "svg"):
        fig.savefig(out / f"response_times_cdf.{ext}", dpi=110, bbox_inches="tight")
        written.append(f"response_times_cdf.{ext}")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    hours = list(range(24))
    for p, style in ((50, "-o"), (90, "--o")):
        ys = []
        for h in hours:
            hour_values: list[float] = []
            for o in base:
                if o.hour == h and o.times.on_scene_s is not None:
                    hour_values.append(o.times.on_scene_s)
            v = percentile(hour_values, p)
            ys.append(v / 60 if v is not None else float("nan"))
        ax.plot(hours, ys, style, label=f"on scene p{p}")
    ax.axhline(AMBULANCE_S / 60, color="grey", linestyle="--")
    ax.set_xlabel("hour of the press (Asia/Shanghai)")
    ax.set_ylabel("minutes")
    ax.set_xticks(hours[::2])
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(out / "response_times_by_hour.png", dpi=110, bbox_inches="tight")
    written.append("response_times_by_hour.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    names = [r.scenario.name for r in runs]
    p50 = [(median(o.times.on_scene_s for o in r.observed) or 0) / 60 for r in runs]
    p90 = [(percentile([o.times.on_scene_s for o in r.observed if o.times.on_scene_s], 90) or 0) / 60 for r in runs]
    xs = list(range(len(runs)))
    ax.bar([x - 0.2 for x in xs], p50, width=0.4, label="on scene p50")
    ax.bar([x + 0.2 for x in xs], p90, width=0.4, label="on scene p90")
    ax.axhline(AMBULANCE_S / 60, color="grey", linestyle="--", label="12-min ambulance")
    ax.set_xticks(xs, names, rotation=15)
    ax.set_ylabel("minutes")
    ax.legend()
    fig.savefig(out / "response_times_sensitivity.png", dpi=110, bbox_inches="tight")
    written.append("response_times_sensitivity.png")
    plt.close(fig)
    return written


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _why(results: dict[str, Any]) -> str:
    """Which stage costs the time, in numbers from this run (the targets are for the on-scene times)."""
    b = results["baseline"]
    trip = b["first_vanguard_trip_medians_s"]
    beh = results["behaviour"]
    prepare, climb = trip.get("prepare") or 0.0, trip.get("climb") or 0.0
    reach = max(0.0, (120 - prepare - climb) * beh["speed_median_m_s"])
    confirm = (b["on_scene_p50_s"] or 0.0) - (b["true_on_scene_p50_s"] or 0.0)
    return (
        "**Which stage costs the time.** Intake, locating and the first alert take no simulated time (the real "
        "per-press cost is in `intake.md`). First accept is the alert reaching the phone and being read "
        f"(SMS ~{beh['sms_latency_median_s']:g} s, reading ~{beh['reaction_median_s']:g} s, both ASSUMED) and, when "
        "the first wave says nothing, 30-second escalation waits. On scene is dominated by the accepter's own way: "
        f"median {_s(trip.get('total'))} door to door, {trip.get('street_m') or 0:.0f} m along the streets (the "
        f"first accepter's median straight line: {b['accepter_distance_p50_m'] or 0:.0f} m); recording it (a text "
        f"'3' or the grid worker) adds about {_s(confirm)} at the median; the p90 tail is accepters who never "
        "arrive (a grid worker notices, ASSUMED median 15 min) and staff travelling from further away. An on-scene "
        f"median of 120 s would need the first accepter within about {reach:.0f} m of street (after getting ready "
        "and climbing at the medians above): with 801 vanguards over 2.3 km2 and about 30% of them answering, the "
        "design cannot reach it by paging alone."
    )


def markdown(results: dict[str, Any], plots_written: list[str]) -> str:
    b = results["baseline"]
    cost = results["cost"]
    parts = [
        "# Response times (simulated, the real dispatch code on a fake clock)",
        "",
        f"Baseline: {b['incidents']} incidents over {b['days']:g} simulated days in the demo community "
        f"(SF call timing scaled to 60,000 residents, seed {results['seed']}"
        f"{', quick mode' if results['quick'] else ''}). "
        "Recorded = computed by dispatch.kpi from the service's own timeline; ground truth = when the simulated "
        f"person really reached the door. Calls: {results.get('calls', 'the SF profile')}.",
        "",
        *_rt_policies.markdown(results),
        "## Earlier targets (recorded on-scene of anyone, staff included)",
        "",
        _table(
            [
                [
                    key,
                    f"{'<=' if 'max' in bound else '>='} {bound.get('max', bound.get('min'))}",
                    _pct(results[key]) if key.endswith("share") else _s(results[key]),
                    "met" if met(key, results[key]) else "**missed**",
                ]
                for key, bound in TARGETS.items()
            ],
            ["figure", "target", "baseline", ""],
        ),
        "",
        "## Where the time goes (baseline, medians of each stage)",
        "",
        _table([[k, _s(v)] for k, v in b["stage_medians_s"].items()], ["stage", "median"]),
        "",
        "The first vanguard on scene's own way (medians, ground truth): "
        + ", ".join(f"{k} {_s(v)}" for k, v in b["first_vanguard_trip_medians_s"].items())
        + ". Not in these stages: SMS delivery to the handset (assumed median "
        f"{results['behaviour']['sms_latency_median_s']:g} s each way) and reading the alert (median "
        f"{results['behaviour']['reaction_median_s']:g} s), which sit inside 'first alert to first accept'.",
        "",
        f"Median straight-line distance from the first accepter to the door: "
        f"{b['accepter_distance_p50_m'] or 0:.0f} m. First person on scene: {b['first_on_scene_by']}. "
        f"On scene recorded p50 {_s(b['on_scene_p50_s'])} vs ground truth {_s(b['true_on_scene_p50_s'])}: the "
        "difference is the confirmation (a text '3' or the grid worker).",
        "",
        _why(results),
        "",
        "## Sensitivity",
        "",
        _table(
            [
                [
                    name,
                    s["label"],
                    str(s["incidents"]),
                    _s(s["first_accept_p90_s"]),
                    _s(s["on_scene_p50_s"]),
                    _s(s["on_scene_p90_s"]),
                    _pct(s["before_ambulance_share"]),
                    _pct(s["before_sf_first_unit_share"]),
                ]
                for name, s in results["scenarios"].items()
            ],
            [
                "run",
                "what changes",
                "incidents",
                "first accept p90",
                "on scene p50",
                "on scene p90",
                "before 12-min ambulance",
                "before SF first unit",
            ],
        ),
        "",
        "Errors the real service raised while the simulation drove it (counted, the run went on): "
        + (
            "; ".join(
                f"{name}: {msg} x{n}"
                for name, s in results["scenarios"].items()
                for msg, n in s["counters"]["service_errors"].items()
            )
            or "none"
        ),
        "",
        "## Side by side with published programmes",
        "",
        _table(
            [[p.programme, p.figure, p.value, p.source] for p in PUBLISHED], ["programme", "figure", "value", "source"]
        ),
        "",
        f"This community (baseline, simulated): mean on scene {_s(b.get('on_scene_mean_s'))}, median "
        f"{_s(b['on_scene_p50_s'])}; someone on scene before a 12-minute ambulance in "
        f"{_pct(b['before_ambulance_share'])}, before the real SF first unit of the borrowed call in "
        f"{_pct(b['before_sf_first_unit_share'])} and before its ambulance in {_pct(b['before_sf_ambulance_share'])}. "
        f"Acceptance assumed: {ACCEPTANCE_RANGE}. Published programmes alert within 0.5-1.8 km for cardiac arrests "
        "only; this community pages the nearest few with the right skill for every kind of call.",
        "",
        "## Per grid, kind and hour (baseline)",
        "",
    ]
    for title, key in (("grid", "by_grid"), ("kind", "by_kind"), ("hour", "by_hour")):
        parts += [
            _table(
                [
                    [
                        name,
                        str(g["count"]),
                        _s(g["first_accept_p50_s"]),
                        _s(g["first_accept_p90_s"]),
                        _s(g["on_scene_p50_s"]),
                        _s(g["on_scene_p90_s"]),
                        _pct(g["before_ambulance_share"]),
                    ]
                    for name, g in sorted(results[key].items(), key=lambda kv: _group_order(kv[0]))
                ],
                [title, "n", "accept p50", "accept p90", "on scene p50", "on scene p90", "before 12 min"],
            ),
            "",
        ]
    parts += [
        "## Plots",
        "",
        *[f"![{name}]({name})" for name in plots_written if name.endswith(".png")],
        "",
        "## Cost of the simulation",
        "",
        f"{cost['cost_per_incident_ms']} ms of wall time per simulated incident with the real code (SQLite in "
        f"/dev/shm); a year is about {cost['incidents_per_year']} incidents, so about "
        f"{cost['year_estimate_min']} minutes for the baseline alone (`--days 365`). This run took "
        f"{cost['total_wall_s']} s, with the machine's load average (1/5/15 min) at "
        f"{'/'.join(f'{v:.1f}' for v in results['machine']['loadavg_before'])} before and "
        f"{'/'.join(f'{v:.1f}' for v in results['machine']['loadavg_after'])} after, on "
        f"{results['machine']['cpus']} CPUs: the wall time depends on what else runs.",
        "",
        "## Assumptions",
        "",
        "Walking follows the community's street graph (geo.walking, as the directory builds it from "
        "streets.geojson) at each person's drawn speed, plus the floors climbed (stairs, or a lift and its wait).",
        "",
        "Behaviour parameters (see benchmarks/sim/behaviour.py for which are published and which are assumed):",
        "",
        "```",
        *[f"{k} = {v}" for k, v in results["behaviour"].items()],
        "```",
        "",
    ]
    return "\n".join(parts)


def print_summary(console: Console, results: dict[str, Any]) -> None:
    table = Table(title="response times (baseline, recorded events)")
    for col in ("figure", "target", "value", ""):
        table.add_column(col)
    for key, bound in TARGETS.items():
        value = results[key]
        shown = _pct(value) if key.endswith("share") else _s(value)
        target = f"{'<=' if 'max' in bound else '>='} {bound.get('max', bound.get('min'))}"
        table.add_row(key, target, shown, "met" if met(key, value) else "missed")
    console.print(table)
    _rt_policies.print_summary(console, results)
    s = Table(title="sensitivity")
    for col in ("run", "n", "accept p90", "on scene p50", "on scene p90", "before 12 min"):
        s.add_column(col)
    for name, r in results["scenarios"].items():
        s.add_row(
            name,
            str(r["incidents"]),
            _s(r["first_accept_p90_s"]),
            _s(r["on_scene_p50_s"]),
            _s(r["on_scene_p90_s"]),
            _pct(r["before_ambulance_share"]),
        )
    console.print(s)


def _group_order(name: str) -> tuple[int, float, str]:
    """Hours as numbers (2 before 10), everything else by name."""
    try:
        return (0, float(name), "")
    except ValueError:
        return (1, 0.0, name)
