"""The escalation policy file's schema: every key, its type and its range, checked whole when the file is loaded.

A mistake in the policy must stop the service at start with the file and the key named, never surface as a
KeyError on the first press. Notes may be left anywhere as "comment" keys, and next to a setting as
"<setting>_comment"; any other unknown key is refused, since a misspelt setting would otherwise be silently ignored.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

Action = Literal["wave", "building_leader", "grid_branch", "duty_officer"]
Channel = Literal["sms", "voice"]
# Kinds, skills and roles are compared with what the community files and the code say: one spelling only.
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class PolicyError(ValueError):
    """The policy is unreadable or invalid, or a kind it lacks was asked for; the message says how to fix it."""


class Section(BaseModel):
    """A part of the policy file: unknown keys refused, comments dropped before validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_comments(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v for k, v in data.items() if not _is_comment(cls, k)}


def _is_comment(model: type[BaseModel], key: object) -> bool:
    return isinstance(key, str) and (
        key == "comment" or (key.endswith("_comment") and key.removesuffix("_comment") in model.model_fields)
    )


class RoleSpecFile(Section):
    role: Name = Field(description="the support role's name, e.g. aed_fetcher or carrier")
    skills: list[Name] = Field(min_length=1, description="list at least one skill that qualifies for the role")
    count: int = Field(1, ge=1, description="how many people the role needs, at least 1")
    fetch: Literal["aed"] | None = Field(None, description='"aed": the role brings the nearest AED; omit otherwise')


class KindSpec(Section):
    skills: list[Name] = Field(min_length=1, description="list at least one skill that qualifies a responder")
    label_zh: str = Field(min_length=1, description="the kind's name in Chinese, as residents and vanguards read it")
    label_en: str = Field(min_length=1, description="the kind's name in English")
    roles: list[RoleSpecFile] = Field(default_factory=list, description="support roles paged beside the responders")


def _sms_only() -> list[Channel]:
    return ["sms"]


class StepFile(Section):
    action: Action = Field(description="one of wave, building_leader, grid_branch, duty_officer")
    size: int | None = Field(
        None, ge=1, validate_default=True, description="how many vanguards a wave pages (wave steps only, at least 1)"
    )
    channels: list[Channel] = Field(
        default_factory=_sms_only, min_length=1, description="how the level is reached: sms, or sms and voice"
    )

    @field_validator("size")
    @classmethod
    def _size_only_for_waves(cls, size: int | None, info: ValidationInfo) -> int | None:
        action = info.data.get("action")
        if action == "wave" and size is None:
            raise ValueError('a wave step needs a size: add "size": N with N >= 1 vanguards')
        if action is not None and action != "wave" and size is not None:
            raise ValueError(f"only wave steps have a size: remove it from this {action} step")
        return size

    @field_validator("channels")
    @classmethod
    def _each_channel_once(cls, channels: list[str]) -> list[str]:
        if len(set(channels)) != len(channels):
            raise ValueError("list each channel once")
        return channels


class MatchingFile(Section):
    acceptance_weight: float = Field(0.5, ge=0, description="rank by ETA / p_accept ** weight; 0 ranks by ETA alone")
    live_position_max_age_s: float = Field(
        600.0, gt=0, description="seconds a phone's shared position counts before the home building is used again"
    )


Seconds = Annotated[float, Field(gt=0)]


class PolicyFile(Section):
    kinds: dict[Name, KindSpec] = Field(min_length=1, description="the incident kinds, each with its skills and labels")
    steps: list[StepFile] = Field(min_length=1, description="the escalation steps in order; at least one")
    out_of_area_steps: list[StepFile] = Field(min_length=1, description="the steps for a press outside every grid")
    wait_s: Seconds = Field(description="seconds each step waits for an acceptance before the next, above 0")
    repeat_last_level_times: int = Field(ge=0, description="rounds the last level repeats every wait_s, 0 or more")
    walking_speed_m_s: float = Field(gt=0, le=5, description="metres per second on foot, about 1-2 (not km/h)")
    detour_factor: float = Field(ge=1, description="street distance over straight line, at least 1")
    stairs_s_per_floor: float = Field(ge=0, description="seconds to climb one floor by the stairs, 0 or more")
    lift_s_per_floor: float = Field(ge=0, description="seconds per floor by lift, 0 or more")
    max_distance_m: float = Field(gt=0, description="metres beyond which nobody is paged, above 0")
    alert_budget_per_day: int = Field(12, ge=1, description="alerts one vanguard may get in a day, at least 1")
    on_scene_bound_s: Seconds = Field(900.0, description="seconds within which help should be on scene")
    wellbeing_after_s: Seconds = Field(7200.0, description="seconds after closing before the wellbeing follow-up")
    matching: MatchingFile = Field(default_factory=MatchingFile, description="how candidates are ranked")
    # The dispatch core's settings (issue 14).
    responders_wanted: int = Field(2, ge=1, description="qualified acceptances wanted before waves stop, at least 1")
    no_show_factor: float = Field(1.5, ge=1, description="a primary is late past accepted_at + eta x this, >= 1")
    no_show_margin_s: float = Field(60.0, ge=0, description="seconds added to the scaled ETA before a no-show, >= 0")
    call_120_after_s: Seconds = Field(90.0, description="seconds without a qualified acceptance before 'call 120 now'")
    arrival_geofence_m: float = Field(30.0, gt=0, le=1000, description="metres from the entrance counted on scene")
    building_at_start: bool = Field(True, description="true: page the building's own people at t=0; false: later")
    building_vanguards_max: int = Field(3, ge=0, description="on-call vanguards of the building paged at t=0, >= 0")
    chain_repeat_max: int = Field(3, ge=1, description="times one staff member may be paged for one incident, >= 1")
    chain_backoff_factor: float = Field(2.0, ge=1, description="growth of re-paging waits once every level was tried")
    chain_backoff_max_s: Seconds = Field(600.0, description="the longest re-paging wait, at least wait_s")

    @field_validator("kinds", mode="before")
    @classmethod
    def _drop_kinds_comment(cls, kinds: Any) -> Any:
        return {k: v for k, v in kinds.items() if k != "comment"} if isinstance(kinds, dict) else kinds

    @field_validator("chain_backoff_max_s")
    @classmethod
    def _backoff_reaches_the_wait(cls, longest: float, info: ValidationInfo) -> float:
        wait_s = info.data.get("wait_s")
        if wait_s is not None and longest < wait_s:
            raise ValueError(f"the longest re-paging wait must be at least wait_s ({wait_s:g}): raise it")
        return longest


def parse_policy(raw: object, source: str) -> PolicyFile:
    """The validated policy, or a PolicyError naming `source` and every bad key by its path, with the fix."""
    try:
        return PolicyFile.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors(include_url=False)]
    listed = f" {problems[0]}" if len(problems) == 1 else "".join(f"\n  - {p}" for p in problems)
    raise PolicyError(f"{source} is invalid:{listed}")


def _problem(error: ErrorDetails) -> str:
    loc = error["loc"]
    path = _path(loc)
    parent, field = _field_at(loc)
    kind = error["type"]
    if not loc:
        return "the file must hold one JSON object of settings, kinds and steps"
    if kind == "extra_forbidden" and str(loc[-1]).endswith("_comment"):
        return f"{path}: a note beside a setting is named after it (<setting>_comment); this names no key here"
    if kind == "extra_forbidden":
        allowed = f" (allowed here: {', '.join(sorted(parent.model_fields))}, comment)" if parent else ""
        return f"{path}: unknown key; remove it or correct its spelling{allowed}"
    about = f" ({field.description})" if field is not None and field.description else ""
    if kind == "missing":
        return f"{path}: missing; add it{about}"
    if kind == "value_error":
        return f"{path}: {error['ctx']['error']}"
    if kind == "string_pattern_mismatch":
        return f"{path}: {error['input']!r} must be lowercase letters, digits and _ (e.g. first_aid)"
    shown = repr(error["input"])
    return f"{path}: {error['msg']}, got {shown if len(shown) <= 60 else shown[:57] + '...'}{about}"


def _path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += " (the name)"
        else:
            path += f".{part}" if path else part
    return path


def _field_at(loc: Sequence[int | str]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model holding the key at `loc` and the key's field (None for a key the model lacks)."""
    current: Any = PolicyFile
    parent: type[BaseModel] | None = None
    field: FieldInfo | None = None
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            parent, field = current, current.model_fields.get(str(part))
            if field is None:
                return parent, None
            current = field.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            break
    return parent, field


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        return next(a for a in get_args(annotation) if a is not type(None))
    return annotation
