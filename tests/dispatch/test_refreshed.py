"""A value read from the database and kept a few seconds (answer histories, spent alert budgets)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.escalation.budget import SpentBudgets
from dispatch.refreshed import Refreshed

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def counting_reader(values: list[frozenset[str]]):  # type: ignore[no-untyped-def]
    reads: list[int] = []

    def read() -> frozenset[str]:
        reads.append(1)
        return values[len(reads) - 1]

    return read, reads


def test_a_kept_value_is_re_read_only_once_it_is_older_than_its_refresh() -> None:
    kept: Refreshed[frozenset[str]] = Refreshed(timedelta(seconds=5))
    read, reads = counting_reader([frozenset({"V1"}), frozenset({"V2"})])
    assert kept.fresh(T0, read) == {"V1"}
    assert kept.fresh(T0 + timedelta(seconds=4.9), read) == {"V1"}
    assert kept.fresh(T0 + timedelta(seconds=5), read) == {"V2"}
    assert len(reads) == 2


def test_what_the_process_learns_meanwhile_is_kept_until_the_next_read() -> None:
    kept: Refreshed[frozenset[str]] = Refreshed(timedelta(seconds=5))
    read, reads = counting_reader([frozenset({"V1"}), frozenset({"V3"})])
    kept.fresh(T0, read)
    kept.amend(lambda spent: spent | {"V2"})
    assert kept.fresh(T0 + timedelta(seconds=1), read) == {"V1", "V2"}, "amended, not re-read"
    assert kept.fresh(T0 + timedelta(seconds=6), read) == {"V3"}, "amending does not make the value younger"
    assert len(reads) == 2


def test_an_amendment_for_another_key_or_before_any_read_is_dropped() -> None:
    kept: Refreshed[frozenset[str]] = Refreshed(timedelta(seconds=5))
    kept.amend(lambda spent: spent | {"V2"})
    read, _ = counting_reader([frozenset({"V1"})])
    assert kept.fresh(T0, read, key=12) == {"V1"}
    kept.amend(lambda spent: spent | {"V2"}, key=40)
    assert kept.fresh(T0, read, key=12) == {"V1"}


def test_people_found_over_their_alert_budget_are_skipped_by_the_next_searches() -> None:
    budgets = SpentBudgets()
    budgets.fresh(T0, lambda: frozenset({"V1"}), key=12)  # what `get` does with the day's pages
    budgets.add(frozenset({"V7"}), 12)
    budgets.add(frozenset(), 12)
    assert budgets.fresh(T0, lambda: frozenset(), key=12) == {"V1", "V7"}
