"""The intake benchmark's CPU accounting: who spent the machine's CPU during a step."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil
import pytest

from benchmarks._cpu import CpuMeter, per_incident_ms, tree
from benchmarks._intake_report import ceiling_per_s


def test_a_process_that_spins_is_charged_its_cpu_and_an_absent_one_nothing() -> None:
    me = psutil.Process()
    meter = CpuMeter({"me": lambda: [me], "gone": lambda: tree(None)})
    before = meter.read()
    until = time.process_time() + 0.3
    while time.process_time() < until:
        pass
    used = meter.since(before)
    assert 0.25 <= used["me"] <= used["wall"] + 0.05
    assert used["gone"] == 0.0
    assert used["machine_busy"] >= used["me"] - 0.05, "the machine was at least as busy as this process"
    assert used["other"] == max(0.0, used["machine_busy"] - used["me"])


def test_a_group_is_a_process_and_everything_it_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in {p.pid for p in tree(os.getpid())}
    finally:
        child.kill()
        child.wait()


def test_cpu_is_given_per_incident_with_the_share_of_all_cores_busy() -> None:
    used = {"server": 0.3, "provider": 0.02, "other": 0.1, "machine_busy": 0.5, "wall": 1.0, "cores": 2.0}
    assert per_incident_ms(used, 10) == {"server": 30.0, "provider": 2.0, "other": 10.0, "busy_share": 0.25}


def test_the_busiest_process_of_a_group_is_reported_apart_from_the_group() -> None:
    spinner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\ntime.sleep(30)",
        ]
    )
    try:
        me = psutil.Process()
        meter = CpuMeter({"server": lambda: [me, psutil.Process(spinner.pid)]}, busiest_of="server")
        before = meter.read()
        time.sleep(1.0)
        used = meter.since(before)
    finally:
        spinner.kill()
        spinner.wait()
    assert 0.2 <= used["server_busiest"] <= used["server"], "the spinning child, not the sleeping parent"
    assert used["other"] == max(0.0, used["machine_busy"] - used["server"]), "and it is not counted twice"


def test_the_ceiling_is_the_lower_of_all_cores_and_the_busiest_process_alone() -> None:
    one_process = {"server": 25.0, "server_busiest": 25.0}
    assert ceiling_per_s(one_process, 2) == 40, "one Python process: one core at a time"
    two_even = {"server": 25.0, "server_busiest": 12.5, "database": 5.0}
    assert ceiling_per_s(two_even, 2) == pytest.approx(2000 / 30), "two processes: the cores bind first"
    assert ceiling_per_s({"server": 25.0}, 2) == 80, "results from before the per-process figure"
    assert ceiling_per_s({}, 2) is None
