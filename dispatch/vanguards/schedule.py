"""Weekly on-call windows in local time (Asia/Shanghai), as written in vanguards.csv and staff.csv.

Format: entries separated by ";", each "DAYS HH:MM-HH:MM" where DAYS is a day (Mon..Sun) or a range ("Mon-Fri").
An end earlier than the start runs past midnight into the next day; "00:00-24:00" is the whole day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from dispatch.clock import LOCAL_TZ

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_WEEK = 7 * 24 * 60
_ENTRY = re.compile(r"^(?P<d1>[A-Z][a-z]{2})(?:-(?P<d2>[A-Z][a-z]{2}))?\s+(?P<t1>\d{1,2}:\d{2})-(?P<t2>\d{1,2}:\d{2})$")


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class WeeklySchedule:
    """Minute-of-week intervals [start, end) with 0 = Monday 00:00 local time; wrapped intervals are split."""

    intervals: tuple[tuple[int, int], ...]

    def covers(self, when: datetime) -> bool:
        return self.covers_minute(minute_of_week(when))

    def covers_minute(self, minute: int) -> bool:
        return any(start <= minute < end for start, end in self.intervals)


def minute_of_week(when: datetime) -> int:
    local = when.astimezone(LOCAL_TZ)
    return local.weekday() * 1440 + local.hour * 60 + local.minute


def _minutes(text: str, entry: str) -> int:
    hours, minutes = (int(v) for v in text.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ScheduleError(f"bad time {text!r} in {entry!r}")
    return hours * 60 + minutes


@lru_cache(maxsize=4096)
def parse_schedule(spec: str) -> WeeklySchedule:
    intervals: list[tuple[int, int]] = []
    for raw in spec.split(";"):
        entry = raw.strip()
        if not entry:
            continue
        m = _ENTRY.match(entry)
        if not m or m["d1"] not in DAYS or (m["d2"] and m["d2"] not in DAYS):
            raise ScheduleError(f"cannot read on-call window {entry!r}; write e.g. 'Mon-Fri 18:30-23:00'")
        first = DAYS.index(m["d1"])
        last = DAYS.index(m["d2"]) if m["d2"] else first
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        start, end = _minutes(m["t1"], entry), _minutes(m["t2"], entry)
        if end > start:
            length = end - start
        elif end == start:
            length = 1440
        else:  # runs past midnight
            length = 1440 - start + end
        for day in days:
            begin = day * 1440 + start
            finish = begin + length
            if finish <= MINUTES_PER_WEEK:
                intervals.append((begin, finish))
            else:
                intervals.append((begin, MINUTES_PER_WEEK))
                intervals.append((0, finish - MINUTES_PER_WEEK))
    return WeeklySchedule(tuple(sorted(intervals)))


def is_on_call(spec: str, when: datetime) -> bool:
    return on_call_at(spec, minute_of_week(when))


@lru_cache(maxsize=1 << 16)
def on_call_at(spec: str, minute: int) -> bool:
    # A search asks this for hundreds of people who share a few dozen schedules, all at the same minute.
    return parse_schedule(spec).covers_minute(minute)
