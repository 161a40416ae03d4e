"""Carrying out escalation steps: choose whom to page, write pages and outbox messages, set the next timer.

Called inside the caller's transaction (intake for step 0, the timer runner for later steps, a decline for a
replacement), so the state change, the messages and the next timer commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.community.models import Household, Staff
from dispatch.context import DispatchContext
from dispatch.directory import BuildingInfo
from dispatch.escalation.budget import over_budget
from dispatch.escalation.policy import Plan, StepSpec
from dispatch.incidents.models import Incident, IncidentEvent, Page
from dispatch.incidents.states import ACTIVE, Status
from dispatch.incidents.transitions import record
from dispatch.matching import Candidate, MatchRules, Ranked, Target, assign_role, select_best
from dispatch.vanguards.acceptance import acceptance_probability
from dispatch.vanguards.schedule import is_on_call
from notify import messages, twiml
from notify.outbox import enqueue
from notify.signatures import public_url


@dataclass(frozen=True)
class Recipient:
    person_id: str
    person_kind: str
    role: str
    name: str
    phone: str
    ranked: Ranked | None = None


def target_of(ctx: DispatchContext, session: Session, incident: Incident) -> Target | None:
    building = ctx.directory.buildings.get(incident.building_id or "")
    floor = 1
    if incident.household_id and incident.location_source == "household":
        household = session.get(Household, incident.household_id)
        floor = household.floor if household else 1
    if incident.location_source == "address":
        # The floor of a typed address ("...2单元501") was recorded when the press was located.
        located = session.scalar(
            select(IncidentEvent.detail).where(
                IncidentEvent.incident_id == incident.id, IncidentEvent.type == "located"
            )
        )
        floor = int(located.get("floor") or 1) if isinstance(located, dict) else 1
    if building is not None and incident.location_source in ("household", "address"):
        return Target(building.x, building.y, floor, building.has_lift)
    if incident.geom is not None:
        from geoalchemy2.shape import to_shape

        p = to_shape(incident.geom)
        x, y = ctx.directory.projector.to_metric(float(p.x), float(p.y))
        return Target(x, y, 1, False)
    return None


def engaged_vanguards(session: Session) -> frozenset[str]:
    """Vanguards who accepted an incident that is still under way: they are busy."""
    rows = session.scalars(
        select(Page.person_id)
        .join(Incident, Incident.id == Page.incident_id)
        .where(
            Page.status == "accepted",
            Page.person_kind == "vanguard",
            Incident.status.in_([Status.ACCEPTED.value, Status.ON_SCENE.value]),
        )
    )
    return frozenset(rows)


def already_paged(session: Session, incident_id: str) -> frozenset[str]:
    return frozenset(session.scalars(select(Page.person_id).where(Page.incident_id == incident_id)))


def choose_vanguards(
    session: Session,
    ctx: DispatchContext,
    incident: Incident,
    plan: Plan,
    size: int,
    now: datetime,
    skip: frozenset[str] = frozenset(),
    with_roles: bool = False,
) -> list[Recipient]:
    """The best `size` responders by ETA on foot (weighted by how likely each accepts); `with_roles` (the first
    wave), the kind's support roles (an AED fetcher, a carrier) first, chosen from people not in the wave."""
    target = target_of(ctx, session, incident)
    if target is None or size <= 0:
        return []
    directory = ctx.directory
    rules = MatchRules.from_plan(plan)
    directory.expire_positions(now, rules.live_position_max_age_s)
    excluded = engaged_vanguards(session) | already_paged(session, incident.id) | skip
    field = directory.walk_field(target)
    walk = field.to_many if field is not None else None

    history = directory.answers.get(session, now)
    p_max = directory.acceptance_ceiling(history, now)

    def acceptance(chunk: Sequence[Candidate]) -> dict[str, float]:
        return {c.vanguard_id: acceptance_probability(c.accept_rate, history.get(c.vanguard_id), now) for c in chunk}

    def best(skills: tuple[str, ...], count: int, skip: frozenset[str]) -> list[Ranked]:
        wanted = replace(plan, skills=skills)
        near = directory.candidates_near(target, skills, now)
        return select_best(
            target, near, wanted, now, count, excluded=skip, walk=walk, acceptance=acceptance, p_max=p_max
        )

    ranked = best(plan.skills, size, excluded)
    roles: list[Ranked] = []
    if with_roles and rules.roles:
        first_wave = plan.steps[0].size if plan.steps else size
        taken = frozenset(r.candidate.vanguard_id for r in ranked[: max(0, first_wave - len(rules.roles))])
        for spec in rules.roles:
            # Fetchers come from the 20 best by direct ETA: anyone further down arrives late even without a detour.
            pool = best(spec.skills, max(20, spec.count), excluded | taken)[: max(20, spec.count)]
            chosen = assign_role(
                spec, target, pool, taken, plan, weight=rules.acceptance_weight, aeds=directory.aeds,
                from_aeds=directory.from_aeds if directory.walking is not None else None,
            )  # fmt: skip
            roles.extend(chosen)
            taken |= {r.candidate.vanguard_id for r in chosen}
        in_roles = {r.candidate.vanguard_id for r in roles}
        ranked = [r for r in ranked if r.candidate.vanguard_id not in in_roles]
    return [
        Recipient(r.candidate.vanguard_id, "vanguard", r.role, r.candidate.name, r.candidate.phone, r)
        for r in [*roles, *ranked][: size + len(roles)]
    ]


def _staff(session: Session, now: datetime, *where: object, fallback_all: bool = False) -> list[Staff]:
    people = list(session.scalars(select(Staff).where(*where).order_by(Staff.id)))  # type: ignore[arg-type]
    on_call = [s for s in people if is_on_call(s.on_call, now)]
    return on_call or (people if fallback_all else [])


def choose_staff(session: Session, incident: Incident, spec: StepSpec, now: datetime, repeat: bool) -> list[Recipient]:
    if spec.action == "building_leader":
        if not incident.building_id:
            return []
        staff = _staff(
            session, now, Staff.role == "building_leader", Staff.building_id == incident.building_id, fallback_all=True
        )
    elif spec.action == "grid_branch":
        if not incident.grid_id:
            return []
        staff = _staff(
            session, now, Staff.role.in_(["grid_secretary", "grid_worker"]), Staff.grid_id == incident.grid_id
        )
    else:
        # The last line of defence: if nobody is rostered now, every duty officer is called.
        staff = _staff(session, now, Staff.role == "duty_officer", fallback_all=True)
    paged = already_paged(session, incident.id)
    return [Recipient(s.id, "staff", s.role, s.name, s.phone) for s in staff if repeat or s.id not in paged]


def describe_place(building: BuildingInfo | None, incident: Incident) -> tuple[str, str]:
    if building is None:
        return ("社区外位置（见地图）", "a place outside the community (see map)")
    zone = f"{building.zone_name} " if building.zone_name else ""
    return (f"{zone}{building.address}", building.address_en)


def _alert_twiml(ctx: DispatchContext, facts: messages.AlertFacts, role: str, page_id: int, tag: str) -> str:
    # The tag makes every call's TwiML unique, like every SMS: a re-send check after a crash compares bodies.
    action = public_url(ctx.public_base_url, "/webhooks/twilio/voice/gather", f"page={page_id}&tag={tag}")
    zh, en = messages.alert_speech(facts, role)
    return twiml.accept_prompt_twiml(zh, en, action)


# A support role is asked for something else than the responder: say so in the alert itself.
SUPPORT_ASK_ZH = {"aed_fetcher": "（请您顺路取AED送达）", "carrier": "（需要帮忙搬运）"}
SUPPORT_ASK_EN = {"aed_fetcher": " (please bring the nearest AED)", "carrier": " (help carry the patient)"}


def page_recipients(
    session: Session,
    ctx: DispatchContext,
    incident: Incident,
    step: int,
    recipients: list[Recipient],
    now: datetime,
    tag: str,
    channels: tuple[str, ...] = ("sms",),
) -> list[Page]:
    building = ctx.directory.buildings.get(incident.building_id or "")
    place_zh, place_en = describe_place(building, incident)
    last_level = len(Plan.from_json(incident.plan).steps) - 1
    existing = {
        p.person_id: p
        for p in session.scalars(
            select(Page).where(Page.incident_id == incident.id, Page.person_id.in_([r.person_id for r in recipients]))
        )
    }
    pages: list[Page] = []
    new: set[str] = set()
    for r in recipients:
        page = existing.get(r.person_id)
        if page is None:
            new.add(r.person_id)
            page = Page(
                incident_id=incident.id,
                person_id=r.person_id,
                person_kind=r.person_kind,
                role=r.role,
                name=r.name,
                phone=r.phone,
                step=step,
                status="paged",
                paged_at=now,
                distance_m=r.ranked.distance_m if r.ranked else None,
                eta_s=r.ranked.eta_s if r.ranked else None,
            )
            session.add(page)
        elif page.status in ("failed", "declined", "no_answer"):
            # The last level repeats: someone who missed the previous call is asked again.
            page.status, page.step, page.paged_at = "paged", step, now
        pages.append(page)
    session.flush()  # one multi-row INSERT for the wave's new pages: the messages need their ids
    for r, page in zip(recipients, pages, strict=True):
        eta_min = max(1, round(page.eta_s / 60)) if page.eta_s is not None else None
        facts = messages.AlertFacts(
            code=incident.code,
            kind_zh=ctx.policy.label(incident.kind, "zh") + SUPPORT_ASK_ZH.get(r.role, ""),
            kind_en=ctx.policy.label(incident.kind, "en") + SUPPORT_ASK_EN.get(r.role, ""),
            place_zh=place_zh,
            place_en=place_en,
            distance_m=page.distance_m,
            eta_min=eta_min,
            link=ctx.links.url(page.id),
        )
        role = "responder" if r.person_kind == "vanguard" else "staff"
        call = _alert_twiml(ctx, facts, role, page.id, tag)
        if "sms" in channels:
            enqueue(
                session,
                dedupe_key=f"{incident.id}:{tag}:{r.person_id}:alert",
                to=r.phone,
                body=messages.alert_sms(
                    facts, role, reminder=max(0, step - last_level) if r.person_kind == "staff" else 0
                ),
                purpose="alert",
                now=now,
                incident_id=incident.id,
                page_id=page.id,
                fallback_body=call,
                fresh=r.person_id in new,
            )
        if "voice" in channels:
            enqueue(
                session,
                dedupe_key=f"{incident.id}:{tag}:{r.person_id}:call",
                to=r.phone,
                body=call,
                purpose="alert",
                now=now,
                incident_id=incident.id,
                page_id=page.id,
                channel="voice",
                fresh=r.person_id in new,
            )
    record(
        session,
        incident.id,
        "paged",
        now,
        None,
        step=step,
        tag=tag,
        channels=list(channels),
        recipients=[
            {
                "person": r.person_id,
                "role": r.role,
                "name": r.name,
                **({"why": r.ranked.reason, "eta_s": round(r.ranked.eta_s)} if r.ranked else {}),
            }
            for r in recipients
        ],
    )
    return pages


BUDGET_SEARCH_MAX = 512


def vanguards_within_budget(
    session: Session,
    ctx: DispatchContext,
    incident: Incident,
    plan: Plan,
    size: int,
    now: datetime,
    with_roles: bool = False,
) -> list[Recipient]:
    # Ask for more than needed so that people over their alert budget can be left out without shrinking the wave;
    # when the nearest are all spent (a busy day), search again without them, asking for twice as many each round.
    spent = ctx.directory.spent_budgets.get(session, now, plan.alert_budget_per_day)
    ask = size * 2
    while True:
        chosen = choose_vanguards(session, ctx, incident, plan, ask, now, skip=spent, with_roles=with_roles)
        over = over_budget(session, [r.person_id for r in chosen], now, plan.alert_budget_per_day)
        within = [r for r in chosen if r.person_id not in over]
        if with_roles:  # the support roles head the list and are not counted in the wave's size
            roles = [r for r in within if r.role != "responder"]
            return roles + [r for r in within if r.role == "responder"][:size]
        ctx.directory.spent_budgets.add(over, plan.alert_budget_per_day)
        if not over or len(within) >= size or len(chosen) < ask or ask >= BUDGET_SEARCH_MAX:
            return within[:size]
        spent |= over
        ask *= 2


def is_active(incident: Incident) -> bool:
    return Status(incident.status) in ACTIVE
