"""How likely a vanguard is to accept an alert now: their prior, corrected by what they actually answered.

Published programmes see 23-46 % acceptance, and it varies by person and by hour (asleep at 03:00, at work at
10:00). Paging by distance alone wastes alerts on people who never answer at that hour. The estimate is a
Beta-Bernoulli update, twice: the roster prior (vanguards.csv `accept_rate`) corrected by the person's whole
record, then that corrected by their record within an hour of the same local time of day. Few answers move it
little; many answers dominate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import LOCAL_TZ
from dispatch.incidents.models import Page
from dispatch.refreshed import Refreshed

# Pseudo-answers the prior is worth: five real answers weigh as much as the roster's guess.
PRIOR_WEIGHT = 5.0
FLOOR, CEILING = 0.02, 0.98
# Answers older than this say little about the person now (moved, retired, new job).
HISTORY_DAYS = 180
# A page counts as "yes" if the person said yes (even too late), "no" if they declined or let it pass.
_YES = frozenset({"accepted", "late"})
_NO = frozenset({"declined", "stood_down"})


@dataclass
class AnswerHistory:
    """Alerts a person answered, by local hour of the alert (0-23)."""

    offers: list[int] = field(default_factory=lambda: [0] * 24)
    accepted: list[int] = field(default_factory=lambda: [0] * 24)

    def add(self, hour: int, accepted: bool) -> None:
        self.offers[hour] += 1
        self.accepted[hour] += int(accepted)


def _beta_mean(prior: float, yes: float, total: float) -> float:
    return (prior * PRIOR_WEIGHT + yes) / (PRIOR_WEIGHT + total)


def acceptance_probability(prior: float, history: AnswerHistory | None, when: datetime) -> float:
    """The chance this person accepts an alert sent at `when` (aware datetime). Pure."""
    prior = min(CEILING, max(FLOOR, prior))
    if history is None:
        return prior
    overall = _beta_mean(prior, sum(history.accepted), sum(history.offers))
    hour = when.astimezone(LOCAL_TZ).hour
    near = [(hour + d) % 24 for d in (-1, 0, 1)]
    at_hour = _beta_mean(overall, sum(history.accepted[h] for h in near), sum(history.offers[h] for h in near))
    return min(CEILING, max(FLOOR, at_hour))


def load_histories(
    session: Session, vanguard_ids: Iterable[str] | None = None, since: datetime | None = None
) -> dict[str, AnswerHistory]:
    """Answered alerts from the pages table, in one query: of these vanguards (default: all), since `since`."""
    query = select(Page.person_id, Page.status, Page.paged_at).where(
        Page.person_kind == "vanguard", Page.status.in_(sorted(_YES | _NO))
    )
    if vanguard_ids is not None:
        ids = sorted(set(vanguard_ids))
        if not ids:
            return {}
        query = query.where(Page.person_id.in_(ids))
    if since is not None:
        query = query.where(Page.paged_at >= since)
    out: dict[str, AnswerHistory] = {}
    for person_id, status, paged_at in session.execute(query):
        out.setdefault(person_id, AnswerHistory()).add(paged_at.astimezone(LOCAL_TZ).hour, status in _YES)
    return out


# How stale a ranking's acceptance estimates may be. An estimate moves little with one more answer, and re-reading
# every answer of the last 180 days for every wave made matching slower as the pages table grew.
HISTORY_REFRESH = timedelta(seconds=60)


class HistoryCache(Refreshed[dict[str, AnswerHistory]]):
    """Everyone's answer history, re-read from the pages table at most once per `refresh` (of the clock given).
    One per process; a stale read only ranks two similar people differently for up to a minute."""

    def __init__(self, refresh: timedelta = HISTORY_REFRESH) -> None:
        super().__init__(refresh)

    def get(self, session: Session, now: datetime) -> dict[str, AnswerHistory]:
        return self.fresh(now, lambda: load_histories(session, since=now - timedelta(days=HISTORY_DAYS)))
