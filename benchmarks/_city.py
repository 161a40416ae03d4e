"""The city-scale benchmark's parts: a synthetic city, three ways to hold its vanguards in memory, and the
measurement of one (memory growth and query latency) in a fresh process.

Layouts:
- "ours": what `dispatch.directory.Directory` keeps for matching: a `Candidate` per vanguard (id -> record), the
  home positions, and a `geo.index.SkillIndex` (one rtree per skill) bulk-loaded with `SkillIndex.from_arrays`;
- "shared": the same records and homes, but a single rtree over everyone (a skill filter on the way out);
- "numpy": no Python object per vanguard: numpy columns (x, y, skill bits, schedule, acceptance, phone, name) and a
  brute-force scan per query; a `Candidate` is built only for the rows a query looks at.
Every layout answers `candidates_near(target, skills)` (nearest first, holders of any of the skills), and the same
pure `dispatch.matching.select_best` ranks them: straight-line ETA (no walking graph at city scale).

Run as `python -m benchmarks._city LAYOUT N SEED QUERIES SUSTAIN_S`: prints one JSON object on stdout.
"""

from __future__ import annotations

import csv
import gc
import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from rtree import index as rtree_index

from dispatch.escalation.policy import Plan, load_policy
from dispatch.matching import Candidate, Target, select_best
from dispatch.vanguards.acceptance import acceptance_probability
from geo.index import SkillIndex, _props

REPO = Path(__file__).resolve().parent.parent
DEMO_ROSTER = REPO / "data" / "demo" / "vanguards.csv"

SIDE_M = 30_000.0  # a 30 km x 30 km city of 10M people (900 km2, ~11,000 people per km2 on average)
POPULATION = 10_000_000
INCIDENTS_PER_DAY = 100_000
PEAK_FACTOR = 10.0  # ASSUMED: the busiest minutes see 10x the day's average rate
PEAK_NEED_PER_S = INCIDENTS_PER_DAY / 86_400 * PEAK_FACTOR
CLUSTERS = 30  # ASSUMED: town centres; sizes lognormal, radii 0.6-3 km; 20% of people spread evenly
BACKGROUND_SHARE = 0.2
# ASSUMED mix of incident kinds (distress needs counsellors: a tiny pool, left out of the mix).
KIND_MIX = {"medical": 0.55, "fall": 0.15, "fire": 0.10, "utility": 0.10, "security": 0.10}
WAVE = 5  # 5 nearest-by-ETA on-call holders of the needed skills
AVAILABLE_SHARE = 0.9  # ASSUMED: people who switched themselves off
LAYOUTS = ("records", "ours", "shared", "numpy")


@dataclass(frozen=True)
class City:
    """Vanguards as columns, as they would come out of a database query (before the directory holds them)."""

    xs: NDArray[np.float64]
    ys: NDArray[np.float64]
    roster_row: NDArray[np.int32]  # which demo vanguard this one copies skills, on-call window and acceptance from
    available: NDArray[np.bool_]
    roster: tuple[tuple[str, str, float], ...]  # (skills text, on-call window, accept rate) per demo vanguard

    def __len__(self) -> int:
        return len(self.xs)


def read_roster(path: Path = DEMO_ROSTER) -> tuple[tuple[str, str, float], ...]:
    with path.open(encoding="utf-8") as f:
        return tuple((r["skills"], r["on_call"], float(r["accept_rate"])) for r in csv.DictReader(f))


def density_points(count: int, rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """People over the city: a few dense town centres (Gaussian blobs) over an even background."""
    layout = np.random.default_rng(2026)  # the same city shape for every N and seed
    centres = layout.uniform(0.1 * SIDE_M, 0.9 * SIDE_M, size=(CLUSTERS, 2))
    weights = layout.lognormal(0.0, 0.8, CLUSTERS)
    weights /= weights.sum()
    radii = layout.uniform(600.0, 3000.0, CLUSTERS)
    clustered = rng.random(count) >= BACKGROUND_SHARE
    which = rng.choice(CLUSTERS, size=count, p=weights)
    xs = np.where(clustered, centres[which, 0] + rng.normal(0, 1, count) * radii[which], rng.uniform(0, SIDE_M, count))
    ys = np.where(clustered, centres[which, 1] + rng.normal(0, 1, count) * radii[which], rng.uniform(0, SIDE_M, count))
    return np.clip(xs, 0.0, SIDE_M), np.clip(ys, 0.0, SIDE_M)


def make_city(n: int, seed: int) -> City:
    rng = np.random.default_rng(seed)
    roster = read_roster()
    xs, ys = density_points(n, rng)
    rows = rng.integers(0, len(roster), n).astype(np.int32)
    return City(xs, ys, rows, rng.random(n) < AVAILABLE_SHARE, roster)


def densest_km2(city: City) -> int:
    cells, _, _ = np.histogram2d(city.xs, city.ys, bins=int(SIDE_M // 1000), range=[[0, SIDE_M], [0, SIDE_M]])
    return int(cells.max())


@dataclass(frozen=True)
class Query:
    target: Target
    plan: Plan
    now: datetime


def make_queries(count: int, seed: int) -> list[Query]:
    """Incidents where people live, of the kinds in KIND_MIX, at times spread over a week."""
    rng = np.random.default_rng(seed + 7)
    policy = load_policy()
    plans = {k: policy.plan_for(k, out_of_area=False) for k in KIND_MIX}
    kinds = rng.choice(list(KIND_MIX), size=count, p=np.array(list(KIND_MIX.values())))
    xs, ys = density_points(count, rng)
    floors = rng.integers(1, 19, count)
    start = datetime(2026, 11, 30, tzinfo=UTC)
    offsets = rng.uniform(0, 7 * 86_400, count)
    return [
        Query(
            Target(float(xs[i]), float(ys[i]), int(floors[i]), bool(floors[i] > 6)),
            plans[str(kinds[i])],
            start + timedelta(seconds=float(offsets[i])),
        )
        for i in range(count)
    ]


# --- the three layouts -------------------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def _candidate(city: City, i: int) -> Candidate:
    """One record as `Directory.load` makes it from a row: fresh strings and a fresh skill set per person."""
    skills, on_call, rate = city.roster[int(city.roster_row[i])]
    return Candidate(
        f"V{i:07d}",
        _candidate_name(i),
        f"+86170{i:08d}",
        frozenset(s.strip() for s in skills.split(";") if s.strip()),
        float(city.xs[i]),
        float(city.ys[i]),
        "".join(on_call),  # a str of its own, as a database driver returns it
        bool(city.available[i]),
        rate,
    )


class Layout(Protocol):
    def candidates_near(self, target: Target, skills: tuple[str, ...]) -> Iterator[Candidate]: ...


class CityDirectory:
    """What `Directory` keeps for matching (records, homes, per-skill index); `candidates_near` is its code."""

    def __init__(self, city: City) -> None:
        self._vanguards = {c.vanguard_id: c for c in (_candidate(city, i) for i in range(len(city)))}
        self._homes = {k: (c.x, c.y) for k, c in self._vanguards.items()}
        records = list(self._vanguards.values())
        self.index = SkillIndex.from_arrays(
            [c.vanguard_id for c in records], [c.skills for c in records], city.xs, city.ys
        )

    def candidates_near(self, target: Target, skills: tuple[str, ...]) -> Iterator[Candidate]:
        for point in self.index.iter_nearest(target.x, target.y, skills):
            candidate = self._vanguards.get(point.key)
            if candidate is not None:
                yield candidate


class SharedTreeDirectory:
    """The same records and homes, one rtree over everyone (same node size, same bulk load)."""

    def __init__(self, city: City) -> None:
        self._vanguards = {c.vanguard_id: c for c in (_candidate(city, i) for i in range(len(city)))}
        self._homes = {k: (c.x, c.y) for k, c in self._vanguards.items()}
        self._keys = list(self._vanguards)
        pts = np.column_stack([city.xs, city.ys])
        self._tree = rtree_index.Index((np.arange(len(city), dtype=np.int64), pts, pts), properties=_props())

    def candidates_near(self, target: Target, skills: tuple[str, ...]) -> Iterator[Candidate]:
        """Everyone in straight-line order (widening batches), keeping holders of the skills."""
        wanted = frozenset(skills)
        done, k, box = 0, 64, (target.x, target.y, target.x, target.y)
        while done < len(self._keys):
            nums = list(self._tree.nearest(box, num_results=k))
            for num in nums[done:]:
                c = self._vanguards[self._keys[num]]
                if c.skills & wanted:
                    yield c
            if len(nums) < k:
                return
            done, k = len(nums), k * 2


class ColumnarDirectory:
    """Numpy columns only; a query scans the needed skills' holders (argpartition in widening batches)."""

    def __init__(self, city: City) -> None:
        self._roster = city.roster
        names = sorted({s for skills, _, _ in city.roster for s in skills.split(";") if s})
        self._bit = {s: 1 << i for i, s in enumerate(names)}
        row_bits = np.array([sum(self._bit[s] for s in sk.split(";") if s) for sk, _, _ in city.roster], np.int64)
        self.xs, self.ys = city.xs.copy(), city.ys.copy()
        self.bits = row_bits[city.roster_row]
        self.row = city.roster_row.copy()  # -> skills text, on-call window, accept rate
        self.available = city.available.copy()
        self.phones = np.array([f"+86170{i:08d}" for i in range(len(city))], dtype="S14")
        self.names = np.array([_candidate_name(i) for i in range(len(city))], dtype="U3")

    def _record(self, i: int) -> Candidate:
        skills, on_call, rate = self._roster[int(self.row[i])]
        return Candidate(
            f"V{i:07d}", str(self.names[i]), self.phones[i].decode(), frozenset(skills.split(";")),
            float(self.xs[i]), float(self.ys[i]), on_call, bool(self.available[i]), rate,
        )  # fmt: skip

    def candidates_near(self, target: Target, skills: tuple[str, ...]) -> Iterator[Candidate]:
        mask = sum(self._bit.get(s, 0) for s in skills)
        rows = np.flatnonzero(self.bits & mask)
        d2 = (self.xs[rows] - target.x) ** 2 + (self.ys[rows] - target.y) ** 2
        done, k = 0, 64
        while done < len(rows):
            k = min(k, len(rows))
            part = np.argpartition(d2, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
            order = part[np.argsort(d2[part], kind="stable")]
            for j in order[done:]:
                yield self._record(int(rows[j]))
            done, k = k, k * 2


def _candidate_name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)] + GIVEN[(i // 3) % len(GIVEN)]


class RecordsOnly(CityDirectory):
    """The records and homes without any index: what the index layouts add on top of it is the index's cost."""

    def __init__(self, city: City) -> None:
        self._vanguards = {c.vanguard_id: c for c in (_candidate(city, i) for i in range(len(city)))}
        self._homes = {k: (c.x, c.y) for k, c in self._vanguards.items()}

    def candidates_near(self, target: Target, skills: tuple[str, ...]) -> Iterator[Candidate]:
        raise NotImplementedError("records only: memory, not queries")


BUILDERS: Mapping[str, Callable[[City], Layout]] = {
    "records": RecordsOnly,
    "ours": CityDirectory,
    "shared": SharedTreeDirectory,
    "numpy": ColumnarDirectory,
}


# --- measuring ---------------------------------------------------------------------------------------------------


def rss_kb() -> int:
    """Resident set size now (VmRSS from /proc/self/status), else the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return peak_rss_kb()


def peak_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kilobytes on Linux


def match(layout: Layout, q: Query) -> list[Any]:
    """The real matching step for one incident, without the database: index scan + pure ranking."""

    def acceptance(chunk: Sequence[Candidate]) -> dict[str, float]:
        return {c.vanguard_id: acceptance_probability(c.accept_rate, None, q.now) for c in chunk}

    near = layout.candidates_near(q.target, q.plan.skills)
    return select_best(q.target, near, q.plan, q.now, WAVE, acceptance=acceptance)


def percentile_us(samples_ns: list[int], q: float) -> float:
    return float(np.percentile(np.asarray(samples_ns, dtype=float), q)) / 1000.0


def latency(layout: Layout, queries: list[Query], sustain_s: float) -> dict[str, float]:
    """Per-query wall and thread-CPU microseconds (garbage collector on, as in the service), then a sustained
    back-to-back run for `sustain_s` seconds: queries per second on one thread."""
    for q in queries[: min(100, len(queries))]:  # warm caches (schedules are parsed once, lru_cache)
        match(layout, q)
    wall: list[int] = []
    cpu: list[int] = []
    by_kind: dict[str, list[int]] = {}
    found = 0
    for q in queries:
        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
        found += int(len(match(layout, q)) >= WAVE)
        wall.append(time.perf_counter_ns() - t0)
        cpu.append(time.thread_time_ns() - c0)
        by_kind.setdefault(q.plan.kind, []).append(wall[-1])
    done, cpu0, wall0 = 0, time.thread_time(), time.perf_counter()
    while time.perf_counter() - wall0 < sustain_s or done == 0:
        match(layout, queries[done % len(queries)])
        done += 1
    wall_s, cpu_s = time.perf_counter() - wall0, time.thread_time() - cpu0
    qps = done / wall_s
    return {
        "query_p50_us": percentile_us(wall, 50),
        "query_p99_us": percentile_us(wall, 99),
        "query_cpu_p50_us": percentile_us(cpu, 50),
        "query_cpu_p99_us": percentile_us(cpu, 99),
        "queries": float(len(queries)),
        "full_wave_share": found / len(queries),
        "qps_wall": qps,
        "qps_cpu": done / cpu_s if cpu_s > 0 else math.inf,
        "headroom_at_peak": headroom(qps),
        **{f"query_p50_us_{kind}": percentile_us(samples, 50) for kind, samples in sorted(by_kind.items())},
    }


def headroom(qps: float) -> float:
    """Queries per second one core sustains, over what the peak needs (10x the 100k/day average)."""
    return qps / PEAK_NEED_PER_S


def measure(layout_name: str, n: int, seed: int, queries: int, sustain_s: float) -> dict[str, float]:
    """Memory growth of one layout over a baseline taken with the inputs already in memory, then its latency.
    Meant to run in a fresh process (see `measure_in_subprocess`): RSS never shrinks much once grown."""
    city = make_city(n, seed)
    qs = make_queries(queries, seed)
    gc.collect()
    base_kb, t0 = rss_kb(), time.perf_counter()
    layout = BUILDERS[layout_name](city)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    gc.collect()  # a full collection walks every record the layout holds: a pause the service will also see
    gc_ms = (time.perf_counter() - t0) * 1000
    gc.freeze()  # what the service does once its directory is loaded (dispatch.runtime)
    t0 = time.perf_counter()
    gc.collect()
    frozen_gc_ms = (time.perf_counter() - t0) * 1000
    after_kb = rss_kb()
    out = {
        "n": float(n),
        "baseline_rss_mb": base_kb / 1024,
        "rss_mb": (after_kb - base_kb) / 1024,
        "peak_rss_growth_mb": (peak_rss_kb() - base_kb) / 1024,
        "process_rss_mb": after_kb / 1024,
        "bytes_per_vanguard": (after_kb - base_kb) * 1024 / n,
        "build_s": build_s,
        "gc_full_collect_ms": gc_ms,
        "gc_full_collect_frozen_ms": frozen_gc_ms,
        "densest_km2": float(densest_km2(city)),
    }
    if queries > 0:
        out.update(latency(layout, qs, sustain_s))
    return out


def measure_in_subprocess(layout: str, n: int, seed: int, queries: int, sustain_s: float) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._city", layout, str(n), str(seed), str(queries), str(sustain_s)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {layout} at N={n} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    layout_arg, n_arg, seed_arg, queries_arg, sustain_arg = sys.argv[1:6]
    print(json.dumps(measure(layout_arg, int(n_arg), int(seed_arg), int(queries_arg), float(sustain_arg))))
