"""Processes the intake benchmark starts and stops: the fake provider, `dispatch serve`, a PostGIS cluster."""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks import _provider
from dispatch.settings import REPO_ROOT

DEMO = REPO_ROOT / "data" / "demo"
BENCH_ALERT_BUDGET = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Provider:
    def __init__(self, log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._provider", str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=REPO_ROOT,
            text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the fake provider did not start")

    def first_message_times(self) -> dict[str, float]:
        """Incident code -> monotonic time its first message reached the provider."""
        first: dict[str, float] = {}
        if not self.log.exists():
            return first
        for line in self.log.read_text(encoding="utf-8").splitlines():
            at, status, code = line.split("\t")
            if status == "201" and code != "-" and code not in first:
                first[code] = float(at)
        return first

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Server:
    """`python -m dispatch serve` with a real database and the fake provider as Twilio."""

    def __init__(
        self, database_url: str, provider: Provider, workdir: Path, data_dir: Path, workers: int, sender: bool = False
    ) -> None:
        """`sender`: the server only fires timers and one `dispatch work` process sends (its own core on SQLite)."""
        self.port = free_port()
        self.sender: subprocess.Popen[bytes] | None = None
        self.log = workdir / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
        env.update(
            DATABASE_URL=database_url,
            DISPATCH_VAR_DIR=str(workdir / "var"),
            DISPATCH_DATA_DIR=str(data_dir),
            PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}",
            DISPATCH_SECRET_KEY="bench-secret",
            # Nobody answers the benchmark's alerts: with the usual 30 s wait every press would escalate for ever
            # and later steps would measure the load of earlier ones. Escalation is measured by the timer part.
            ESCALATION_WAIT_S="600",
            # The run presses thousands of times in minutes, a year of this community's emergencies. With the
            # usual budget (12 alerts a day each, 9,612 in all) every vanguard is spent after ~3,000 presses and
            # the rest of the run would measure only the building-leader page that follows, not a wave.
            ALERT_BUDGET_PER_DAY=str(BENCH_ALERT_BUDGET),
            TWILIO_ACCOUNT_SID=_provider.ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=_provider.AUTH_TOKEN,
            TWILIO_FROM_NUMBER=_provider.FROM_NUMBER,
            TWILIO_API_BASE_URL=provider.base_url,
        )
        if sender:
            env["DISPATCH_JOBS"] = "timers"
        cmd = [sys.executable, "-m", "dispatch", "serve", "--port", str(self.port), "--workers", str(workers)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + _tail(self.log))
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError("server did not start:\n" + _tail(self.log))
        if sender:
            # Never woken by the server's commits (another process): it looks every 20 ms, read-only when idle.
            sender_env = {**env, "DISPATCH_JOBS": "outbox", "DISPATCH_TICK_S": "0.02"}
            with (workdir / "sender.log").open("ab") as log:
                self.sender = subprocess.Popen(
                    [sys.executable, "-m", "dispatch", "work"],
                    env=sender_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=REPO_ROOT,
                )
            while time.monotonic() < deadline and "Vanguard Dispatch worker" not in _tail(workdir / "sender.log"):
                if self.sender.poll() is not None:
                    self.stop()
                    raise RuntimeError("sender exited:\n" + _tail(workdir / "sender.log"))
                time.sleep(0.2)

    def pids(self) -> list[int]:
        return [p.pid for p in (self.proc, self.sender) if p is not None]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        for proc in (self.sender, self.proc):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def community_with_households(out: Path, total: int) -> list[str]:
    """A copy of the demo community with extra households (cloned flats in existing buildings), so a long run at a
    high rate never presses twice from one household within the 5-minute merge window. Returns the tokens in a
    fixed shuffled order: consecutive presses come from anywhere in the community, as emergencies do, not from
    one stairwell after another."""
    shutil.copytree(DEMO, out)
    with (DEMO / "households.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    tokens = [r["device_token"] for r in rows]
    with (out / "households.csv").open("a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        for i in range(max(0, total - len(rows))):
            base = rows[i % len(rows)]
            token = f"hh_bench_{i:07d}"
            writer.writerow({**base, "household_id": f"X{i:06d}", "unit": f"9{i % 1000:03d}", "device_token": token})
            tokens.append(token)
    random.Random(2026).shuffle(tokens)
    return tokens
