"""The escalation policy file: checked whole when it is loaded, with the file and the bad key named and the fix said.

A mistake must stop the service at start, never surface as a KeyError on the first press. Plans snapshotted onto
incidents by earlier versions stay readable.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatch.escalation.policy import DEFAULT_POLICY_PATH, Plan, Policy, PolicyError, StepSpec, load_policy
from dispatch.escalation.policy_file import PolicyFile
from dispatch.matching import MatchRules, RoleSpec
from dispatch.runtime import build_runtime
from dispatch.settings import REPO_ROOT, Settings, load_settings
from tests.support.community import write_tiny_community

Edit = Callable[[dict[str, Any]], object]


def default_raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))
    return raw


def write_policy(path: Path, edit: Edit | None = None) -> Path:
    raw = default_raw()
    if edit is not None:
        edit(raw)
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


# --- the default policy ---------------------------------------------------------------------------------------------


def test_the_default_policy_loads_and_plans_every_kind_it_names() -> None:
    policy = load_policy()
    assert set(policy.kinds) == {"medical", "fall", "fire", "utility", "security", "distress"}
    for kind in policy.kinds:
        assert policy.plan_for(kind, out_of_area=False).steps[0] == StepSpec("wave", 3, ("sms",))
        assert policy.plan_for(kind, out_of_area=True).steps == (StepSpec("duty_officer", 0, ("sms", "voice")),)
    assert policy.label("fire", "zh") == "火情" and policy.label("fire", "en") == "fire"


def test_the_dispatch_core_settings_reach_the_plan_with_their_documented_values() -> None:
    plan = load_policy().plan_for("medical", out_of_area=False)
    assert (plan.responders_wanted, plan.no_show_factor, plan.no_show_margin_s) == (2, 1.5, 60.0)
    assert (plan.call_120_after_s, plan.arrival_geofence_m) == (90.0, 30.0)
    assert (plan.building_at_start, plan.building_vanguards_max) == (True, 3)
    assert (plan.chain_repeat_max, plan.chain_backoff_factor, plan.chain_backoff_max_s) == (3, 2.0, 600.0)


def test_every_dispatch_core_setting_is_written_out_in_the_default_file_with_a_note() -> None:
    raw = default_raw()
    for name in ("responders_wanted", "call_120_after_s", "arrival_geofence_m", "building_at_start"):
        assert name in raw and f"{name}_comment" in raw
    for name in ("no_show_margin_s", "building_vanguards_max", "chain_backoff_max_s", "chain_backoff_factor"):
        assert name in raw


def test_a_policy_without_the_dispatch_core_settings_takes_their_defaults() -> None:
    core = ("responders_wanted", "no_show_factor", "call_120_after_s", "building_at_start", "chain_repeat_max")
    raw = {k: v for k, v in default_raw().items() if not k.startswith(core)}
    plan = Policy(raw).plan_for("fire", out_of_area=False)
    assert (plan.responders_wanted, plan.call_120_after_s, plan.building_at_start, plan.chain_repeat_max) == (
        2,
        90.0,
        True,
        3,
    )


def test_a_setting_left_out_of_the_file_and_left_out_of_an_old_plan_mean_the_same() -> None:
    plan_defaults = {f.name: f.default for f in dataclasses.fields(Plan) if f.default is not dataclasses.MISSING}
    for name, field in PolicyFile.model_fields.items():
        if name in plan_defaults and name != "matching":
            assert field.default == plan_defaults[name], name


def test_the_command_line_overrides_of_wait_and_budget_still_apply() -> None:
    plan = load_policy().plan_for("fire", out_of_area=False, wait_s=5, alert_budget=40)
    assert (plan.wait_s, plan.alert_budget_per_day) == (5.0, 40)


def test_the_plan_carries_the_kinds_support_roles_to_matching() -> None:
    plan = load_policy().plan_for("medical", out_of_area=False)
    rules = MatchRules.from_plan(plan)
    assert rules.roles == (RoleSpec("aed_fetcher", ("first_aid",), 1, "aed"),)
    assert (rules.acceptance_weight, rules.live_position_max_age_s) == (0.5, 600.0)


def test_notes_may_be_left_anywhere_as_comment_keys() -> None:
    def annotate(raw: dict[str, Any]) -> None:
        raw["kinds"]["comment"] = "the incident kinds residents can press"
        raw["kinds"]["fire"]["comment"] = "fire_safety only"
        raw["kinds"]["medical"]["roles"][0]["comment"] = "brings the AED"
        raw["steps"][0]["comment"] = "the nearest three"
        raw["wait_s_comment"] = "seconds per step"

    raw = default_raw()
    annotate(raw)
    assert Policy(raw).kinds == load_policy().kinds


def test_a_policy_built_in_code_is_checked_as_a_file_is() -> None:
    raw = default_raw()
    raw["steps"][0]["size"] = 0
    with pytest.raises(PolicyError, match=r"steps\[0\]\.size: Input should be greater than or equal to 1"):
        Policy(raw)


def test_asking_for_a_kind_the_policy_lacks_names_the_known_ones() -> None:
    with pytest.raises(PolicyError, match="unknown incident kind 'flood'; known: medical, fall, fire"):
        load_policy().plan_for("flood", out_of_area=False)


# --- mistakes in the file -------------------------------------------------------------------------------------------

MISTAKES: dict[str, tuple[Edit, str]] = {
    "unknown key": (
        lambda raw: raw["kinds"]["fire"].update(skils=["fire_safety"]),
        "kinds.fire.skils: unknown key; remove it or correct its spelling (allowed here: label_en, label_zh, roles,",
    ),
    "misspelt setting": (lambda raw: raw.update(wait_sec=30), "wait_sec: unknown key"),
    "missing key": (lambda raw: raw["kinds"]["fire"].pop("label_en"), "kinds.fire.label_en: missing; add it"),
    "missing setting": (lambda raw: raw.pop("walking_speed_m_s"), "walking_speed_m_s: missing; add it"),
    "negative wait": (lambda raw: raw.update(wait_s=-30), "wait_s: Input should be greater than 0, got -30"),
    "zero wait": (lambda raw: raw.update(wait_s=0), "wait_s: Input should be greater than 0, got 0"),
    "unknown action": (
        lambda raw: raw["steps"][1].update(action="page_everyone"),
        "steps[1].action: Input should be 'wave', 'building_leader', 'grid_branch' or 'duty_officer', "
        "got 'page_everyone'",
    ),
    "empty skills": (
        lambda raw: raw["kinds"]["fire"].update(skills=[]),
        "kinds.fire.skills: List should have at least 1 item",
    ),
    "empty role skills": (
        lambda raw: raw["kinds"]["medical"]["roles"][0].update(skills=[]),
        "kinds.medical.roles[0].skills: List should have at least 1 item",
    ),
    "empty label": (lambda raw: raw["kinds"]["fire"].update(label_zh=""), "kinds.fire.label_zh: String should have"),
    "wrong type": (lambda raw: raw.update(wait_s="30"), "wait_s: Input should be a valid number, got '30'"),
    "wrong type of switch": (
        lambda raw: raw.update(building_at_start="yes"),
        "building_at_start: Input should be a valid boolean, got 'yes'",
    ),
    "unknown channel": (
        lambda raw: raw["steps"][4].update(channels=["sms", "fax"]),
        "steps[4].channels[1]: Input should be 'sms' or 'voice', got 'fax'",
    ),
    "no channel": (lambda raw: raw["steps"][4].update(channels=[]), "steps[4].channels: List should have at least"),
    "no steps": (lambda raw: raw.update(steps=[]), "steps: List should have at least 1 item"),
    "no out-of-area steps": (lambda raw: raw.update(out_of_area_steps=[]), "out_of_area_steps: List should have"),
    "wave without size": (
        lambda raw: raw["steps"][0].pop("size"),
        'steps[0].size: a wave step needs a size: add "size": N with N >= 1 vanguards',
    ),
    "empty wave": (lambda raw: raw["steps"][0].update(size=0), "steps[0].size: Input should be greater than or equal"),
    "size on a non-wave step": (
        lambda raw: raw["steps"][2].update(size=4),
        "steps[2].size: only wave steps have a size: remove it from this building_leader step",
    ),
    "zero walking speed": (lambda raw: raw.update(walking_speed_m_s=0), "walking_speed_m_s: Input should be greater"),
    "speed in km/h": (lambda raw: raw.update(walking_speed_m_s=6.5), "walking_speed_m_s: Input should be less than"),
    "detour shorter than the straight line": (
        lambda raw: raw.update(detour_factor=0.8),
        "detour_factor: Input should be greater than or equal to 1",
    ),
    "no responder wanted": (lambda raw: raw.update(responders_wanted=0), "responders_wanted: Input should be greater"),
    "no-show before the ETA": (lambda raw: raw.update(no_show_factor=0.5), "no_show_factor: Input should be greater"),
    "backoff shorter than a step": (
        lambda raw: raw.update(chain_backoff_max_s=10),
        "chain_backoff_max_s: the longest re-paging wait must be at least wait_s (30)",
    ),
    "unknown fetch": (
        lambda raw: raw["kinds"]["medical"]["roles"][0].update(fetch="stretcher"),
        "kinds.medical.roles[0].fetch: Input should be 'aed'",
    ),
    "kind name with capitals": (
        lambda raw: raw["kinds"].update(Fire=raw["kinds"].pop("fire")),
        "kinds.Fire (the name): 'Fire' must be lowercase letters, digits and _",
    ),
    "note beside no setting": (
        lambda raw: raw.update(wait_comment="x"),
        "wait_comment: a note beside a setting is named after it (<setting>_comment)",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_is_refused_naming_the_file_and_the_key(tmp_path: Path, mistake: str) -> None:
    edit, expected = MISTAKES[mistake]
    path = write_policy(tmp_path / "policy.json", edit)
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert str(refused.value).startswith(f"escalation policy {path} is invalid: ")
    assert expected in str(refused.value)


def test_every_mistake_in_the_file_is_listed_at_once(tmp_path: Path) -> None:
    def three_mistakes(raw: dict[str, Any]) -> None:
        raw.update(wait_s=-1, detour_factor="1.3")
        raw["kinds"]["fire"]["skills"] = []

    path = write_policy(tmp_path / "policy.json", three_mistakes)
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    lines = str(refused.value).splitlines()
    assert lines[0] == f"escalation policy {path} is invalid:"
    assert [line.split(":")[0] for line in lines[1:]] == ["  - kinds.fire.skills", "  - wait_s", "  - detour_factor"]


def test_a_file_that_is_not_json_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text('{\n  "wait_s": 30,\n  "kinds": {,}\n}', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"policy\.json is not valid JSON: .* at line 3 column 13"):
        load_policy(path)


def test_a_file_of_something_else_than_settings_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(PolicyError, match="the file must hold one JSON object"):
        load_policy(path)


def test_a_missing_file_is_refused_with_where_it_was_looked_for(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    with pytest.raises(PolicyError, match=f"escalation policy {path} does not exist: check DISPATCH_POLICY"):
        load_policy(path)


# --- plans snapshotted onto incidents by earlier versions -----------------------------------------------------------

# What Plan.to_json() gave at commit bba58db, as stored on incidents (a JSON column: tuples became lists).
PLAN_AT_BBA58DB: dict[str, Any] = {
    "kind": "medical",
    "skills": ["doctor", "nurse", "first_aid"],
    "steps": [
        {"action": "wave", "size": 3, "channels": ["sms"]},
        {"action": "wave", "size": 5, "channels": ["sms"]},
        {"action": "building_leader", "size": 0, "channels": ["sms"]},
        {"action": "grid_branch", "size": 0, "channels": ["sms"]},
        {"action": "duty_officer", "size": 0, "channels": ["sms", "voice"]},
    ],
    "wait_s": 30.0,
    "repeat_last_level_times": 20,
    "walking_speed_m_s": 1.8,
    "detour_factor": 1.3,
    "stairs_s_per_floor": 12.0,
    "lift_s_per_floor": 4.0,
    "max_distance_m": 1500.0,
    "alert_budget_per_day": 12,
    "on_scene_bound_s": 900.0,
    "wellbeing_after_s": 7200.0,
    "matching": {
        "comment": "Rank by ETA / p_accept ** acceptance_weight (0: by ETA alone). A phone's live position counts "
        "while younger than live_position_max_age_s, else the home building.",
        "acceptance_weight": 0.5,
        "live_position_max_age_s": 600,
        "roles": [{"role": "aed_fetcher", "skills": ["first_aid"], "count": 1, "fetch": "aed"}],
    },
}

# The first plans (commit d08233d): no channels, budget, bounds or matching yet.
PLAN_AT_D08233D: dict[str, Any] = {
    "kind": "fire",
    "skills": ["fire_safety"],
    "steps": [{"action": "wave", "size": 3}, {"action": "building_leader", "size": 0}, {"action": "duty_officer"}],
    "wait_s": 30,
    "repeat_last_level_times": 20,
    "walking_speed_m_s": 1.8,
    "detour_factor": 1.3,
    "stairs_s_per_floor": 12,
    "lift_s_per_floor": 4,
    "max_distance_m": 1500,
}


def test_a_plan_snapshotted_at_bba58db_reads_with_the_new_settings_at_their_defaults() -> None:
    plan = Plan.from_json(copy.deepcopy(PLAN_AT_BBA58DB))
    assert plan.steps[4] == StepSpec("duty_officer", 0, ("sms", "voice"))
    assert plan.step(99) == plan.steps[-1] and plan.wait_after(0) == 30.0 and plan.wait_after(25) == 120.0
    assert (plan.responders_wanted, plan.no_show_factor, plan.no_show_margin_s, plan.call_120_after_s) == (
        2,
        1.5,
        60.0,
        90.0,
    )
    assert (plan.arrival_geofence_m, plan.building_at_start, plan.building_vanguards_max) == (30.0, True, 3)
    assert (plan.chain_repeat_max, plan.chain_backoff_factor, plan.chain_backoff_max_s) == (3, 2.0, 600.0)
    assert MatchRules.from_plan(plan).roles == (RoleSpec("aed_fetcher", ("first_aid",), 1, "aed"),)


def test_the_first_plans_ever_snapshotted_still_read() -> None:
    plan = Plan.from_json(copy.deepcopy(PLAN_AT_D08233D))
    assert plan.steps == (StepSpec("wave", 3), StepSpec("building_leader"), StepSpec("duty_officer"))
    assert plan.steps[0].channels == ("sms",) and isinstance(plan.wait_s, float)
    assert (plan.alert_budget_per_day, plan.wellbeing_after_s, plan.matching) == (12, 7200.0, None)
    assert MatchRules.from_plan(plan) == MatchRules()


def test_a_plan_reads_back_as_it_was_snapshotted() -> None:
    for out_of_area in (False, True):
        plan = load_policy().plan_for("medical", out_of_area=out_of_area)
        stored = json.loads(json.dumps(plan.to_json()))
        assert Plan.from_json(stored) == plan


def test_the_new_settings_are_snapshotted_onto_the_incident() -> None:
    stored = load_policy().plan_for("fall", out_of_area=False).to_json()
    assert {k: stored[k] for k in ("responders_wanted", "call_120_after_s", "chain_backoff_max_s")} == {
        "responders_wanted": 2,
        "call_120_after_s": 90.0,
        "chain_backoff_max_s": 600.0,
    }


# --- DISPATCH_POLICY ------------------------------------------------------------------------------------------------


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"DISPATCH_VAR_DIR": str(tmp_path), "DISPATCH_SECRET_KEY": "k", **values}


def test_the_policy_file_is_the_default_unless_dispatch_policy_names_another(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path)).policy_path is None
    assert load_settings(env(tmp_path, DISPATCH_POLICY="")).policy_path is None
    named = load_settings(env(tmp_path, DISPATCH_POLICY=str(tmp_path / "mine.json")))
    assert named.policy_path == tmp_path / "mine.json"


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dispatch.sqlite'}"


def sqlite_settings(tmp_path: Path, policy_path: Path) -> Settings:
    return Settings(
        database_url=sqlite_url(tmp_path),
        public_base_url="https://dispatch.example.org",
        secret_key="test-secret",
        data_dir=write_tiny_community(tmp_path / "community"),
        policy_path=policy_path,
    )


def test_a_runtime_dispatches_by_the_file_dispatch_policy_names(tmp_path: Path) -> None:
    def ours(raw: dict[str, Any]) -> None:
        raw["kinds"]["fire"]["label_en"] = "fire (our wording)"
        raw["steps"][0]["size"] = 7
        raw["responders_wanted"] = 3

    path = write_policy(tmp_path / "ours.json", ours)
    runtime = build_runtime(load_settings(env(tmp_path, DISPATCH_POLICY=str(path), DATABASE_URL=sqlite_url(tmp_path))))
    try:
        policy = runtime.ctx.policy
        assert policy.label("fire", "en") == "fire (our wording)"
        plan = policy.plan_for("fire", out_of_area=False)
        assert (plan.steps[0].size, plan.responders_wanted) == (7, 3)
    finally:
        runtime.stop()


def test_a_runtime_with_a_bad_policy_is_refused_before_the_database_is_touched(tmp_path: Path) -> None:
    path = write_policy(tmp_path / "bad.json", lambda raw: raw.update(wait_s=-5))
    with pytest.raises(PolicyError, match=r"bad\.json is invalid: wait_s"):
        build_runtime(sqlite_settings(tmp_path, path))
    assert not (tmp_path / "dispatch.sqlite").exists()


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "8799"], ["work"]])
def test_the_command_line_refuses_a_bad_policy_with_the_fix_and_without_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    path = write_policy(tmp_path / "bad.json", lambda raw: raw["kinds"]["fire"].update(skills=[]))
    done = subprocess.run(
        [sys.executable, "-m", "dispatch", *command],
        env={**env(tmp_path), "DISPATCH_POLICY": str(path), "DATABASE_URL": sqlite_url(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"error: escalation policy {path} is invalid: kinds.fire.skills: List should have at least 1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "dispatch.sqlite").exists()
