"""The dispatch core as a specification: whom it pages, whom it stands down, what it tells the resident, and when it
wakes up again. Pure: no database, no clock. The property tests drive it with any sequence of answers, failures,
arrivals and ticks, carrying each decision out the way the runner does."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.escalation.decision import Decision, Notice, ResidentNotice, next_step
from dispatch.escalation.lifecycle import AWAITING, GOING, PageStatus, Role
from dispatch.escalation.rules import Rules, Step, SupportRole
from dispatch.escalation.snapshot import (
    Accepted,
    Arrived,
    ChainAction,
    Closed,
    ConfirmedOnScene,
    Declined,
    Event,
    Offer,
    PageView,
    Pressed,
    Progress,
    Snapshot,
    StaffMember,
    Tick,
    Unreachable,
)
from dispatch.incidents.states import CLOSED, Status

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
RULES = Rules(
    steps=(
        Step("wave", 3),
        Step("wave", 5),
        Step("building_leader"),
        Step("grid_branch"),
        Step("duty_officer", channels=("sms", "voice")),
    ),
    support_roles=(SupportRole(Role.AED_FETCHER),),
)
CHAIN = (
    StaffMember("S-B1", ChainAction.BUILDING_LEADER),
    StaffMember("S-G1", ChainAction.GRID_BRANCH),
    StaffMember("S-G2", ChainAction.GRID_BRANCH),
    StaffMember("S-D1", ChainAction.DUTY_OFFICER),
)


def responders(n: int, *, same_building: int = 0) -> tuple[Offer, ...]:
    return tuple(
        Offer(f"V{i:02d}", Role.RESPONDER, 60.0 + 30 * i, same_building=i >= n - same_building) for i in range(n)
    )


def fetchers(n: int) -> tuple[Offer, ...]:
    return tuple(Offer(f"A{i:02d}", Role.AED_FETCHER, 200.0 + 30 * i) for i in range(n))


def pressed(
    offers: tuple[Offer, ...] = (), *, out_of_area: bool = False, chain: tuple[StaffMember, ...] = CHAIN
) -> Snapshot:
    return Snapshot("I1", Status.REPORTED, T0, out_of_area, not out_of_area, offers=offers, chain=chain)


def carry_out(snap: Snapshot, decision: Decision, now: datetime) -> Snapshot:
    """What the runner does with a decision, on the snapshot instead of the database."""
    pages = {p.person_id: p for p in snap.pages}
    for order in decision.pages:
        if order.repeat:
            pages[order.person_id] = replace(pages[order.person_id], times_paged=pages[order.person_id].times_paged + 1)
            continue
        offer = next((o for o in snap.offers if o.person_id == order.person_id), None)
        pages[order.person_id] = PageView(
            order.person_id, order.kind, order.role, PageStatus.PAGED, now,  # type: ignore[arg-type]
            offer.eta_s if offer else None, qualified=order.role is Role.RESPONDER and order.kind == "vanguard",
        )  # fmt: skip
    for person, status in decision.changes:
        page = pages[person]
        extra: dict[str, object] = {}
        if status is PageStatus.ACCEPTED and page.accepted_at is None:
            extra["accepted_at"] = now
        pages[person] = replace(page, status=status, **extra)  # type: ignore[arg-type]
    progress = snap.progress
    for type_, detail in decision.marks:
        progress = progress.after(type_, now, detail)
    paged = {o.person_id for o in decision.pages}
    return replace(
        snap,
        status=decision.status or snap.status,
        pages=tuple(pages.values()),
        offers=tuple(o for o in snap.offers if o.person_id not in paged),
        progress=progress,
    )


def run(snap: Snapshot, *steps: tuple[float, Event]) -> tuple[Snapshot, list[Decision]]:
    decisions = []
    for at_s, event in steps:
        now = T0 + timedelta(seconds=at_s)
        decision = next_step(snap, [event], now, RULES)
        decisions.append(decision)
        snap = carry_out(snap, decision, now)
    return snap, decisions


def paged(d: Decision) -> list[str]:
    return [o.person_id for o in d.pages]


def told(d: Decision, notice: Notice) -> list[str]:
    return [p for p, n in d.messages if n is notice]


def status_of(snap: Snapshot, person: str) -> PageStatus:
    page = snap.page(person)
    assert page is not None
    return page.status


# --- t = 0 -----------------------------------------------------------------------------------------------------


def test_a_press_pages_the_nearest_skilled_the_aed_fetcher_the_building_people_and_the_leader_at_once() -> None:
    _snap, [d] = run(pressed(responders(10, same_building=2) + fetchers(2)), (0, Pressed()))
    assert paged(d) == ["A00", "V08", "V09", "V00", "V01", "V02", "S-B1"]
    assert d.status is Status.DISPATCHING
    assert {o.reason for o in d.pages} == {"support", "building", "wave", "chain"}
    assert d.wake_at == T0 + timedelta(seconds=30)  # the second wave


def test_out_of_area_goes_to_the_duty_officer_and_tells_the_resident_to_call_120_at_once() -> None:
    _snap, [d] = run(pressed(responders(5), out_of_area=True), (0, Pressed()))
    assert paged(d) == ["S-D1"]
    assert d.resident == (ResidentNotice.CALL_120_NOW,)


# --- going / not going -------------------------------------------------------------------------------------------


def test_several_accept_the_soonest_is_primary_the_others_keep_coming_as_backup() -> None:
    snap, ds = run(pressed(responders(6)), (0, Pressed()), (10, Accepted("V02")), (12, Accepted("V00")))
    assert told(ds[1], Notice.DOOR_PRIMARY) == ["V02"]
    assert told(ds[2], Notice.DOOR_PRIMARY) == ["V00"]  # due a minute sooner
    assert told(ds[2], Notice.NOW_BACKUP) == ["V02"]
    assert status_of(snap, "V02") is PageStatus.ACCEPTED
    assert status_of(snap, "V01") is PageStatus.PAGED  # nobody stood down yet
    assert ds[2].changes == ((("V00", PageStatus.ACCEPTED)),)


def test_only_a_qualified_responder_on_scene_stands_the_others_down_and_never_the_aed_fetcher() -> None:
    snap, ds = run(
        pressed(responders(6) + fetchers(2)),
        (0, Pressed()),
        (10, Accepted("V01")),
        (12, Accepted("V02")),
        (15, Accepted("S-B1")),  # the building leader takes it on: stands nobody down
        (100, Arrived("V01")),
    )
    assert not told(ds[3], Notice.STOOD_DOWN)
    arrived = ds[4]
    assert set(told(arrived, Notice.STOOD_DOWN)) == {"V00"}
    assert told(arrived, Notice.THANKS_ARRIVED) == ["V02"]
    assert status_of(snap, "A00") is PageStatus.PAGED
    assert arrived.status is Status.ON_SCENE
    assert ("qualified_on_scene", {"person": "V01"}) in arrived.marks


def test_the_aed_role_is_filled_by_its_own_acceptance_only() -> None:
    snap, ds = run(pressed(responders(4) + fetchers(3)), (0, Pressed()), (20, Accepted("A00")))
    assert told(ds[1], Notice.DOOR_SUPPORT) == ["A00"]
    assert ds[1].status is None  # the responder is still being sought
    snap, ds = run(snap, (25, Declined("V00")))
    assert "A01" not in paged(ds[0])


def test_a_grid_worker_naming_the_accepter_on_scene_records_them_arrived_but_leaves_the_aed_fetcher() -> None:
    snap, _ds = run(
        pressed(responders(4) + fetchers(2)),
        (0, Pressed()),
        (10, Accepted("V00")),
        (50, ConfirmedOnScene("staff:G", "V00")),
    )
    assert status_of(snap, "V00") is PageStatus.ON_SCENE
    assert status_of(snap, "A00") is PageStatus.PAGED


def test_a_grid_workers_on_scene_naming_nobody_is_not_a_qualified_responder_and_stands_nobody_down() -> None:
    snap, ds = run(pressed(responders(4)), (0, Pressed()), (10, Accepted("V00")), (50, ConfirmedOnScene("staff:G")))
    assert ds[-1].status is Status.ON_SCENE
    assert not snap.progress.qualified_on_scene and not told(ds[-1], Notice.STOOD_DOWN)
    assert status_of(snap, "V00") is PageStatus.ACCEPTED


def test_a_decline_or_a_failed_alert_pages_the_next_candidate_at_once() -> None:
    snap, ds = run(pressed(responders(8)), (0, Pressed()), (5, Declined("V00")), (6, Unreachable("V01")))
    assert paged(ds[1]) == ["V03"]
    assert told(ds[1], Notice.DECLINE_ACK) == ["V00"]
    assert paged(ds[2]) == ["V04"]
    assert status_of(snap, "V01") is PageStatus.FAILED


# --- no-shows ----------------------------------------------------------------------------------------------------


def test_a_primary_not_there_by_eta_times_factor_plus_margin_lapses_the_backup_is_promoted_and_a_wave_opens() -> None:
    snap, ds = run(pressed(responders(12)), (0, Pressed()), (5, Accepted("V00")), (6, Accepted("V01")))
    # Two on the way: no more waves. V00 (eta 60 s, accepted at 5 s) is a no-show from 5 + 60 * 1.5 + 60 = 155 s.
    assert ds[2].wake_at == T0 + timedelta(seconds=155)
    snap, [before] = run(snap, (154, Tick()))
    assert not told(before, Notice.LAPSED)
    snap, [after] = run(snap, (155, Tick()))
    assert told(after, Notice.LAPSED) == ["V00"]
    assert told(after, Notice.PROMOTED) == ["V01"]
    assert status_of(snap, "V00") is PageStatus.LAPSED
    assert after.pages  # the next wave at once


def test_a_lapsed_primary_who_turns_up_is_on_scene() -> None:
    snap, _ = run(pressed(responders(4)), (0, Pressed()), (5, Accepted("V00")), (200, Tick()), (210, Arrived("V00")))
    assert status_of(snap, "V00") is PageStatus.ON_SCENE
    assert snap.progress.qualified_on_scene


# --- the chain and the resident ----------------------------------------------------------------------------------


def test_nobody_accepts_the_resident_is_told_to_call_120_and_the_chain_climbs_and_rotates_with_a_bound() -> None:
    snap, ds = run(pressed(responders(2)), (0, Pressed()))
    wakes = []
    for _ in range(40):
        at = ds[-1].wake_at
        assert at is not None
        wakes.append((at - T0).total_seconds())
        snap, more = run(snap, ((at - T0).total_seconds(), Tick()))
        ds += more
    told_120 = [i for i, d in enumerate(ds) if ResidentNotice.CALL_120_NOW in d.resident]
    assert len(told_120) == 1 and wakes[told_120[0] - 1] == 90
    chain_pages = [o.person_id for d in ds for o in d.pages if o.kind == "staff"]
    assert chain_pages.count("S-D1") == RULES.chain_repeat_max
    assert chain_pages.index("S-G1") < chain_pages.index("S-D1")
    assert snap.progress.chain_exhausted
    repaged = [at for at, d in zip([0.0, *wakes], ds, strict=False) if any(o.repeat for o in d.pages)]
    gaps = [b - a for a, b in itertools.pairwise(repaged)]
    assert gaps == sorted(gaps) and gaps[0] < gaps[-1]  # backoff
    assert len(repaged) == len(CHAIN) * (RULES.chain_repeat_max - 1)


def test_a_closed_incident_tells_everyone_still_paged_and_schedules_nothing() -> None:
    _snap, ds = run(pressed(responders(4)), (0, Pressed()), (10, Accepted("V00")), (20, Closed(Status.CANCELLED)))
    assert set(told(ds[2], Notice.CLOSED)) == {"V00", "V01", "V02", "S-B1"}
    assert ds[2].wake_at is None


# --- properties --------------------------------------------------------------------------------------------------

PEOPLE = [f"V{i:02d}" for i in range(10)] + ["A00", "A01", "S-B1", "S-G1", "S-D1"]
events = st.one_of(
    st.builds(Accepted, st.sampled_from(PEOPLE)),
    st.builds(Declined, st.sampled_from(PEOPLE)),
    st.builds(Unreachable, st.sampled_from(PEOPLE), st.sampled_from(["failed", "no_answer"])),
    st.builds(Arrived, st.sampled_from(PEOPLE)),
    st.just(Tick()),
    st.just(ConfirmedOnScene("staff:G")),
    st.builds(ConfirmedOnScene, st.just("staff:G"), st.sampled_from(PEOPLE)),
)
story = st.lists(st.tuples(st.floats(0, 400), events), max_size=30)


@settings(max_examples=300, deadline=None)
@given(story, st.booleans(), st.integers(0, 10))
def test_invariants_hold_for_any_sequence_of_answers_failures_arrivals_and_ticks(
    steps: list[tuple[float, Event]], out_of_area: bool, n_offers: int
) -> None:
    snap = pressed(responders(n_offers, same_building=min(2, n_offers)) + fetchers(2), out_of_area=out_of_area)
    now = T0
    history: list[tuple[datetime, Snapshot, Decision, Snapshot]] = []
    for gap, event in [(0.0, Pressed()), *steps, (0.0, Closed(Status.RESOLVED))]:
        now += timedelta(seconds=gap)
        decision = next_step(snap, [event], now, RULES)
        after = carry_out(snap, decision, now)
        history.append((now, snap, decision, after))
        snap = after
    pages_per_person: dict[str, int] = {}
    for at, before, d, after in history:
        for order in d.pages:
            # Never two pages to one person for one incident; only the staff rotation asks someone again.
            assert order.repeat == (before.page(order.person_id) is not None)
            assert not order.repeat or order.kind == "staff"
            pages_per_person[order.person_id] = pages_per_person.get(order.person_id, 0) + 1
        if after.status in CLOSED:
            assert d.wake_at is None
            continue
        # Every open incident always has a next timer, after the present.
        assert d.wake_at is not None and d.wake_at > at
        for person, status in d.changes:
            if status is not PageStatus.STOOD_DOWN:
                continue
            page = after.page(person)
            assert page is not None
            if page.role.is_support:  # only when its own role is filled: the AED still comes
                assert any(p.role is page.role and p.status in GOING for p in after.pages)
            else:  # nobody is stood down before a qualified responder is on scene
                assert after.progress.qualified_on_scene
    # The chain never pages one person more often than the policy allows.
    assert all(n <= RULES.chain_repeat_max for p, n in pages_per_person.items() if p.startswith("S-"))


def test_every_open_incident_has_a_timer_after_the_present() -> None:
    snap = pressed(responders(3))
    for now_s in (0, 10, 95, 5000):
        now = T0 + timedelta(seconds=now_s)
        d = next_step(snap, [Tick()], now, RULES)
        assert d.wake_at is not None and d.wake_at > now
        snap = carry_out(snap, d, now)
    assert isinstance(snap.progress, Progress)
    assert all(p.status in AWAITING for p in snap.pages)
