"""Tracking requests fill `plan.track` (action, alias, version, runs) in both planner back-ends."""

from __future__ import annotations

import pytest

from tensor_agent.planner import rules_plan
from tensor_agent.schema import Plan, TrackSpec

CASES = [
    # text, action, alias, version, runs, register_name
    ("@TENSOR register it as churn-v2", "register", None, None, None, "churn-v2"),
    ("@TENSOR register the model in the MLflow model registry as churn-v2", "register", None, None, None, "churn-v2"),
    ("@TENSOR register it as churn-v2 and make it the champion", "register", "champion", None, None, "churn-v2"),
    ("@TENSOR set the champion alias to version 2", "alias", "champion", 2, None, None),
    ("@TENSOR promote version 3 to champion", "alias", "champion", 3, None, None),
    ("@TENSOR move the challenger alias to v4", "alias", "challenger", 4, None, None),
    ("@TENSOR list the versions of the model", "list", None, None, None, None),
    ("@TENSOR what versions of bc-mlp are registered?", "list", None, None, None, "bc-mlp"),
    ("@TENSOR roll back to version 1", "rollback", None, 1, None, None),
    ("@TENSOR roll back churn-v2 to version 1", "rollback", None, 1, None, "churn-v2"),
    ("@TENSOR archive version 1", "archive", None, 1, None, None),
    ("@TENSOR compare my last 5 runs", "compare", None, None, 5, None),
    ("@TENSOR compare the last three runs on accuracy", "compare", None, None, 3, None),
    ("@TENSOR log my last run to Weights & Biases", "export", None, None, None, None),
    ("@TENSOR log my last run to Neptune", "export", None, None, None, None),
]


@pytest.mark.parametrize("text,action,alias,version,runs,name", CASES)
def test_tracking_wordings_fill_plan_track(text, action, alias, version, runs, name):
    plan = rules_plan(text)
    assert plan.intents == ["track"], plan.intents
    assert plan.tools == ["track_experiment"]
    assert plan.track == TrackSpec(action=action, alias=alias, version=version, runs=runs)
    assert plan.register_name == name


def test_model_names_are_not_data_cues():
    plan = rules_plan("@TENSOR what versions of bc-mlp are registered?")
    assert (plan.modality, plan.architecture) == (None, None)


def test_no_track_field_without_a_track_intent():
    assert rules_plan("@TENSOR train a CNN on the digits").track is None


def test_version_in_a_registered_name_is_not_a_version():
    plan = rules_plan("@TENSOR register it as churn-v2")
    assert plan.track.version is None


def test_shipping_to_production_is_not_an_alias():
    plan = rules_plan("@TENSOR register it as churn-v2 and ship it to production")
    assert plan.track.action == "register" and plan.track.alias is None
    assert "deploy" in plan.intents
    promoted = rules_plan("@TENSOR register it as churn-v2 and promote it to production")
    assert promoted.track.alias == "production"


def test_negated_tracking_verb_is_not_the_action():
    plan = rules_plan("@TENSOR don't register anything yet, just compare my last 4 runs")
    assert plan.intents == ["track"]
    assert plan.track.action == "compare" and plan.track.runs == 4


def test_training_then_registering_keeps_both_and_the_action():
    plan = rules_plan("@TENSOR train a CNN on digits, log it to MLflow and register it as digits-cnn")
    assert plan.intents == ["train", "track"]
    assert plan.track.action == "register" and plan.register_name == "digits-cnn"


# --- LLM back-end: the draft schema types the tracking request and the rules reading wins -----------------
def _untyped(node) -> list:
    out = []
    if isinstance(node, dict):
        for k, v in node.get("properties", {}).items():
            if not any(key in v for key in ("type", "enum", "const", "anyOf")):
                out.append(k)
            out += _untyped(v)
        for key in ("items", "anyOf"):
            sub = node.get(key)
            for s in sub if isinstance(sub, list) else [sub] if sub else []:
                out += _untyped(s)
    return out


def test_llm_draft_schema_types_the_track_field():
    from tensor_agent.planner.llm import plan_tool

    params = plan_tool()["function"]["parameters"]
    track = params["properties"]["track"]
    obj = next(s for s in track["anyOf"] if s.get("type") == "object")
    assert set(obj["properties"]) == {"action", "alias", "version", "runs"}
    actions = next(s for s in obj["properties"]["action"]["anyOf"] if "enum" in s)["enum"]
    assert set(actions) == {"register", "alias", "list", "rollback", "archive", "compare", "export"}
    assert _untyped(track) == []


def test_llm_draft_normalises_and_drops_bad_track_values():
    from tensor_agent.planner.llm import PlanDraft

    d = PlanDraft.model_validate({"intents": ["track"], "track": {"action": "Roll back", "alias": "v2 (best)",
                                                                  "version": "v3", "runs": None}})
    assert d.track.action == "rollback" and d.track.alias is None and d.track.version == 3


def test_llm_track_merges_rules_reading_with_the_model():
    from tensor_agent.planner.llm import PlanDraft, _track

    rules = rules_plan("@TENSOR promote version 3 to champion")
    draft = PlanDraft.model_validate({"intents": ["track"], "track": {"action": "list", "runs": 2}})
    merged = _track(draft, rules, ["track"], None)
    assert merged == TrackSpec(action="alias", alias="champion", version=3, runs=2)
    # The rules planner saw no track intent: its reading of the words is still used.
    plain = Plan(addressed=True, text="@TENSOR archive version 7", backend="rules")
    got = _track(PlanDraft.model_validate({"intents": ["track"]}), plain, ["track"], None)
    assert got == TrackSpec(action="archive", version=7)
    assert _track(draft, rules, ["design"], None) is None
