"""Escalation policy: what to page for each incident kind and how the search widens. Pure data and decisions.

The policy is configuration (dispatch/policies/default.json, or a file named by DISPATCH_POLICY). A `Plan` is the
policy as applied to one incident, snapshotted onto it when it opens, so later edits never alter a running search.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policies" / "default.json"
ACTIONS = frozenset({"wave", "building_leader", "grid_branch", "duty_officer"})
CHANNELS = frozenset({"sms", "voice"})


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class StepSpec:
    action: str
    size: int = 0
    # How the level is reached: "sms", or ("sms", "voice") to also ring (the last levels "call again").
    channels: tuple[str, ...] = ("sms",)


@dataclass(frozen=True)
class Plan:
    kind: str
    skills: tuple[str, ...]
    steps: tuple[StepSpec, ...]
    wait_s: float
    repeat_last_level_times: int
    walking_speed_m_s: float
    detour_factor: float
    stairs_s_per_floor: float
    lift_s_per_floor: float
    max_distance_m: float
    # Defaults keep plans snapshotted before these settings existed readable.
    alert_budget_per_day: int = 12
    on_scene_bound_s: float = 900.0
    wellbeing_after_s: float = 7200.0
    # Matching settings and the kind's support roles (read by dispatch.matching.MatchRules); None: defaults.
    matching: dict[str, Any] | None = None
    # The dispatch core's settings (dispatch.escalation.rules); defaults for plans snapshotted before them.
    responders_wanted: int = 2
    no_show_factor: float = 1.5
    no_show_margin_s: float = 60.0
    call_120_after_s: float = 90.0
    arrival_geofence_m: float = 30.0
    building_at_start: bool = True
    building_vanguards_max: int = 3
    chain_repeat_max: int = 3
    chain_backoff_factor: float = 2.0
    chain_backoff_max_s: float = 600.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        fields = dict(data)
        fields["skills"] = tuple(data["skills"])
        fields["steps"] = tuple(
            StepSpec(s["action"], int(s.get("size", 0)), tuple(s.get("channels", ("sms",)))) for s in data["steps"]
        )
        return cls(**fields)

    def step(self, index: int) -> StepSpec:
        """The step at `index`; past the end the last level repeats for as long as nobody acknowledges."""
        return self.steps[min(index, len(self.steps) - 1)]

    def wait_after(self, index: int) -> float:
        """Seconds before the step after `index`. The last level repeats every `wait_s` for
        `repeat_last_level_times` rounds, then every 4 x `wait_s`: slower, but it never stops."""
        if index < len(self.steps) + self.repeat_last_level_times:
            return self.wait_s
        return self.wait_s * 4


@dataclass(frozen=True)
class Policy:
    raw: dict[str, Any]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.raw["kinds"])

    def label(self, kind: str, lang: str = "zh") -> str:
        return str(self.raw["kinds"][kind][f"label_{lang}"])

    def plan_for(
        self, kind: str, *, out_of_area: bool, wait_s: float | None = None, alert_budget: int | None = None
    ) -> Plan:
        if kind not in self.raw["kinds"]:
            raise PolicyError(f"unknown incident kind {kind!r}; known: {', '.join(self.kinds)}")
        raw = self.raw
        steps = raw["out_of_area_steps"] if out_of_area else raw["steps"]
        return Plan(
            kind=kind,
            skills=tuple(raw["kinds"][kind]["skills"]),
            steps=tuple(
                StepSpec(action=s["action"], size=int(s.get("size", 0)), channels=tuple(s.get("channels", ("sms",))))
                for s in steps
            ),
            wait_s=float(wait_s if wait_s is not None else raw["wait_s"]),
            repeat_last_level_times=int(raw["repeat_last_level_times"]),
            walking_speed_m_s=float(raw["walking_speed_m_s"]),
            detour_factor=float(raw["detour_factor"]),
            stairs_s_per_floor=float(raw["stairs_s_per_floor"]),
            lift_s_per_floor=float(raw["lift_s_per_floor"]),
            max_distance_m=float(raw["max_distance_m"]),
            alert_budget_per_day=alert_budget or int(raw.get("alert_budget_per_day", 12)),
            on_scene_bound_s=float(raw.get("on_scene_bound_s", 900)),
            wellbeing_after_s=float(raw.get("wellbeing_after_s", 7200)),
            matching={**raw.get("matching", {}), "roles": list(raw["kinds"][kind].get("roles", []))},
        )


def load_policy(path: Path | None = None) -> Policy:
    path = path or DEFAULT_POLICY_PATH
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyError(f"cannot read escalation policy {path}: {exc}") from exc
    for key in ("kinds", "steps", "out_of_area_steps", "wait_s"):
        if key not in raw:
            raise PolicyError(f"escalation policy {path} lacks {key!r}")
    for step in [*raw["steps"], *raw["out_of_area_steps"]]:
        if step.get("action") not in ACTIONS:
            raise PolicyError(f"escalation policy {path}: unknown action {step.get('action')!r}")
        channels = step.get("channels", ["sms"])
        if not channels or not set(channels) <= CHANNELS:
            raise PolicyError(f"escalation policy {path}: channels must be among {sorted(CHANNELS)}, got {channels!r}")
    if not raw["steps"] or not raw["out_of_area_steps"]:
        raise PolicyError(f"escalation policy {path}: steps must not be empty")
    return Policy(raw)
