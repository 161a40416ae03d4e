"""Write turns on SQLite: first come, first served among the writers of one process; a file lock between processes.

`threading.Lock` is not fair: a thread that releases it and asks again at once (the worker going from one due timer
to the next) usually wins again, before a woken waiter is scheduled. Under load that starved the request threads
until their clients gave up. Here the releasing thread hands the lock to the longest waiter, so everyone gets a turn
in order of asking.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import deque
from pathlib import Path


class TurnLock:
    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._queue: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float = -1) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._queue.append(turn)
        if turn.acquire(timeout=timeout):
            return True  # handed over by release()
        with self._mutex:
            try:
                self._queue.remove(turn)
            except ValueError:
                return True  # handed over just as we gave up: the lock is ours
            return False

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of an unheld TurnLock")
            if self._queue:
                self._queue.popleft().release()  # ownership passes directly: nobody can barge in between
            else:
                self._held = False


class FileTurn:
    """The write turn across processes on one SQLite file: an exclusive `flock` on a file beside it.

    SQLite itself makes a writer of another process poll (its busy handler sleeps 1, 2, 5 ... 100 ms between
    tries), so two processes whose writes take a few milliseconds each spent most of their time asleep: sending
    from a second process made the pipeline slower, with the machine half idle. Here a waiter retries every
    fraction of a millisecond and gets the turn within about one of its release. The kernel drops the lock of a
    process that dies, so a crash never leaves the database locked. One per engine, used under its TurnLock (one
    holder per process at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        pause = 0.0001
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)
