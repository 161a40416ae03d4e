"""Helpers for tests of what app processes tell each other on PostgreSQL (LISTEN/NOTIFY)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, text


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> float:
    """Wait until `condition` holds (failing after `seconds`); returns how long it took."""
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < seconds, f"not within {seconds} s"
        time.sleep(0.02)
    return time.monotonic() - began


def drop_listening_connections(engine: Engine) -> None:
    """The server ends every connection whose last statement was a LISTEN, as a restart or network cut would."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
            )
        )
