"""Settings read once from the environment at the composition root (never at import time)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    from_number: str
    api_base_url: str | None = None


JOBS = frozenset({"timers", "outbox"})
PRESSES_IN_FLIGHT_DEFAULT = 40  # = dispatch.db.engine.REQUEST_THREADS
MAX_BODY_BYTES_DEFAULT = 64 * 1024


@dataclass(frozen=True)
class Settings:
    database_url: str
    public_base_url: str
    secret_key: str
    data_dir: Path
    twilio: TwilioSettings | None = None
    escalation_wait_s: float | None = None
    # Alerts one vanguard may get in a day; None keeps the policy's (12).
    alert_budget_per_day: int | None = None
    load_demo: bool = True
    # How long a process's claim on an outgoing message lasts: after a crash, the wait before another process takes
    # over. It must exceed the slowest send (the Twilio client's 10 s timeout). Also the wait before an escalation
    # step that failed is retried (a crash mid-step leaves its timer due at once: nothing of it committed).
    lease_s: float = 30.0
    # Presses one process takes at once; the next is refused at once with 503 and Retry-After (web/shedding.py).
    # As many as the request threads: a press beyond them only waits for one, with nothing durable yet. At 200/s
    # (quick runs, SQLite) 40 kept every acknowledged press's answer under 0.45 s where 128 let them take 2.8 s.
    presses_in_flight_max: int = PRESSES_IN_FLIGHT_DEFAULT
    # Background jobs this process runs ("timers": escalation steps, "outbox": sending messages) and how often they
    # look for work besides being woken. A process without the outbox leaves sending to `dispatch work`.
    jobs: frozenset[str] = JOBS
    tick_s: float = 0.25
    # The escalation policy file (DISPATCH_POLICY); None: dispatch/policies/default.json.
    policy_path: Path | None = None
    # The largest request body taken, checked before it is parsed (web/limits.py): the biggest legitimate one, a
    # press with a typed address and a note, is under 2 KB; a 10 MB body used to hold the server for seconds.
    max_body_bytes: int = MAX_BODY_BYTES_DEFAULT
    # The interface `dispatch serve` listens on (DISPATCH_BIND_HOST, which it sets). None: unknown (uvicorn started
    # some other way), so taken as reachable from anywhere. Code that builds Settings itself serves in-process.
    bind_host: str | None = "127.0.0.1"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def simulated_phones(self) -> bool:
        return self.twilio is None


def default_sqlite_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'dispatch.sqlite'}"


def _secret_key(env: Mapping[str, str], var_dir: Path) -> str:
    if env.get("DISPATCH_SECRET_KEY"):
        return env["DISPATCH_SECRET_KEY"]
    # Several processes on one machine must sign links with the same key: keep it in var/.
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _seconds(env: Mapping[str, str], name: str, default: float | None, low: float, high: float) -> float | None:
    value = env.get(name)
    try:
        seconds = float(value) if value else default
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number of seconds, got {value!r}") from exc
    if seconds is not None and not low <= seconds <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g} seconds")
    return seconds


def _whole(env: Mapping[str, str], name: str, unit: str, low: int, high: int, unset: str) -> int | None:
    value = env.get(name)
    if not value:
        return None
    if not (value.isdigit() and low <= int(value) <= high):
        raise SettingsError(f"{name} must be a whole number of {unit} from {low} to {high}, got {value!r}; {unset}")
    return int(value)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    var_dir = Path(env.get("DISPATCH_VAR_DIR", REPO_ROOT / "var"))
    twilio_keys = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
    present = [k for k in twilio_keys if env.get(k)]
    twilio: TwilioSettings | None = None
    if present and len(present) != len(twilio_keys):
        missing = ", ".join(k for k in twilio_keys if not env.get(k))
        raise SettingsError(
            f"Twilio is half configured: also set {missing}, or unset all TWILIO_* "
            "variables to use the simulated phone inbox."
        )
    if present:
        twilio = TwilioSettings(
            account_sid=env["TWILIO_ACCOUNT_SID"],
            auth_token=env["TWILIO_AUTH_TOKEN"],
            from_number=env["TWILIO_FROM_NUMBER"],
            api_base_url=env.get("TWILIO_API_BASE_URL") or None,
        )
    wait_s = _seconds(env, "ESCALATION_WAIT_S", None, 1, 600)
    budget = _whole(env, "ALERT_BUDGET_PER_DAY", "alerts", 1, 1000, "unset it to keep the policy's budget (12 a day)")
    lease_s = _seconds(env, "DISPATCH_LEASE_S", 30.0, 2, 600)
    in_flight = _whole(
        env, "PRESSES_IN_FLIGHT_MAX", "presses", 1, 10000, f"unset it for the default ({PRESSES_IN_FLIGHT_DEFAULT})"
    )
    max_body = _whole(
        env, "DISPATCH_MAX_BODY_BYTES", "bytes", 1024, 16 * 1024 * 1024, f"unset it for {MAX_BODY_BYTES_DEFAULT}"
    )
    jobs_env = env.get("DISPATCH_JOBS")
    jobs = JOBS if jobs_env is None else frozenset(j.strip() for j in jobs_env.split(",") if j.strip())
    if not jobs <= JOBS:
        raise SettingsError(
            f"DISPATCH_JOBS names unknown jobs {sorted(jobs - JOBS)}: use a comma-separated subset of "
            "timers,outbox (empty for none); unset it to run both"
        )
    tick_s = _seconds(env, "DISPATCH_TICK_S", 0.25, 0.005, 10)
    return Settings(
        policy_path=Path(env["DISPATCH_POLICY"]).expanduser() if env.get("DISPATCH_POLICY") else None,
        jobs=jobs,
        tick_s=tick_s or 0.25,
        lease_s=lease_s or 30.0,
        presses_in_flight_max=in_flight or PRESSES_IN_FLIGHT_DEFAULT,
        max_body_bytes=max_body or MAX_BODY_BYTES_DEFAULT,
        database_url=env.get("DATABASE_URL") or default_sqlite_url(var_dir),
        public_base_url=(env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        secret_key=_secret_key(env, var_dir),
        data_dir=Path(env.get("DISPATCH_DATA_DIR", REPO_ROOT / "data" / "demo")),
        twilio=twilio,
        escalation_wait_s=wait_s,
        alert_budget_per_day=budget,
        load_demo=env.get("DISPATCH_LOAD_DEMO", "1") not in ("0", "false", "no"),
        bind_host=env.get("DISPATCH_BIND_HOST") or None,
    )
