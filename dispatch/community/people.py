"""People of the demo community: households, vanguards and the organisation's staff. All of them are fictitious.

Phones are drawn, without repeats, from one block (+86 170000 xxxxx); device and API tokens come from the seeded
random generator, so they are reproducible (and therefore secret to no one: demo only).
"""

from __future__ import annotations

import base64
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.community import names
from dispatch.community.buildings import Building
from dispatch.community.oncall import ALWAYS, SLOTS, Window, slots

SKILLS = (
    "doctor",
    "nurse",
    "first_aid",
    "fire_safety",
    "electrician",
    "plumber",
    "gas",
    "counseling",
    "carrying",
    "lawyer",
    "teacher",
)
SKILL_SHARE = {
    "doctor": 0.07,
    "nurse": 0.08,
    "first_aid": 0.40,
    "fire_safety": 0.10,
    "electrician": 0.07,
    "plumber": 0.05,
    "gas": 0.03,
    "counseling": 0.08,
    "carrying": 0.35,
    "lawyer": 0.025,
    "teacher": 0.12,
}
MEDICAL = frozenset({"doctor", "nurse", "first_aid"})
MIN_MEDICAL_ON_CALL = 3  # per grid, at every half hour of the week
MIN_CLINICAL_ON_CALL = 2  # doctors or nurses, per grid, at every half hour

# occupation, head count, skill affinity (1 = everyone has it, else a weight), schedule style
OCCUPATIONS: tuple[tuple[str, int, dict[str, float], str], ...] = (
    ("医生", 56, {"doctor": 1, "first_aid": 1, "counseling": 0.3}, "clinical"),
    ("护士", 64, {"nurse": 1, "first_aid": 1, "counseling": 0.2}, "clinical"),
    ("药剂师", 10, {"first_aid": 0.8}, "worker"),
    ("大学教授", 26, {"teacher": 1, "counseling": 0.3, "lawyer": 0.1}, "worker"),
    ("中小学教师", 70, {"teacher": 1, "first_aid": 0.5, "counseling": 0.3}, "worker"),
    ("企业高管", 34, {"counseling": 0.1}, "worker"),
    ("律师", 18, {"lawyer": 1, "counseling": 0.2}, "worker"),
    ("电工", 38, {"electrician": 1, "fire_safety": 0.4}, "worker"),
    ("水电维修工", 30, {"plumber": 1, "electrician": 0.6}, "worker"),
    ("燃气公司职工", 22, {"gas": 1, "fire_safety": 0.6}, "worker"),
    ("退役消防员", 16, {"fire_safety": 1, "first_aid": 1, "carrying": 0.8, "gas": 0.3}, "retired"),
    ("物业管理员", 40, {"fire_safety": 0.6, "plumber": 0.3, "electrician": 0.3, "gas": 0.2, "carrying": 0.5}, "worker"),
    ("退休干部", 90, {"counseling": 0.4, "first_aid": 0.3}, "retired"),
    ("退役军人", 45, {"first_aid": 0.8, "carrying": 0.9, "fire_safety": 0.5}, "worker"),
    ("心理咨询师", 12, {"counseling": 1}, "worker"),
    ("社区工作者", 30, {"counseling": 0.6, "first_aid": 0.6}, "worker"),
    ("大学生", 50, {"first_aid": 0.6, "carrying": 0.7}, "student"),
    ("公务员", 40, {"first_aid": 0.3}, "worker"),
    ("工程师", 36, {"electrician": 0.3}, "worker"),
    ("快递员", 20, {"carrying": 1}, "worker"),
    ("出租车司机", 15, {"carrying": 0.6}, "worker"),
    ("个体工商户", 0, {"carrying": 0.5}, "worker"),  # whoever is left
)
ENGLISH = {
    "大学教授": 0.8,
    "医生": 0.5,
    "企业高管": 0.6,
    "律师": 0.5,
    "大学生": 0.6,
    "中小学教师": 0.35,
    "工程师": 0.35,
    "心理咨询师": 0.4,
    "公务员": 0.2,
}
STYLES = {  # schedule style -> weights over window templates
    "clinical": {"always": 2.0, "shifts": 3.0, "nights": 2.5, "evenings": 2.0, "weekends": 0.5},
    "retired": {"always": 3.0, "daytime": 5.0, "nights": 2.0},
    "student": {"student": 6.0, "night_owl": 2.0, "weekends": 1.0},
    "worker": {"always": 1.2, "nights": 2.2, "evenings": 3.0, "daytime": 1.7, "weekends": 1.0, "night_owl": 0.8},
}
# residents per household (other than the elderly living alone): 1..14, mean about 6.4 (renters and migrant
# workers sharing flats included, to match the community's "9,760 households, nearly 60,000 residents")
RESIDENT_WEIGHTS = (2, 5, 10, 13, 13, 12, 11, 9, 8, 6, 5, 3, 2, 1)


@dataclass(frozen=True)
class Household:
    household_id: str
    building_id: str
    entrance: int
    floor: int
    unit: str
    residents: int
    elderly_living_alone: bool
    phone: str
    device_token: str


@dataclass
class Vanguard:
    vanguard_id: str
    name: str
    phone: str
    skills: list[str]
    building_id: str
    grid_id: str
    occupation: str
    windows: tuple[Window, ...]
    accept_rate: float
    languages: str


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    name: str
    phone: str
    role: str
    grid_id: str
    building_id: str
    windows: tuple[Window, ...]
    api_token: str
    password: str


class Identities:
    """Unique fictitious phone numbers and names, reproducible tokens and demo passwords."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._phones = rng.sample(range(100_000), 20_000)
        self._names: set[str] = set()
        self._surnames = [s for s, _ in names.SURNAMES]
        self._weights = [w for _, w in names.SURNAMES]

    def phone(self) -> str:
        return f"+86170000{self._phones.pop():05d}"

    def name(self) -> str:
        while True:
            surname = self.rng.choices(self._surnames, self._weights)[0]
            given = (
                self.rng.choice(names.GIVEN_SINGLE)
                if self.rng.random() < 0.3
                else self.rng.choice(names.GIVEN_FIRST) + self.rng.choice(names.GIVEN_SECOND)
            )
            if surname + given not in self._names:
                self._names.add(surname + given)
                return surname + given

    def token(self, prefix: str) -> str:
        return prefix + base64.urlsafe_b64encode(self.rng.getrandbits(192).to_bytes(24, "big")).decode()

    def password(self) -> str:
        return "demo-" + "".join(self.rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(8))


def _hh(rng: random.Random, lo: float, hi: float) -> int:
    """A random time between lo and hi o'clock, on the half hour, in minutes."""
    return rng.randint(round(lo * 2), round(hi * 2)) * 30


def windows_for(rng: random.Random, template: str) -> tuple[Window, ...]:
    if template == "always":
        return ALWAYS
    if template == "nights":  # at home and reachable overnight
        return (Window(0, 6, _hh(rng, 21, 23), _hh(rng, 7, 8.5)),)
    if template == "evenings":
        day = rng.choice((5, 6))  # and half a day of the weekend
        half = (_hh(rng, 8, 9.5), _hh(rng, 12, 13.5)) if rng.random() < 0.5 else (_hh(rng, 14, 15), _hh(rng, 20, 22))
        return (Window(0, 4, _hh(rng, 17.5, 19), _hh(rng, 21.5, 23)), Window(day, day, *half))
    if template == "daytime":
        return (Window(0, 6, _hh(rng, 6.5, 8), _hh(rng, 17.5, 19.5)),)
    if template == "weekends":
        return (Window(4, 4, _hh(rng, 18, 19), _hh(rng, 23, 24)), Window(5, 6, _hh(rng, 7.5, 9), _hh(rng, 21.5, 23)))
    if template == "night_owl":
        return (Window(0, 6, _hh(rng, 22.5, 23.5), _hh(rng, 2.5, 4)),)
    if template == "shifts":  # hospital rota: three nights and two days a week
        days = sorted(rng.sample(range(7), 5))
        nights = set(rng.sample(days, 3))
        return tuple(
            Window(d, d, 19 * 60, 7 * 60 + 30) if d in nights else Window(d, d, 8 * 60, 17 * 60 + 30) for d in days
        )
    if template == "student":
        return (
            Window(0, 4, 12 * 60, 13 * 60 + 30),
            Window(0, 4, _hh(rng, 17, 18), _hh(rng, 22.5, 23.5)),
            Window(5, 6, _hh(rng, 8.5, 10), _hh(rng, 22, 23.5)),
        )
    raise ValueError(template)


def make_households(rng: random.Random, ids: Identities, blds: Sequence[Building], residents: int) -> list[Household]:
    """One row per occupied flat; the vacant flats are drawn at random. Resident counts are nudged to add up to
    exactly `residents`."""
    rows: list[tuple[str, int, int, str, bool]] = []
    for b in blds:
        flats = [
            (e, f, d)
            for e in range(1, b.entrances + 1)
            for f in range(1, b.floors + 1)
            for d in range(1, b.flats_per_floor + 1)
        ]
        alone = 0.065 if b.kind == "lowrise" else 0.03
        for e, f, d in sorted(rng.sample(flats, b.households)):
            rows.append((b.building_id, e, f, f"{f}{d:02d}", rng.random() < alone))
    sizes = [1 if r[4] else rng.choices(range(1, 15), RESIDENT_WEIGHTS)[0] for r in rows]
    diff = residents - sum(sizes)
    while diff:
        i = rng.randrange(len(sizes))
        if not rows[i][4] and (2 <= sizes[i] + (1 if diff > 0 else -1) <= 14):
            sizes[i] += 1 if diff > 0 else -1
            diff += -1 if diff > 0 else 1
    return [
        Household(f"H{i:05d}", bid, e, f, unit, n, alone, ids.phone(), ids.token("hh_"))
        for i, ((bid, e, f, unit, alone), n) in enumerate(zip(rows, sizes, strict=True), start=1)
    ]


def _weighted_sample(rng: random.Random, items: Sequence[int], weights: Sequence[float], k: int) -> list[int]:
    """k items without replacement, chance proportional to weight (Efraimidis-Spirakis keys)."""
    keyed = sorted(((rng.random() ** (1.0 / w), i) for i, w in zip(items, weights, strict=True) if w > 0), reverse=True)
    return [i for _, i in keyed[:k]]


def _skills(rng: random.Random, jobs: Sequence[str], total: int) -> list[list[str]]:
    affinity = {name: aff for name, _, aff, _ in OCCUPATIONS}
    held: list[set[str]] = [set() for _ in jobs]
    # specialist skills first, spread over people rather than piled up (those without a skill yet are favoured);
    # carrying last, first to those still without a skill; anyone left over can carry too
    for skill in [s for s in SKILLS if s != "carrying"] + ["carrying"]:
        target = round(SKILL_SHARE[skill] * total)
        sure = [i for i, j in enumerate(jobs) if affinity[j].get(skill, 0) >= 1]
        base = 0.0 if skill in ("doctor", "nurse", "lawyer", "teacher", "gas") else 0.02
        sure_set = set(sure)
        rest = [i for i in range(total) if i not in sure_set]
        favour = 50.0 if skill == "carrying" else 4.0
        weights = [(affinity[jobs[i]].get(skill, 0) + base) * (1.0 if held[i] else favour) for i in rest]
        for i in sure + _weighted_sample(rng, rest, weights, max(0, target - len(sure))):
            held[i].add(skill)
    for h in held:
        if not h:
            h.add("carrying")
    return [[s for s in SKILLS if s in h] for h in held]


def make_vanguards(rng: random.Random, ids: Identities, blds: Sequence[Building], total: int) -> list[Vanguard]:
    """`total` vanguards living where the households are, with occupations, skills, on-call windows and
    acceptance priors (median about 0.29, the median acceptance over published programmes)."""
    jobs = [j for name, n, _, _ in OCCUPATIONS for j in [name] * n]
    jobs += [OCCUPATIONS[-1][0]] * (total - len(jobs))
    rng.shuffle(jobs)
    skills = _skills(rng, jobs, total)
    homes = rng.choices(list(blds), [b.households for b in blds], k=total)
    style = {name: s for name, _, _, s in OCCUPATIONS}
    out = []
    for i, (job, sk, home) in enumerate(zip(jobs, skills, homes, strict=True), start=1):
        templates = STYLES[style[job]]
        template = rng.choices(list(templates), list(templates.values()))[0]
        rate = min(0.6, max(0.15, 0.29 * math.exp(rng.gauss(0.0, 0.35))))
        lang = "zh;en" if rng.random() < ENGLISH.get(job, 0.08) else "zh"
        out.append(
            Vanguard(
                f"V{i:04d}",
                ids.name(),
                ids.phone(),
                sk,
                home.building_id,
                home.site.grid_id,
                job,
                windows_for(rng, template),
                round(rate, 3),
                lang,
            )
        )
    _cover_every_grid(rng, out)
    return out


def _cover_every_grid(rng: random.Random, vanguards: list[Vanguard]) -> int:
    """Make sure that at every half hour each grid has MIN_MEDICAL_ON_CALL doctors, nurses or first-aiders on
    call, MIN_CLINICAL_ON_CALL of them doctors or nurses; fill a gap by putting someone on call overnight as
    well (or always, for a daytime gap). Returns how many schedules changed."""
    changed = 0
    night = Window(0, 6, 21 * 60, 7 * 60 + 30)
    for grid in sorted({v.grid_id for v in vanguards}):
        here = [v for v in vanguards if v.grid_id == grid]
        covered = {v.vanguard_id: slots(v.windows) for v in here}
        for need, skills in ((MIN_CLINICAL_ON_CALL, {"doctor", "nurse"}), (MIN_MEDICAL_ON_CALL, MEDICAL)):
            able = [v for v in here if skills & set(v.skills)]
            for slot in range(SLOTS):
                on = [v for v in able if slot in covered[v.vanguard_id]]
                if len(on) >= need:
                    continue
                spare = [v for v in able if v not in on and v.windows != ALWAYS]
                if len(spare) < need - len(on):
                    raise ValueError(f"grid {grid} has too few vanguards with {sorted(skills)} to cover every hour")
                for v in rng.sample(spare, need - len(on)):
                    hour = (slot % 48) / 2
                    v.windows = (*v.windows, night) if hour >= 21 or hour < 7.5 else ALWAYS
                    covered[v.vanguard_id] = slots(v.windows)
                    changed += 1
    return changed


def make_staff(
    rng: random.Random, ids: Identities, blds: Sequence[Building], grid_ids: Sequence[str]
) -> list[StaffMember]:
    """Duty officers on shifts that together cover the whole week, coordinators, a secretary and 2-4 workers per
    grid, and a group leader for every building."""
    rows: list[tuple[str, str, str, tuple[Window, ...]]] = []
    duty = (
        (Window(0, 4, 8 * 60, 18 * 60),),
        (Window(0, 4, 18 * 60, 8 * 60),),
        (Window(5, 6, 8 * 60, 20 * 60),),
        (Window(5, 6, 20 * 60, 8 * 60),),
    )
    rows += [("duty_officer", "", "", w) for w in duty]
    rows += [("coordinator", "", "", (Window(0, 4, 8 * 60 + 30, 17 * 60 + 30),))] * 2
    worker_shifts = (
        (Window(0, 4, 8 * 60, 18 * 60),),
        (Window(0, 6, 17 * 60 + 30, 22 * 60 + 30),),
        (Window(5, 6, 8 * 60, 20 * 60),),
        (Window(0, 4, 7 * 60, 12 * 60),),
    )
    for g in grid_ids:
        rows.append(("grid_secretary", g, "", (Window(0, 4, 8 * 60, 21 * 60), Window(5, 6, 9 * 60, 18 * 60))))
        rows += [("grid_worker", g, "", worker_shifts[k]) for k in range(rng.randint(2, 4))]
    for b in blds:
        w = ALWAYS if rng.random() < 0.35 else (Window(0, 6, _hh(rng, 6.5, 8), _hh(rng, 21, 23)),)
        rows.append(("building_leader", b.site.grid_id, b.building_id, w))
    return [
        StaffMember(f"S{i:04d}", ids.name(), ids.phone(), role, grid, bid, w, ids.token("st_"), ids.password())
        for i, (role, grid, bid, w) in enumerate(rows, start=1)
    ]
