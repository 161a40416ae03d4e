"""A value read from the database and kept for a while: re-read at most once per `every` of the clock given."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


class Refreshed(Generic[T]):
    """One per process. `fresh` returns the last read while it is younger than `every` and was made for the same
    key; otherwise it reads again. A clock that went back (a test's fake clock) also reads again."""

    def __init__(self, every: timedelta) -> None:
        self.every = every
        self._read: tuple[datetime, Hashable, T] | None = None

    def fresh(self, now: datetime, read: Callable[[], T], key: Hashable = None) -> T:
        last = self._read  # one read: another thread may replace it meanwhile, never half-way
        if last is not None and last[1] == key and last[0] <= now < last[0] + self.every:
            return last[2]
        value = read()
        self._read = (now, key, value)
        return value

    def amend(self, change: Callable[[T], T], key: Hashable = None) -> None:
        """Change the kept value in place of a re-read (what this process has just learnt); not its age."""
        last = self._read
        if last is not None and last[1] == key:
            self._read = (last[0], key, change(last[2]))

    def forget(self) -> None:
        self._read = None
