"""Engines for the two supported databases.

SQLite needs the SpatiaLite extension, and many Pythons (pyenv, macOS) build `sqlite3` without extension
loading. We use the `sqlean` driver, which always can, and say exactly what to install when SpatiaLite itself
is missing.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from dispatch.db.turns import FileTurn, TurnLock

WRITE_LOCK_TIMEOUT_S = 30.0  # as long as SQLite's own busy timeout: a writer stuck longer is an error
_HOLDS_WRITE_LOCK = "vd_holds_write_lock"
REQUEST_THREADS = 40  # anyio's default limit of threads running sync routes at once


class DatabaseBusyError(RuntimeError):
    """Another writer of this process held the database for longer than the busy timeout."""


class DatabaseSetupError(RuntimeError):
    """The database cannot be used as configured; the message says how to fix it."""


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def reader(engine: Engine) -> Engine:
    """The same engine for read-only sessions: on SQLite their transactions do not take the write lock."""
    return engine.execution_options(read_only=True)


def _create_private(path: Path) -> None:
    """A new database file is readable by its owner alone (0600): it holds doors, phone numbers and door codes.
    SQLite gives its -wal and -shm files the database file's mode. An existing file is left as it is."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_engine(url: str, echo: bool) -> Engine:
    try:
        import sqlean
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise DatabaseSetupError("The sqlean.py package is missing: pip install 'sqlean.py'") from exc
    from geoalchemy2 import load_spatialite

    os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        _create_private(Path(database))
    # A connection per request thread (anyio's pool has 40) and per worker job, all kept: an overflow connection is
    # closed when returned, and opening one loads SpatiaLite again (profiled at ~3% of the server's time under load).
    # Writers still take turns below.
    engine = create_engine(
        url, module=sqlean, echo=echo, connect_args={"timeout": 30}, pool_size=REQUEST_THREADS + 8, max_overflow=16
    )
    load = partial(load_spatialite, transaction=True, init_mode="WGS84")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        # We issue BEGIN ourselves (below): the driver's implicit BEGIN is DEFERRED, and a deferred
        # transaction that later writes fails with SQLITE_BUSY instead of waiting its turn.
        dbapi_conn.isolation_level = None
        try:
            load(dbapi_conn, record)
        except Exception as exc:
            raise DatabaseSetupError(
                "SQLite could not load the SpatiaLite extension (mod_spatialite). On Debian/Ubuntu: "
                "apt-get install libsqlite3-mod-spatialite; on macOS: brew install libspatialite; or set "
                "SPATIALITE_LIBRARY_PATH to the library's full path. Or use PostgreSQL+PostGIS with "
                f"DATABASE_URL=postgresql+psycopg://... ({exc})"
            ) from exc
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    # Writers of this process queue, first come first served, rather than on SQLite's busy handler, which sleeps
    # 1, 2, 5, 10 ... 100 ms between tries: with a few dozen request threads and the worker wanting the write lock
    # at once, those sleeps (not the work) set the latency. Other processes still meet the busy handler.
    write_lock = TurnLock()
    # Between processes (a sending process beside the server, several workers): a file lock, not the busy handler.
    file_turn = FileTurn(Path(f"{database}-writers")) if database and database != ":memory:" else None
    if file_turn is not None:
        weakref.finalize(engine, file_turn.close)

    def _take_turn() -> None:
        if not write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
            raise DatabaseBusyError(f"no write turn within {WRITE_LOCK_TIMEOUT_S:g} s")
        if file_turn is not None and not file_turn.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
            write_lock.release()
            raise DatabaseBusyError(f"another process kept the write turn for over {WRITE_LOCK_TIMEOUT_S:g} s")

    def _give_turn() -> None:
        try:
            if file_turn is not None:
                file_turn.release()
        finally:
            write_lock.release()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers (engine.execution_options(read_only=True)) take a WAL snapshot and never block writers.
        if conn.get_execution_options().get("read_only"):
            conn.exec_driver_sql("BEGIN")
            return
        _take_turn()
        conn.info[_HOLDS_WRITE_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            conn.info.pop(_HOLDS_WRITE_LOCK, None)
            _give_turn()
            raise

    def _finish(dbapi_conn: Any, info: dict[str, Any], end: str) -> None:
        # SQLAlchemy's commit/rollback events run before the driver's; end the transaction here so that the next
        # writer never finds SQLite still locked (the driver's own call is then a no-op outside a transaction).
        if info.pop(_HOLDS_WRITE_LOCK, False):
            try:
                getattr(dbapi_conn, end)()
            finally:
                _give_turn()

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        _finish(conn.connection.dbapi_connection, conn.info, "commit")

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        _finish(conn.connection.dbapi_connection, conn.info, "rollback")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn: Any, record: Any) -> None:
        if dbapi_conn is not None:  # a connection invalidated mid-transaction comes back as None
            _finish(dbapi_conn, record.info, "rollback")
        elif record.info.pop(_HOLDS_WRITE_LOCK, False):
            _give_turn()

    return engine


def make_engine(url: str, *, echo: bool = False) -> Engine:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo)
    if backend == "postgresql":
        if make_url(url).get_driver_name() != "psycopg":
            raise DatabaseSetupError("Use the psycopg 3 driver: postgresql+psycopg://user:pass@host/db")
        # Kept connections for most request threads: a new one forks a PostgreSQL backend. Two app processes stay
        # within PostgreSQL's default max_connections (100).
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=REQUEST_THREADS, max_overflow=8)
    raise DatabaseSetupError(
        f"Unsupported DATABASE_URL backend {backend!r}: use sqlite:///path or postgresql+psycopg://..."
    )
