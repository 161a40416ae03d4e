"""The daily alert budget: nobody is paged endlessly. Who has spent it, read cheaply enough for a busy day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.incidents.models import Page
from dispatch.refreshed import Refreshed


def spent_today(session: Session, now: datetime, budget: int) -> frozenset[str]:
    """Every vanguard alerted `budget` times in the last day (the last day's pages only, by index)."""
    rows = session.scalars(
        select(Page.person_id)
        .where(Page.person_kind == "vanguard", Page.paged_at > now - timedelta(days=1))
        .group_by(Page.person_id)
        .having(func.count() >= budget)
    )
    return frozenset(rows)


class SpentBudgets(Refreshed[frozenset[str]]):
    """`spent_today`, re-read at most every few seconds: on a busy day most people are spent, and finding that
    out one search round at a time made every wave slower exactly when incidents crowd in. The chosen are still
    checked one by one (`over_budget`), so a stale read never pages anyone over the budget."""

    def __init__(self, refresh: timedelta = timedelta(seconds=5)) -> None:
        super().__init__(refresh)

    def get(self, session: Session, now: datetime, budget: int) -> frozenset[str]:
        return self.fresh(now, lambda: spent_today(session, now, budget), key=budget)

    def add(self, people: frozenset[str], budget: int) -> None:
        """People found over the budget since the last read: the next searches skip them without asking again."""
        if people:
            self.amend(lambda spent: spent | people, key=budget)


def over_budget(session: Session, person_ids: list[str], now: datetime, budget: int) -> frozenset[str]:
    """Vanguards already alerted `budget` times in the last day: nobody is paged endlessly."""
    if not person_ids:
        return frozenset()
    rows = session.execute(
        select(Page.person_id, func.count())
        .where(Page.person_id.in_(person_ids), Page.paged_at > now - timedelta(days=1))
        .group_by(Page.person_id)
    ).all()
    return frozenset(person for person, count in rows if count >= budget)
