"""Weekly on-call windows as the generator builds them, and their text form for vanguards.csv and staff.csv.

Text form: entries separated by ";", each "DAYS HH:MM-HH:MM", DAYS a day (Mon..Sun) or a range ("Mon-Fri"), local
time Asia/Shanghai. An end earlier than the start runs past midnight; "Mon-Sun 00:00-24:00" is always on call.
The service reads it with dispatch.vanguards.schedule; the tests check both readings agree.
"""

from __future__ import annotations

from dataclasses import dataclass

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEK = 7 * 1440
SLOT = 30  # minutes; every window starts and ends on a half hour
SLOTS = WEEK // SLOT


@dataclass(frozen=True)
class Window:
    first_day: int  # 0 = Monday
    last_day: int  # >= first_day
    start: int  # minutes after midnight
    end: int  # minutes after midnight, 1..1440; end <= start runs past midnight

    def text(self) -> str:
        days = (
            DAYS[self.first_day] if self.first_day == self.last_day else f"{DAYS[self.first_day]}-{DAYS[self.last_day]}"
        )
        return f"{days} {self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    def slots(self) -> set[int]:
        """The half-hour slots of the week (0 = Monday 00:00-00:30) this window covers."""
        length = self.end - self.start if self.end > self.start else 1440 - self.start + self.end
        return {
            ((day * 1440 + self.start + m) % WEEK) // SLOT
            for day in range(self.first_day, self.last_day + 1)
            for m in range(0, length, SLOT)
        }


ALWAYS = (Window(0, 6, 0, 1440),)


def text(windows: tuple[Window, ...]) -> str:
    return ";".join(w.text() for w in windows)


def slots(windows: tuple[Window, ...]) -> set[int]:
    out: set[int] = set()
    for w in windows:
        out |= w.slots()
    return out
