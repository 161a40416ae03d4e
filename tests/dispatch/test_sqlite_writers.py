"""SQLite writers take turns, in one process on an in-process lock and between processes on a file lock (not on
the busy handler's sleeps): no lost update, no busy error, a failed transaction gives its turn back, and readers
never wait for a turn."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from dispatch.db.engine import make_engine, reader
from dispatch.settings import REPO_ROOT


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


def count(engine: Engine) -> int:
    with reader(engine).connect() as conn:
        return int(conn.execute(text("SELECT n FROM counter")).scalar_one())


def increment_in_a_thread(engine: Engine) -> threading.Event:
    """Start one writer in its own thread; the event is set once its write committed."""
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE counter SET n = n + 1"))
        done.set()

    threading.Thread(target=write).start()
    return done


def test_eight_threads_of_read_modify_write_lose_no_update(engine: Engine) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(40):
                with engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                    conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(engine) == 320


def test_a_failed_write_gives_its_turn_back(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("UPDATE counter SET n = 99"))
        raise RuntimeError("the request failed half-way")
    done = increment_in_a_thread(engine)
    assert done.wait(5), "the next writer got its turn"
    assert count(engine) == 1, "the failed write was rolled back"


def test_a_reader_does_not_wait_for_a_writers_turn(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE counter SET n = 5"))
        seen: list[int] = []
        t = threading.Thread(target=lambda: seen.append(count(engine)))
        t.start()
        t.join(5)
        assert seen == [0], "a snapshot from before the uncommitted write, at once"
    assert count(engine) == 5


def test_a_writer_waits_for_another_processs_turn_and_goes_as_soon_as_it_is_given_back(
    engine: Engine, tmp_path: Path
) -> None:
    other_process = os.open(tmp_path / "writers.sqlite-writers", os.O_RDWR)  # its own open file: another holder
    fcntl.flock(other_process, fcntl.LOCK_EX)
    done = increment_in_a_thread(engine)
    assert not done.wait(0.3), "the other process has the turn"
    given_back = time.monotonic()
    fcntl.flock(other_process, fcntl.LOCK_UN)
    assert done.wait(5)
    assert time.monotonic() - given_back < 0.1, "taken within milliseconds, not after a busy-handler sleep"
    os.close(other_process)
    assert count(engine) == 1


def test_two_processes_writing_at_once_lose_no_update(engine: Engine, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'writers.sqlite'}"
    script = (
        "import sys; from sqlalchemy import text; from dispatch.db.engine import make_engine\n"
        "engine = make_engine(sys.argv[1])\n"
        "for _ in range(150):\n"
        "    with engine.begin() as conn:\n"
        "        n = conn.execute(text('SELECT n FROM counter')).scalar_one()\n"
        "        conn.execute(text('UPDATE counter SET n = :n'), {'n': n + 1})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, url], cwd=REPO_ROOT) for _ in range(2)]
    assert [p.wait(120) for p in procs] == [0, 0]
    assert count(engine) == 300
