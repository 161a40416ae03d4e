"""The `dispatch` command: serve the app, run background jobs, regenerate the demo community, migrate a database."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from dispatch.settings import REPO_ROOT, SettingsError, load_settings

app = typer.Typer(help="Vanguard Dispatch: emergency dispatch to neighbourhood vanguards.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes (share the database)")] = 1,
) -> None:
    """Serve the API and pages. An empty database is migrated and gets the demo community."""
    import uvicorn

    from dispatch.db.engine import DatabaseSetupError
    from dispatch.escalation.policy import PolicyError
    from dispatch.runtime import build_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Ticks every 250 ms and each HTTP call to the provider are not news.
    for noisy in ("apscheduler", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Links in messages must point at where we actually listen unless a public URL is configured.
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")
    # The app opens the demo's simulated phones to anyone only when it listens on this machine alone.
    os.environ["DISPATCH_BIND_HOST"] = host
    try:
        settings = load_settings()
        # Prepare once here so that a broken setup fails with a clear message before the server starts.
        build_runtime(settings).stop()
    except (SettingsError, DatabaseSetupError, PolicyError) as exc:
        raise _fail(str(exc)) from exc
    mode = "simulated phones (no TWILIO_* set)" if settings.simulated_phones else "Twilio"
    typer.echo(
        f"Vanguard Dispatch on http://{host}:{port}  database={settings.database_url.split('@')[-1]}  phones={mode}"
    )
    uvicorn.run("dispatch.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


@app.command()
def work() -> None:
    """Run background jobs without serving HTTP: escalation timers and/or sending (DISPATCH_JOBS, default both).

    E.g. `DISPATCH_JOBS=timers dispatch serve` plus `DISPATCH_JOBS=outbox DISPATCH_TICK_S=0.02 dispatch work`
    sends from its own process, on another core. Any mix of processes shares the work through the database. On
    PostgreSQL the sender is woken by the server's announcements (LISTEN/NOTIFY); on SQLite it polls every tick."""
    import gc
    import signal
    import threading

    from dispatch.db.engine import DatabaseSetupError
    from dispatch.escalation.policy import PolicyError
    from dispatch.runtime import build_runtime

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = load_settings()
        if not settings.jobs:
            raise _fail("DISPATCH_JOBS is empty: name timers, outbox or both for this process to do anything")
        runtime = build_runtime(settings)
    except (SettingsError, DatabaseSetupError, PolicyError) as exc:
        raise _fail(str(exc)) from exc
    gc.collect()
    gc.freeze()  # as `serve` does: the directory stays for life
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime.start()
    typer.echo(f"Vanguard Dispatch worker: jobs={','.join(sorted(settings.jobs))} tick={settings.tick_s:g} s")
    try:
        while not stop.wait(1.0):  # a timeout keeps the main thread where signal handlers run
            pass
    finally:
        runtime.stop()


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="Where to write the files")] = REPO_ROOT / "data" / "demo",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives identical files")] = 2026,
    shared: Annotated[Path, typer.Option(help="The shared data folder (district boundary, divisions)")] = (
        REPO_ROOT.parent / "shared"
    ),
) -> None:
    """Regenerate the demo community (data/demo/) from the real district boundary and a seed."""
    from dispatch.community.generate import generate

    zhanggong = shared / "data" / "zhanggong"
    try:
        counts = generate(
            out,
            seed=seed,
            boundary_path=zhanggong / "zhanggong_district_gcj02.geojson",
            divisions_path=zhanggong / "ganzhou_divisions_2025.csv",
        )
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    for name, count in counts.items():
        typer.echo(f"{name}: {count}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []})
def bench(ctx: typer.Context) -> None:
    """Run a benchmark: the same as `dispatch-bench NAME ...` (e.g. `dispatch bench response-times --quick`)."""
    import subprocess
    import sys

    # The benchmarks are their own installed package with their own command; the product never imports them.
    done = subprocess.run([sys.executable, "-m", "benchmarks", *ctx.args], check=False)
    raise typer.Exit(code=done.returncode)


@app.command()
def migrate() -> None:
    """Bring the database named by DATABASE_URL to the newest schema (and load the demo if it is empty)."""
    from dispatch.db.engine import DatabaseSetupError, make_engine
    from dispatch.escalation.policy import PolicyError, load_policy
    from dispatch.runtime import prepare_database

    try:
        settings = load_settings()
        load_policy(settings.policy_path)  # the server would refuse it: say so before the deploy goes further
        engine = make_engine(settings.database_url)
        from sqlalchemy.orm import sessionmaker

        prepare_database(engine, sessionmaker(engine), settings)
    except (SettingsError, DatabaseSetupError, PolicyError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo("database is up to date")
