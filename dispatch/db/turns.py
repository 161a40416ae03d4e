"""A first-come, first-served lock for the writers of one process.

`threading.Lock` is not fair: a thread that releases it and asks again at once (the worker going from one due timer
to the next) usually wins again, before a woken waiter is scheduled. Under load that starved the request threads
until their clients gave up. Here the releasing thread hands the lock to the longest waiter, so everyone gets a turn
in order of asking.
"""

from __future__ import annotations

import threading
from collections import deque


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
