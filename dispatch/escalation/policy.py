"""Escalation policy: what to page for each incident kind and how the search widens. Pure data and decisions.

The policy is configuration (dispatch/policies/default.json, or a file named by DISPATCH_POLICY), checked whole
when it is loaded (dispatch/escalation/policy_file.py). A `Plan` is the policy as applied to one incident,
snapshotted onto it when it opens, so later edits never alter a running search.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import TypeAdapter

from dispatch.escalation.policy_file import Action, Channel, KindSpec, PolicyError, PolicyFile, StepFile, parse_policy

__all__ = ["ACTIONS", "CHANNELS", "DEFAULT_POLICY_PATH", "Plan", "Policy", "PolicyError", "StepSpec", "load_policy"]

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policies" / "default.json"
ACTIONS = frozenset(get_args(Action))
CHANNELS = frozenset(get_args(Channel))


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
    # The dispatch core's settings; what each means is in policy_file.PolicyFile.
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
        """A plan snapshotted by this or any earlier version: settings it predates take their defaults."""
        return _PLAN_JSON.validate_python(data)

    def step(self, index: int) -> StepSpec:
        """The step at `index`; past the end the last level repeats for as long as nobody acknowledges."""
        return self.steps[min(index, len(self.steps) - 1)]

    def wait_after(self, index: int) -> float:
        """Seconds before the step after `index`. The last level repeats every `wait_s` for
        `repeat_last_level_times` rounds, then every 4 x `wait_s`: slower, but it never stops."""
        if index < len(self.steps) + self.repeat_last_level_times:
            return self.wait_s
        return self.wait_s * 4


_PLAN_JSON = TypeAdapter(Plan)
# The settings a Plan carries over from the file unchanged, by the same name.
_CARRIED = (
    "repeat_last_level_times", "walking_speed_m_s", "detour_factor", "stairs_s_per_floor", "lift_s_per_floor",
    "max_distance_m", "on_scene_bound_s", "wellbeing_after_s", "responders_wanted", "no_show_factor",
    "no_show_margin_s", "call_120_after_s", "arrival_geofence_m", "building_at_start", "building_vanguards_max",
    "chain_repeat_max", "chain_backoff_factor", "chain_backoff_max_s",
)  # fmt: skip


@dataclass(frozen=True)
class Policy:
    """The policy file as read (`raw`, for tools that derive variants) and as validated (`spec`)."""

    raw: dict[str, Any]
    source: str = "escalation policy"
    spec: PolicyFile = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", parse_policy(self.raw, self.source))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.spec.kinds)

    def label(self, kind: str, lang: str = "zh") -> str:
        spec = self._kind(kind)
        if lang not in ("zh", "en"):
            raise PolicyError(f"no {lang!r} label: policy labels are zh and en")
        return spec.label_zh if lang == "zh" else spec.label_en

    def plan_for(
        self, kind: str, *, out_of_area: bool, wait_s: float | None = None, alert_budget: int | None = None
    ) -> Plan:
        spec, kind_spec = self.spec, self._kind(kind)
        roles = [r.model_dump(exclude={"comment"}, exclude_none=True) for r in kind_spec.roles]
        return Plan(
            kind=kind,
            skills=tuple(kind_spec.skills),
            steps=tuple(_step(s) for s in (spec.out_of_area_steps if out_of_area else spec.steps)),
            wait_s=float(wait_s if wait_s is not None else spec.wait_s),
            alert_budget_per_day=alert_budget or spec.alert_budget_per_day,
            matching={**spec.matching.model_dump(), "roles": roles},
            **{name: getattr(spec, name) for name in _CARRIED},
        )

    def _kind(self, kind: str) -> KindSpec:
        if kind not in self.spec.kinds:
            raise PolicyError(f"unknown incident kind {kind!r}; known: {', '.join(self.kinds)}")
        return self.spec.kinds[kind]


def _step(step: StepFile) -> StepSpec:
    return StepSpec(action=step.action, size=step.size or 0, channels=tuple(step.channels))


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path` (default: dispatch/policies/default.json), validated whole; PolicyError says what to fix."""
    path = path or DEFAULT_POLICY_PATH
    source = f"escalation policy {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError(f"{source} does not exist: check DISPATCH_POLICY, or unset it for the default") from exc
    except OSError as exc:
        raise PolicyError(f"cannot read {source}: {exc.strerror or exc}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    return Policy(raw, source)
