"""The part of an incident's plan the decision core reads, in the terms it reasons in. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dispatch.escalation.lifecycle import Role
from dispatch.escalation.policy import Plan
from dispatch.escalation.snapshot import ChainAction

WAVE = "wave"


@dataclass(frozen=True)
class SupportRole:
    role: Role
    count: int = 1


@dataclass(frozen=True)
class Step:
    action: str  # "wave" or a ChainAction value
    size: int = 0
    channels: tuple[str, ...] = ("sms",)


@dataclass(frozen=True)
class Rules:
    steps: tuple[Step, ...]
    wait_s: float = 30.0
    responders_wanted: int = 2
    no_show_factor: float = 1.5
    no_show_margin_s: float = 60.0
    call_120_after_s: float = 90.0
    building_at_start: bool = True
    building_vanguards_max: int = 3
    chain_repeat_max: int = 3
    chain_backoff_factor: float = 2.0
    chain_backoff_max_s: float = 600.0
    support_roles: tuple[SupportRole, ...] = ()

    @classmethod
    def from_plan(cls, plan: Plan) -> Rules:
        roles: list[dict[str, Any]] = list((plan.matching or {}).get("roles", []))
        return cls(
            steps=tuple(Step(s.action, s.size, tuple(s.channels)) for s in plan.steps),
            wait_s=plan.wait_s,
            responders_wanted=plan.responders_wanted,
            no_show_factor=plan.no_show_factor,
            no_show_margin_s=plan.no_show_margin_s,
            call_120_after_s=plan.call_120_after_s,
            building_at_start=plan.building_at_start,
            building_vanguards_max=plan.building_vanguards_max,
            chain_repeat_max=plan.chain_repeat_max,
            chain_backoff_factor=plan.chain_backoff_factor,
            chain_backoff_max_s=plan.chain_backoff_max_s,
            support_roles=tuple(SupportRole(Role(r["role"]), int(r.get("count", 1))) for r in roles),
        )

    @property
    def wave_steps(self) -> tuple[int, ...]:
        return tuple(i for i, s in enumerate(self.steps) if s.action == WAVE)

    @property
    def chain_steps(self) -> tuple[int, ...]:
        return tuple(i for i, s in enumerate(self.steps) if s.action != WAVE)

    def wave_size(self, n: int) -> int:
        """The size of wave `n` (0 first); past the configured waves the last size repeats."""
        waves = self.wave_steps
        if not waves:
            return 0
        return self.steps[waves[min(n, len(waves) - 1)]].size

    def wave_at_s(self, n: int) -> float:
        """Seconds after the press at which wave `n` opens: at its step's place in the plan, then every wait."""
        waves = self.wave_steps
        if not waves:
            return float("inf")
        if n < len(waves):
            return waves[n] * self.wait_s
        return (waves[-1] + n - len(waves) + 1) * self.wait_s

    def step_at_s(self, step: int) -> float:
        return step * self.wait_s

    def step_action(self, step: int) -> ChainAction:
        return ChainAction(self.steps[step].action)

    def step_channels(self, step: int) -> tuple[str, ...]:
        return self.steps[step].channels

    def chain_step_of(self, action: ChainAction) -> int | None:
        return next((i for i in self.chain_steps if self.steps[i].action == action.value), None)
