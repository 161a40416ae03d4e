"""Who spent the machine's CPU during a benchmark step: the server, the database, the fake provider, the load
generator, and everything else on the machine.

Latency says a step saturated; this says on what. CPU seconds are read with psutil per process (a group is a
process and all its descendants, found afresh at every reading so that new uvicorn workers or database backends
count), and for the whole machine from its busy time. "Other" is the machine's busy time no group accounts for:
work that was not ours, which makes the step's figures worse than they would be on a quiet machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil


def _busy_s() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def tree(root_pid: int | None) -> list[psutil.Process]:
    """The process and its descendants (none when it is gone)."""
    if root_pid is None:
        return []
    try:
        root = psutil.Process(root_pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_s(processes: Iterable[psutil.Process]) -> dict[tuple[int, float], float]:
    # Keyed by (pid, start time): a reused pid is another process.
    out: dict[tuple[int, float], float] = {}
    for p in processes:
        try:
            with p.oneshot():
                t = p.cpu_times()
                out[(p.pid, p.create_time())] = t.user + t.system
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return out


@dataclass(frozen=True)
class Reading:
    at: float
    machine_busy_s: float
    groups: dict[str, dict[tuple[int, float], float]]


class CpuMeter:
    """`groups`: name -> a function listing that group's processes now. `busiest_of`: a group whose busiest single
    process is also reported (as `<group>_busiest`): a Python process runs its code on one core at a time (the
    interpreter lock), so that process, not the group, may be what saturates."""

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]], busiest_of: str | None = None) -> None:
        self.groups = groups
        self.busiest_of = busiest_of

    def read(self) -> Reading:
        return Reading(
            time.monotonic(), _busy_s(), {name: _cpu_s(list_now()) for name, list_now in self.groups.items()}
        )

    def since(self, before: Reading) -> dict[str, float]:
        """CPU seconds per group since `before`, plus `other`, `machine_busy` and `wall` (seconds) and `cores`.

        A process that started since counts whole; one that ended in between is missed (its last seconds)."""
        now = self.read()
        used: dict[str, float] = {}
        busiest = 0.0
        for name, current in now.groups.items():
            earlier = before.groups.get(name, {})
            each = [max(0.0, cpu - earlier.get(key, 0.0)) for key, cpu in current.items()]
            used[name] = sum(each)
            if name == self.busiest_of:
                busiest = max(each, default=0.0)
        busy = max(0.0, now.machine_busy_s - before.machine_busy_s)
        used["other"] = max(0.0, busy - sum(used.values()))
        if self.busiest_of is not None:
            used[f"{self.busiest_of}_busiest"] = busiest
        used["machine_busy"] = busy
        used["wall"] = now.at - before.at
        used["cores"] = float(psutil.cpu_count() or 1)
        return used


def per_incident_ms(used: dict[str, float], incidents: int) -> dict[str, float]:
    """CPU milliseconds per acknowledged incident for each group, and the machine's busy share over the span."""
    out = {k: round(v / incidents * 1000, 2) for k, v in used.items() if k not in ("wall", "cores", "machine_busy")}
    out["busy_share"] = round(used["machine_busy"] / max(used["wall"] * used["cores"], 1e-9), 3)
    return out
