"""How simulated people behave: vanguards answering alerts and walking, staff, grid workers confirming.

Figures come from ../shared/data/figures/volunteer_responder_published_figures.csv where it has them; the rest are
stated assumptions (marked ASSUMED) that the report prints next to the results. Sampling functions are pure given
the random generator.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import StrEnum


class Answer(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    IGNORE = "ignore"


@dataclass(frozen=True)
class Behaviour:
    # Acceptance of an alert: 23-46% across programmes, median 28.7% over 12 systems (shared figures, PROVENANCE).
    # Each vanguard keeps their own demo `accept_rate`, rescaled so the community's mean is this figure.
    acceptance: float = 0.287
    # Of those who do not accept, the share who reply "2" (which pages a replacement at once). ASSUMED.
    explicit_decline: float = 0.3
    # SMS from provider hand-off to the handset: lognormal median and p90. ASSUMED (domestic SMS is seconds).
    sms_latency_median_s: float = 4.0
    sms_latency_p90_s: float = 12.0
    # Time to read and answer an alert. Not in the shared figures; ASSUMED from GoodSAM/Heartrunner app designs.
    reaction_median_s: float = 30.0
    reaction_p90_s: float = 90.0
    # From the details SMS to leaving the door (shoes, keys, stairs down). ASSUMED.
    prepare_median_s: float = 30.0
    prepare_p90_s: float = 75.0
    # Walking: Heartrunner GPS tracks, median 1.8 m/s where density > 8,000/km2 (Jonsson 2020); IQR overall 1.4-4.0.
    speed_median_m_s: float = 1.8
    speed_p90_m_s: float = 2.6
    # The street distance itself is not drawn: walks follow the community's street graph (geo.walking), as
    # production's matching does.
    stairs_s_per_floor: float = 12.0
    lift_s_per_floor: float = 4.0
    lift_wait_s: float = 30.0
    # Accepters who never arrive. myResponder: 45.8% accepted, 24.1% arrived (47% of accepters missing, but many
    # stood down when EMS arrived first); ASSUMED 20% for the baseline, the published 47% as a sensitivity run.
    no_show: float = 0.2
    # The accepter texts "3" on arrival; otherwise the grid worker confirms on scene after a delay. ASSUMED.
    texts_on_scene: float = 0.6
    on_scene_text_median_s: float = 15.0
    confirm_median_s: float = 120.0
    confirm_p90_s: float = 420.0
    # Nobody arrived after an acceptance: the grid worker notices and goes. ASSUMED.
    no_show_noticed_median_s: float = 900.0
    # Staff (building leader, grid branch, duty officer) answer most alerts; their way to the door. ASSUMED.
    staff_acceptance: float = 0.8
    staff_travel_s: dict[str, float] = field(
        default_factory=lambda: {
            "building_leader": 90.0,
            "grid_secretary": 360.0,
            "grid_worker": 300.0,
            "duty_officer": 480.0,
        }
    )
    # How long a vanguard stays busy once on scene (resolved by the grid worker). ASSUMED.
    resolve_median_s: float = 1200.0


def lognormal(rng: random.Random, median: float, p90: float) -> float:
    """A lognormal draw given its median and 90th percentile (z(0.9) = 1.2816)."""
    sigma = math.log(p90 / median) / 1.2815516 if p90 > median else 0.0
    return median * math.exp(rng.gauss(0.0, sigma))


def acceptance_factor(rates: list[float], target: float) -> float:
    """Multiplier that brings the mean of per-person rates to `target`."""
    mean = sum(rates) / len(rates) if rates else 0.0
    return target / mean if mean > 0 else 0.0


def answer(rng: random.Random, accept_p: float, b: Behaviour) -> Answer:
    u = rng.random()
    if u < accept_p:
        return Answer.ACCEPT
    if rng.random() < b.explicit_decline:
        return Answer.DECLINE
    return Answer.IGNORE


def sms_latency(rng: random.Random, b: Behaviour) -> float:
    return lognormal(rng, b.sms_latency_median_s, b.sms_latency_p90_s)


def reaction(rng: random.Random, b: Behaviour) -> float:
    return lognormal(rng, b.reaction_median_s, b.reaction_p90_s)


@dataclass(frozen=True)
class Draws:
    """How one vanguard behaves for one incident, whichever policy pages them: the common random numbers.

    Drawn once from a generator seeded by (run seed, incident index, vanguard id), every field in a fixed order
    whether it is used or not, so that production, the bound and broadcast see the same person answer, read,
    get ready, walk and stay away alike.
    """

    answer_u: float  # accepts when below their acceptance probability
    declines: bool  # when not accepting: replies "2" rather than staying silent
    alert_sms_s: float  # the alert's way to the handset
    reaction_s: float  # reading and answering it
    details_sms_s: float  # the door details' way to the handset (production sends them on acceptance)
    no_show: bool  # accepts and never arrives
    prepare_s: float  # from the details to leaving the door
    speed_m_s: float
    texts_on_scene: bool  # texts "3" on arrival (else the grid worker confirms)
    on_scene_text_s: float

    def answer(self, accept_p: float) -> Answer:
        if self.answer_u < accept_p:
            return Answer.ACCEPT
        return Answer.DECLINE if self.declines else Answer.IGNORE


def draw(seed: int, incident_index: int, vanguard_id: str, b: Behaviour) -> Draws:
    # A string seed is hashed with SHA-512 by `random`: stable across processes (not PYTHONHASHSEED-salted).
    rng = random.Random(f"{seed}:{incident_index}:{vanguard_id}")
    return Draws(
        answer_u=rng.random(),
        declines=rng.random() < b.explicit_decline,
        alert_sms_s=sms_latency(rng, b),
        reaction_s=reaction(rng, b),
        details_sms_s=sms_latency(rng, b),
        no_show=rng.random() < b.no_show,
        prepare_s=lognormal(rng, b.prepare_median_s, b.prepare_p90_s),
        speed_m_s=lognormal(rng, b.speed_median_m_s, b.speed_p90_m_s),
        texts_on_scene=rng.random() < b.texts_on_scene,
        on_scene_text_s=lognormal(rng, b.on_scene_text_median_s, b.on_scene_text_median_s * 3),
    )


@dataclass(frozen=True)
class Trip:
    """Door to door for one accepter: getting ready, the street walk, and the climb to the floor."""

    prepare_s: float
    street_s: float
    climb_s: float
    street_m: float = 0.0

    @property
    def total_s(self) -> float:
        return self.prepare_s + self.street_s + self.climb_s


def climb_s(b: Behaviour, floor: int, has_lift: bool) -> float:
    if floor <= 1:
        return 0.0
    if has_lift:
        return b.lift_wait_s + (floor - 1) * b.lift_s_per_floor
    return (floor - 1) * b.stairs_s_per_floor


def trip(b: Behaviour, d: Draws, street_m: float, floor: int, has_lift: bool) -> Trip:
    """Getting ready, the walk along the streets (metres from the walking graph) at their own speed, the climb."""
    return Trip(d.prepare_s, street_m / d.speed_m_s, climb_s(b, floor, has_lift), street_m)


def door_after_page_s(b: Behaviour, d: Draws, street_m: float, floor: int, has_lift: bool) -> float:
    """Seconds from the page to the door when the service answers at once: alert, reading, details, the trip."""
    return d.alert_sms_s + d.reaction_s + d.details_sms_s + trip(b, d, street_m, floor, has_lift).total_s
