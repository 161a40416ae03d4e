"""The intake benchmark's human report (Markdown) and console summary."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

DATABASES = ("sqlite", "sqlite_sender", "postgis")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _processes(run: dict[str, Any]) -> str:
    sending = run.get("sending_processes") or 0
    return f"{run['app_processes']}" + (f" + {sending} sending" if sending else "")


def _errors(step: dict[str, Any]) -> str:
    """The count, and what they were: 503 is the server refusing a press it could not take in time."""
    kinds = step.get("error_kinds") or {}
    if not step["errors"] or not kinds:
        return str(step["errors"])
    return f"{step['errors']} ({', '.join(f'{kind}: {n}' for kind, n in sorted(kinds.items()))})"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _load(values: list[float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def markdown(results: dict[str, Any]) -> str:
    parts = [
        "# Intake and timer benchmark (real server, real database, fake provider on 127.0.0.1)",
        "",
        f"Open-loop load at rising rates ({', '.join(f'{r:g}' for r in results['rates'])}/s, "
        f"{results['step_s']:g} s each); every press from a different household. Two limits: *acknowledged* (the "
        "press durably committed and answered 201 within a second, at the offered rate; the load keeps rising until "
        "this fails) and *sustained* (the whole pipeline: the incident's first SMS reaching the provider, p99 under "
        "2 s). Latency: request sent -> first SMS at the provider. Load generator, fake provider, server(s) and "
        "database share the same 2 cores. Commits are durable on both databases (SQLite synchronous=FULL in WAL "
        "mode; PostgreSQL with fsync and full page writes on, synchronous_commit on). "
        "Target: 1,000/s sustained for 60 s, none lost, p99 <= 100 ms at 200/s."
        + (" Quick mode: 3-second steps, no 60 s sustained run." if results["quick"] else ""),
        "",
        f"Machine: {results['machine']['cpus']} CPUs, load average (1/5/15 min) "
        f"{_load(results['machine']['loadavg_before'])} before and {_load(results['machine']['loadavg_after'])} after "
        "the run: other work on the machine slows every figure here.",
        "",
        "| database | app processes | acknowledged /s | sustained /s | p50 | p99 | at offered /s | lost | "
        "pending timers | timer lateness p99 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for db in DATABASES:
        r = results.get(db)
        if r is None:
            continue
        t = r["timers"]
        parts.append(
            f"| {db} | {_processes(r)} | {_num(r.get('acknowledged_per_s'))} | "
            f"{_num(r['sustained_per_s'])} for {_num(r.get('sustained_for_s'))} s | "
            f"{_ms(r['p50_ms'])} | "
            f"{_ms(r['p99_ms'])} | {_num(r['latency_at_offered_per_s'])}"
            f"{' (saturated)' if r.get('latency_step_saturated') else ''} | {r['lost']} | {t.get('pending')} | "
            f"{_ms(t.get('lateness_p99_ms'))} |"
        )
    for db in DATABASES:
        r = results.get(db)
        if r is None:
            continue
        parts += [
            "",
            f"## {db}: steps",
            "",
            "| offered /s | requests | acknowledged | errors | achieved /s | response p50 | response p99 | "
            "first message p50 | first message p99 | no message |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        runs = list(r["steps"]) + list(r.get("sustained_runs") or [])
        for s in runs:
            parts.append(
                f"| {_num(s['offered_per_s'])} | {s['requests']} | {s['acknowledged']} | {_errors(s)} | "
                f"{_num(s['achieved_per_s'])} | {_ms(s['response_p50_ms'])} | {_ms(s['response_p99_ms'])} | "
                f"{_ms(s['first_message_p50_ms'])} | {_ms(s['first_message_p99_ms'])} | {s['no_message']} |"
            )
        parts += _cpu_table(runs, results["machine"]["cpus"])
        t = r["timers"]
        parts += [
            "",
            f"Timers: {t.get('pending')} pending, due over {_num(t.get('due_over_s'))} s; fired {t.get('fired')}, "
            f"unfired {t.get('unfired')}; lateness p50 {_ms(t.get('lateness_p50_ms'))}, p99 "
            f"{_ms(t.get('lateness_p99_ms'))}, max {_ms(t.get('lateness_max_ms'))}. Incidents in the database "
            f"{r['incidents_in_database']} for {r['acknowledged']} acknowledged presses (lost {r['lost']}); "
            f"acknowledged but no message at the provider 120 s after the load: {r['no_message_after_drain']}. "
            + (
                f"Deadlocks PostgreSQL detected during the load: {r['deadlocks']}. "
                if r.get("deadlocks") is not None
                else ""
            )
            + f"Server start-up {r['server_startup_s']} s.",
        ]
    stages = results.get("stages")
    if stages:
        parts += [
            "",
            "## Where one incident's time goes (in-process, cProfile, durable SQLite file)",
            "",
            f"{stages['per_press_ms_profiled']} ms per press under the profiler; simulated-network delivery "
            f"{stages['simulated_delivery_ms_per_message']} ms per message. {stages['note']}.",
            "",
            "| stage | ms per press |",
            "|---|---|",
            *[f"| {k} | {_num(v)} |" for k, v in stages["stages_ms_per_press"].items()],
        ]
    if results.get("floor"):
        parts += ["", *floor_section(results["floor"])]
    parts.append("")
    return "\n".join(parts)


def floor_section(floor: dict[str, Any]) -> list[str]:
    """What the twilio client alone costs per incident, and what the target rate would ask of the cores."""
    at_target = floor["client_cpu_ms_per_incident"]  # ms per incident x 1,000 incidents/s = cores busy
    verdict = (
        "more than the machine has, before any dispatch work"
        if at_target >= floor["cores"]
        else f"{at_target / floor['cores']:.0%} of the machine, before any dispatch work"
    )
    return [
        "## The fixed stack's own cost: the twilio client",
        "",
        f"One `messages.create` through the official client to the local fake provider costs "
        f"{floor['client_cpu_ms_per_message']} ms of CPU in the sending process ({floor['sends']} sends, no "
        f"profiler; {floor['wall_ms_per_message']} ms wall). A first wave is {floor['messages_per_incident']} "
        f"messages, {floor['client_cpu_ms_per_incident']} ms per incident: with nothing else running the client "
        f"alone would fill {floor['cores']} cores at {floor['incidents_per_s_if_only_the_client_ran']} incidents/s, "
        f"and at the target 1,000/s it would keep {at_target:.2f} cores busy, {verdict}.",
    ]


CPU_GROUPS = ("server", "database", "provider", "load_generator", "other")


def _cpu_table(runs: list[dict[str, Any]], cpus: int) -> list[str]:
    measured = [s for s in runs if s.get("cpu_ms_per_incident")]
    if not measured:
        return []
    lines = [
        "",
        "CPU milliseconds per acknowledged incident, from the step's start until its first messages arrived "
        "(psutil; *other* = busy time of processes not ours; *busiest* = the server's busiest single process). "
        f"*Ceiling* = what the app and database alone would sustain with all {cpus} cores to themselves: the lower of "
        f"{cpus} x 1000 / (server + database) and 1000 / busiest, since a Python process runs its code on one core "
        "at a time (the interpreter lock).",
        "",
        "| offered /s | cores busy | "
        + " | ".join(g.replace("_", " ") for g in CPU_GROUPS)
        + " | busiest process | ceiling /s |",
        "|---|---|" + "---|" * len(CPU_GROUPS) + "---|---|",
    ]
    for s in measured:
        c = s["cpu_ms_per_incident"]
        busiest = f"{c['server_busiest']:.1f}" if "server_busiest" in c else "-"
        lines.append(
            f"| {_num(s['offered_per_s'])} | {c['busy_share']:.0%} | "
            + " | ".join(f"{c.get(g, 0.0):.1f}" for g in CPU_GROUPS)
            + f" | {busiest} | {_ceiling(c, cpus)} |"
        )
    return lines


def ceiling_per_s(cpu_ms: dict[str, float], cores: int) -> float | None:
    """Incidents/s the app and database could sustain alone: bound by all cores, and by the busiest process's one."""
    app = cpu_ms.get("server", 0.0) + cpu_ms.get("database", 0.0)
    if app <= 0:
        return None
    bounds = [cores * 1000 / app]
    busiest = cpu_ms.get("server_busiest")
    if busiest:  # older results have no per-process figure
        bounds.append(1000 / busiest)
    return min(bounds)


def _ceiling(cpu_ms: dict[str, float], cores: int) -> str:
    value = ceiling_per_s(cpu_ms, cores)
    return "-" if value is None else f"{value:.0f}"


def print_summary(console: Console, results: dict[str, Any]) -> None:
    table = Table(title="intake (request -> first message at the provider)")
    for col in ("database", "acknowledged /s", "sustained /s", "p50", "p99", "at /s", "lost", "timer p99"):
        table.add_column(col)
    for db in DATABASES:
        r = results.get(db)
        if r is None:
            continue
        table.add_row(
            db,
            _num(r.get("acknowledged_per_s")),
            _num(r["sustained_per_s"]),
            _ms(r["p50_ms"]),
            _ms(r["p99_ms"]),
            _num(r["latency_at_offered_per_s"]),
            str(r["lost"]),
            _ms(r["timers"].get("lateness_p99_ms")),
        )
    console.print(table)
