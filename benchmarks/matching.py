"""`dispatch bench matching [--quick]`: 5-nearest-with-skill queries, ours against the obvious alternatives.

For N = 801 (the demo), 10k, 100k and (full mode only) 1M vanguards, in one run:
- ours: geo.index.SkillIndex (one rtree per skill, bulk-loaded from numpy arrays), `nearest(x, y, skill, 5)`;
- brute: numpy over the same skill's coordinates (argpartition of squared distances);
- postgis: `ORDER BY geom <-> point LIMIT 5` with a partial GiST index per skill, over a real psycopg connection
  to a throwaway cluster (tests/support/postgis.py) or BENCH_DATABASE_URL;
- update: moving one vanguard in our index (delete with the exact box + insert, in every skill tree it holds).
Plus the cost of ranking by walking ETA (one Dijkstra + snapping 64 candidates) on the demo streets and on the real
OSM extract. Vanguards are spread at the demo's density (801 per 2.3 km2) with the demo's skill shares.
Writes benchmarks/results/matching.json: per N {"ours_p50_us", "ours_p99_us", "brute_p50_us", "postgis_p50_us",
"update_us", ...} and a "meta" entry; prints a table.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from geo.crs import MetricProjector
from geo.index import IndexedPoint, SkillIndex
from geo.walking import WalkingGraph

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
SHARES = {"doctor": 0.07, "nurse": 0.08, "first_aid": 0.40, "fire_safety": 0.10, "electrician": 0.07}
QUERY_SKILLS = ("doctor", "first_aid", "fire_safety")
DEMO_DENSITY_PER_M2 = 801 / 2.3e6


def community(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[frozenset[str]], float]:
    rng = np.random.default_rng(seed)
    side = float(np.sqrt(n / DEMO_DENSITY_PER_M2))
    xs, ys = rng.uniform(0, side, n), rng.uniform(0, side, n)
    held = {s: rng.random(n) < share for s, share in SHARES.items()}
    skills = [frozenset(s for s in SHARES if held[s][i]) or frozenset({"carrying"}) for i in range(n)]
    return xs, ys, skills, side


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    arr = np.asarray(samples_ns, dtype=float) / 1000.0
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def _rank64(g: WalkingGraph, pts: np.ndarray, cand: np.ndarray, i: int) -> object:
    return g.field_from(*pts[i]).to_many(cand[:, 0], cand[:, 1])


def timed(fn: Callable[[int], object], count: int, clock: Callable[[], int] = time.perf_counter_ns) -> list[int]:
    """Per-call nanoseconds, with the garbage collector paused as timeit does (for every contender alike)."""
    out = []
    gc.collect()
    gc.disable()
    try:
        for i in range(count):
            t0 = clock()
            fn(i)
            out.append(clock() - t0)
    finally:
        gc.enable()
    return out


@contextmanager
def postgis() -> Iterator[Any]:
    import psycopg

    url = os.environ.get("BENCH_DATABASE_URL")
    cluster = None
    if not url:
        from tests.support.postgis import start_cluster

        cluster = start_cluster()
        url = cluster.url
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            yield conn
    finally:
        if cluster is not None:
            cluster.stop()


def load_postgis(conn: Any, xs: np.ndarray, ys: np.ndarray, skills: list[frozenset[str]]) -> None:
    conn.execute("DROP TABLE IF EXISTS bench_vanguards")
    cols = ", ".join(f"{s} boolean NOT NULL" for s in QUERY_SKILLS)
    conn.execute(f"CREATE TABLE bench_vanguards (id integer PRIMARY KEY, {cols}, geom geometry(Point, 4547))")
    with conn.cursor() as cur, cur.copy(f"COPY bench_vanguards (id, {', '.join(QUERY_SKILLS)}, geom) FROM STDIN") as cp:
        for i, (x, y, held) in enumerate(zip(xs, ys, skills, strict=True)):
            flags = ["t" if s in held else "f" for s in QUERY_SKILLS]
            cp.write_row((i, *flags, f"SRID=4547;POINT({x:.3f} {y:.3f})"))
    for s in QUERY_SKILLS:  # one partial GiST index per skill, as the issue asks
        conn.execute(f"CREATE INDEX bench_{s}_gist ON bench_vanguards USING gist (geom) WHERE {s}")
    conn.execute("ANALYZE bench_vanguards")


def bench_n(n: int, queries: int, conn: Any | None, seed: int) -> dict[str, float]:
    xs, ys, skills, side = community(n, seed)
    t0 = time.perf_counter()
    index = SkillIndex.from_arrays([f"V{i}" for i in range(n)], skills, xs, ys)
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed + 1)
    qx, qy = rng.uniform(0, side, queries), rng.uniform(0, side, queries)
    qs = [QUERY_SKILLS[i % len(QUERY_SKILLS)] for i in range(queries)]

    for i in range(min(200, queries)):  # warm caches
        index.nearest(qx[i], qy[i], qs[i], 5)
    ours = timed(lambda i: index.nearest(qx[i], qy[i], qs[i], 5), queries)
    # The same queries in this thread's CPU time: wall-clock tails on a shared machine are mostly preemption.
    ours_cpu = timed(lambda i: index.nearest(qx[i], qy[i], qs[i], 5), queries, time.thread_time_ns)

    per_skill = {}
    for s in QUERY_SKILLS:
        mask = np.fromiter((s in h for h in skills), dtype=bool, count=n)
        per_skill[s] = (xs[mask], ys[mask])

    def brute(i: int) -> np.ndarray:
        sx, sy = per_skill[qs[i]]
        d = (sx - qx[i]) ** 2 + (sy - qy[i]) ** 2
        return np.argpartition(d, 5)[:5] if len(d) > 5 else np.arange(len(d))

    brute_ns = timed(brute, min(queries, max(50, 20_000_000 // n)))

    # Agreement: ours returns the same 5 distances as brute force.
    for i in range(50):
        got = sorted(round(np.hypot(p.x - qx[i], p.y - qy[i]), 6) for p in index.nearest(qx[i], qy[i], qs[i], 5))
        sx, sy = per_skill[qs[i]]
        want = sorted(np.round(np.sqrt((sx - qx[i]) ** 2 + (sy - qy[i]) ** 2), 6))[:5]
        assert got[:5] == want, f"index and brute force disagree at N={n}"

    keys = rng.integers(0, n, queries)

    def move(i: int) -> None:
        key = f"V{keys[i]}"
        old = index.get(key)
        assert old is not None
        index.upsert(IndexedPoint(key, old.skills, old.x + 5.0, old.y - 5.0))

    update = timed(move, queries)

    out: dict[str, float] = {}
    out["ours_p50_us"], out["ours_p99_us"] = percentiles(ours)
    out["ours_cpu_p50_us"], out["ours_cpu_p99_us"] = percentiles(ours_cpu)
    out["brute_p50_us"], out["brute_p99_us"] = percentiles(brute_ns)
    out["update_us"], out["update_p99_us"] = percentiles(update)
    out["build_s"] = build_s
    if conn is not None:
        load_postgis(conn, xs, ys, skills)
        knn = "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%s, %s), 4547) LIMIT 5"
        sql = {s: f"SELECT id FROM bench_vanguards WHERE {s} {knn}" for s in QUERY_SKILLS}
        pg_queries = min(queries, 1500)
        with conn.cursor() as cur:
            for i in range(30):  # warm up; psycopg prepares the statement server-side after a few runs
                cur.execute(sql[qs[i]], (qx[i], qy[i]), prepare=True)
                cur.fetchall()

            def pg(i: int) -> None:
                cur.execute(sql[qs[i]], (float(qx[i]), float(qy[i])), prepare=True)
                cur.fetchall()

            pg_ns = timed(pg, pg_queries)
        out["postgis_p50_us"], out["postgis_p99_us"] = percentiles(pg_ns)
        out["speedup_vs_postgis_p50"] = out["postgis_p50_us"] / out["ours_p50_us"]
        conn.execute("DROP TABLE bench_vanguards")
    return out


def bench_walking(queries: int) -> dict[str, float]:
    """Ranking by walking ETA: one Dijkstra from the incident + snapping 64 candidates, per incident."""
    projector = MetricProjector()
    out: dict[str, float] = {}
    graphs = {"demo": WalkingGraph.from_geojson(REPO / "data" / "demo" / "streets.geojson", projector)}
    extract = REPO.parent / "shared" / "data" / "streets" / "aguascalientes.osm.pbf"
    if extract.exists():
        graphs["osm_aguascalientes"], _ = WalkingGraph.from_osm_pbf(extract)
    rng = np.random.default_rng(5)
    for name, g in graphs.items():
        lo, hi = g.xy.min(axis=0), g.xy.max(axis=0)
        pts = rng.uniform(lo, hi, size=(queries, 2))
        cand = rng.uniform(lo, hi, size=(64, 2))
        samples = timed(partial(_rank64, g, pts, cand), queries)
        out[f"walk_rank64_{name}_p50_us"], out[f"walk_rank64_{name}_p99_us"] = percentiles(samples)
        out[f"walk_graph_{name}_nodes"] = float(g.node_count)
    return out


def bench_first_wave(every: int) -> dict[str, float]:
    """The whole first-wave choice on the demo community (SQLite): index, walking ETAs, acceptance history, and
    for a medical call the AED fetcher too. Incidents at every `every`-th building."""
    import tempfile
    import uuid

    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point

    from dispatch.clock import FakeClock
    from dispatch.escalation import engine
    from dispatch.incidents.models import Incident
    from dispatch.runtime import build_runtime
    from dispatch.settings import Settings

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.sqlite",
            public_base_url="https://bench.invalid",
            secret_key="bench",
            data_dir=REPO / "data" / "demo",
            twilio=None,
            escalation_wait_s=30,
        )
        rt = build_runtime(settings, clock=FakeClock())
        try:
            ctx, now = rt.ctx, rt.ctx.clock.now()
            buildings = list(ctx.directory.buildings.values())[::every]
            with rt.sessions() as session:
                for kind in ("medical", "fire"):
                    plan = ctx.policy.plan_for(kind, out_of_area=False)
                    samples = []
                    for b in buildings:
                        incident = Incident(
                            id=uuid.uuid4().hex, code="BENCH", kind=kind, status="reported", location_source="gps",
                            building_id=b.id, grid_id=b.grid_id, zone_id=b.zone_id, out_of_area=False,
                            geom=from_shape(Point(b.lon, b.lat), srid=4326), reported_at=now, escalation_level=-1,
                            plan=plan.to_json(),
                        )  # fmt: skip
                        t0 = time.perf_counter_ns()
                        engine.choose_vanguards(session, ctx, incident, plan, 3, now)
                        samples.append(time.perf_counter_ns() - t0)
                    p50, p99 = percentiles(samples)
                    out[f"first_wave_demo_{kind}_p50_ms"] = p50 / 1000
                    out[f"first_wave_demo_{kind}_p99_ms"] = p99 / 1000
        finally:
            rt.stop()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dispatch bench matching", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N <= 100k, fewer queries: under a minute")
    parser.add_argument("--no-postgis", action="store_true", help="skip the PostGIS comparison")
    parser.add_argument("--out", type=Path, default=RESULTS / "matching.json")
    args = parser.parse_args(argv)
    sizes = [801, 10_000, 100_000] if args.quick else [801, 10_000, 100_000, 1_000_000]
    queries = 2000 if args.quick else 10_000
    started = time.perf_counter()
    load_at_start = round(os.getloadavg()[0], 2)
    results: dict[str, Any] = {}
    if args.no_postgis:
        for n in sizes:
            results[str(n)] = bench_n(n, queries, None, seed=n)
            print(f"N={n:>9,}: done", flush=True)
    else:
        with postgis() as conn:
            for n in sizes:
                results[str(n)] = bench_n(n, queries, conn, seed=n)
                print(f"N={n:>9,}: done", flush=True)
    walking = bench_walking(200 if args.quick else 1000)
    walking.update(bench_first_wave(8 if args.quick else 1))
    results["meta"] = {
        "mode": "quick" if args.quick else "full",
        "queries_per_n": queries,
        "k": 5,
        "query_skills": list(QUERY_SKILLS),
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "cpu_count": os.cpu_count(),
        # Tail latencies move with whatever else the machine runs: record how busy it was.
        "load_average_1m_at_start": load_at_start,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "seconds": round(time.perf_counter() - started, 1),
        **walking,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    header = (
        f"{'N':>9} | {'ours p50':>9} | {'ours p99':>9} | {'brute p50':>9} | {'PostGIS p50':>11} | "
        f"{'x PostGIS':>9} | {'update':>8}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        r = results[str(n)]
        pg = f"{r['postgis_p50_us']:>9.1f}us" if "postgis_p50_us" in r else f"{'-':>11}"
        ratio = f"{r['speedup_vs_postgis_p50']:>8.1f}x" if "speedup_vs_postgis_p50" in r else f"{'-':>9}"
        print(
            f"{n:>9,} | {r['ours_p50_us']:>7.1f}us | {r['ours_p99_us']:>7.1f}us | {r['brute_p50_us']:>7.1f}us | "
            f"{pg} | {ratio} | {r['update_us']:>6.1f}us"
        )
    for key, value in walking.items():
        if key.endswith("p50_us"):
            print(f"{key}: {value:.0f} us")
        elif key.endswith("p50_ms"):
            print(f"{key}: {value:.1f} ms")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")
    return 0
