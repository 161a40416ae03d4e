"""The four people's screens, mounted on the app in one call (the composition root stays short)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dispatch.web import resident, review, staff, vanguard

STATIC_DIR = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(resident.router)
    app.include_router(staff.router)
    app.include_router(vanguard.router)
    app.include_router(review.router)
