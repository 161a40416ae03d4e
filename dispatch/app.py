"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dispatch.runtime import Runtime, build_runtime
from dispatch.settings import load_settings
from dispatch.web import access_log, api, demo_api, errors, pages, screens, webhooks
from dispatch.web import voice as voice_webhooks
from dispatch.web.headers import SecurityHeaders
from dispatch.web.limits import BodyLimit
from dispatch.web.shedding import PressShedding


def create_app(runtime: Runtime | None = None, *, start_background: bool = True) -> FastAPI:
    """`runtime` is built from the environment when not given (tests pass their own, with fakes)."""
    settings = runtime.settings if runtime is not None else load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.runtime is None:
            app.state.runtime = build_runtime(settings)
            # The serving process keeps its directory for life: move it out of the collector's way. At a million
            # vanguards a full collection otherwise walks every record, about a second's pause
            # (benchmarks/results/city_scale.md). Tests build many runtimes in one process and skip this.
            gc.collect()
            gc.freeze()
        if start_background:
            app.state.runtime.start()
        try:
            yield
        finally:
            app.state.runtime.stop()

    app = FastAPI(
        title="Vanguard Dispatch",
        version="0.1.0",
        lifespan=lifespan,
        description="Emergency dispatch to neighbourhood vanguards. Never replaces 120 / 110 / 119.",
    )
    app.state.runtime = runtime
    access_log.install()
    app.add_middleware(PressShedding, limit=lambda: app.state.runtime.settings.presses_in_flight_max)
    # Added last, so it runs first: an oversized body is refused before a press takes a place in flight.
    app.add_middleware(BodyLimit, limit=lambda: app.state.runtime.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost: its refusals carry the headers too
    errors.install(app)
    app.include_router(api.router)
    app.include_router(webhooks.router)
    app.include_router(voice_webhooks.router)
    app.include_router(pages.router)
    if settings.simulated_phones:  # with a real provider the demo phones do not exist at all
        app.include_router(pages.demo_router)
        app.include_router(demo_api.router)
    screens.install(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
