"""tune_model end to end: real Optuna studies, real XGBoost/CNN training, real MLflow parent/child runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tensor_agent.schema import DataSource, Plan, TrainSettings, TuneSpec

pytestmark = pytest.mark.integration


def _plan(ctx, family, dataset, **tune):
    from tensor_agent.contract import resolve

    plan = Plan(addressed=True, intents=["tune"], architecture=family, data=DataSource(dataset=dataset),
                tools=["tune_model"], tune=TuneSpec(**tune))
    return resolve(plan, ctx.options)


def _children(ctx, parent_id):
    from tensor_agent.tools.core.tracking import get_client

    client = get_client(ctx.settings)
    exp = client.get_experiment_by_name("tensor-agent")
    runs = client.search_runs([exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
    return client, runs


def test_xgboost_search_refit_mlflow_children_and_warm_start(ctx):
    from tensor_agent.tools.tune import tune_model

    ctx.options.update(use_memory=False)
    rep = tune_model(_plan(ctx, "xgboost", "breast_cancer", trials=4), ctx)
    assert sum(rep.trials.values()) == 4 and rep.trials.get("complete", 0) >= 2
    assert rep.default_params["max_depth"] == 4  # trial 0 is the default configuration
    assert rep.best_value <= rep.default_value and rep.search_best_value <= rep.best_value
    assert rep.selection and (rep.best_trial == 0) == rep.selection.startswith(("kept the default", "no configuration"))
    client, kids = _children(ctx, rep.mlflow_run_id)
    assert len(kids) == 4 and {k.data.tags["optuna.trial"] for k in kids} == {str(i) for i in range(4)}
    assert Path(rep.history_png).stat().st_size > 1000
    assert any(f.path == "model" for f in client.list_artifacts(rep.mlflow_run_id))
    cur = ctx.current_model()
    assert cur.family == "xgboost" and cur.path == rep.model_path and cur.mlflow_run_id == rep.mlflow_run_id
    assert 0.85 < rep.test_metrics["accuracy"] <= 1.0
    # a related task (wine after breast_cancer): the first study's best configuration is enqueued first
    rep2 = tune_model(_plan(ctx, "xgboost", "wine", trials=2), ctx)
    assert rep2.warm_start and rep2.warm_start[0].source.startswith(f"study {rep.study} trial ")
    assert "related task" in rep2.warm_start[0].why
    # it ran as trial 1, or as trial 0 when the first study's best was the default configuration itself
    assert rep2.warm_start[0].trial == (0 if rep.search_best_trial == 0 else 1)
    assert rep2.warm_start[0].params == {k: v for k, v in rep.search_best_params.items()}
    assert "Warm start from" in rep2.summary


def test_cnn_search_only_the_asked_parameters_with_pruning(ctx):
    from optuna.trial import TrialState

    from tensor_agent.tools.tune import tune_model
    from tensor_agent.tools.tune.runner import load_study
    from tensor_agent.tools.tune.storage import open_storage

    ctx.options.update(use_memory=False, epochs=2, variant="micro")
    rep = tune_model(_plan(ctx, "cnn", "digits", trials=4, params=["lr", "dropout"]), ctx)
    assert rep.space == ["lr", "dropout"] and set(rep.best_params) == {"lr", "dropout"}
    study = load_study(rep.study, open_storage(rep.storage))
    trials = [t for t in study.get_trials() if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(trials) == 4 and all(set(t.params) == {"lr", "dropout"} for t in trials)
    assert all(len(t.intermediate_values) >= 1 for t in trials)  # per-epoch reports reached the pruner
    assert ctx.current_model().family == "cnn" and 0.3 < rep.test_metrics["accuracy"] <= 1.0


def test_unknown_parameter_is_a_clear_input_error(ctx):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.tune import tune_model

    ctx.options.update(use_memory=False, tune_params="max_depth")
    with pytest.raises(InputError, match="cannot tune max_depth for family 'cnn'"):
        tune_model(_plan(ctx, "cnn", "digits", trials=2), ctx)


def test_trackers_mlflow_wandb_exports_the_search(ctx, monkeypatch):
    from tensor_agent.contract import resolve
    from tensor_agent.tools.core.wandb_export import read_offline_run
    from tensor_agent.tools.tune import tune_model

    monkeypatch.delenv("WANDB_MODE", raising=False)
    ctx.options.update(use_memory=False)
    plan = resolve(Plan(addressed=True, intents=["tune", "track"], architecture="xgboost", trackers=["mlflow", "wandb"],
                        data=DataSource(dataset="iris"), tune=TuneSpec(trials=2)), ctx.options)
    rep = tune_model(plan, ctx)
    assert rep.wandb["verified"] is True and rep.wandb["run_id"] == rep.mlflow_run_id
    assert read_offline_run(rep.wandb["wandb_dir"])["summary"]["best_value"] == pytest.approx(rep.best_value)
