"""Search spaces per family, parameter selection ('tune lr and dropout only'), and the tune request."""

from __future__ import annotations

import pytest

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.schema import Plan, TuneSpec
from tensor_agent.tools.tune.spaces import Param, select, space_for


def names(space):
    return [p.name for p in space]


def test_neural_space_has_optimiser_regularisation_batch_schedule_and_size():
    space = names(space_for("cnn"))
    for p in ("lr", "weight_decay", "dropout", "batch_size", "schedule", "warmup_epochs", "variant"):
        assert p in space
    variant = next(p for p in space_for("cnn") if p.name == "variant")
    assert "small" in variant.choices and len(variant.choices) >= 2


def test_graph_space_has_no_batch_size_and_xgboost_its_own():
    assert "batch_size" not in names(space_for("gcn"))
    assert names(space_for("xgboost")) == ["max_depth", "eta", "subsample", "colsample_bytree",
                                          "min_child_weight", "rounds"]
    assert {"lora_r", "lora_alpha"} <= set(names(space_for("bert", strategy="lora")))


def test_unknown_family_is_unsatisfiable():
    with pytest.raises(UnsatisfiableError):
        space_for("no-such-family")


def test_select_keeps_only_the_asked_parameters_with_aliases():
    space = space_for("cnn")
    assert names(select(space, ["learning rate", "dropout"], "cnn")) == ["lr", "dropout"]
    assert names(select(space, [], "cnn")) == names(space)
    assert names(select(space_for("xgboost"), ["colsample", "n_estimators"], "xgboost")) == ["colsample_bytree",
                                                                                            "rounds"]


def test_select_rejects_a_parameter_the_family_does_not_have():
    with pytest.raises(InputError, match="max_depth"):
        select(space_for("cnn"), ["max_depth"], "cnn")


def test_param_contains():
    p = Param(name="lr", kind="float", low=1e-4, high=1e-2, log=True)
    assert p.contains(1e-3) and not p.contains(0.5) and not p.contains("x")
    c = Param(name="schedule", kind="categorical", choices=["cosine", "step"])
    assert c.contains("cosine") and not c.contains("constant")
    i = Param(name="max_depth", kind="int", low=2, high=10)
    assert i.contains(3) and not i.contains(3.5)


def test_tune_args_plan_then_options(tmp_path):
    from tensor_agent.config import Settings
    from tensor_agent.tools.core.context import ToolContext
    from tensor_agent.tools.tune.tool import tune_args

    plan = Plan(addressed=True, intents=["tune"], tune=TuneSpec(trials=7, time_budget_s=30, params=["lr"]))
    ctx = ToolContext(settings=Settings.from_env(tmp_path), options={})
    a = tune_args(plan, ctx)
    assert (a.trials, a.budget_s, a.params) == (7, 30, ["lr"])
    ctx.options = {"trials": 3, "tune_params": "lr,dropout", "workers": 2}
    a = tune_args(plan, ctx)
    assert (a.trials, a.params, a.workers) == (3, ["lr", "dropout"], 2)
    only_time = Plan(addressed=True, intents=["tune"], tune=TuneSpec(time_budget_s=60))
    assert tune_args(only_time, ToolContext(settings=Settings.from_env(tmp_path))).trials == 10_000
