"""Trials and the winner go to the vector memory; a later study on a related task warm-starts from it."""

from __future__ import annotations

import pytest

from tensor_agent.schema import DataSource, Plan, TuneSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # loads the embedding model


def _plan(ctx, dataset, trials):
    from tensor_agent.contract import resolve

    return resolve(Plan(addressed=True, intents=["tune"], architecture="xgboost", data=DataSource(dataset=dataset),
                        tools=["tune_model"], tune=TuneSpec(trials=trials)), ctx.options)


def test_winner_and_trials_recorded_then_used_for_a_warm_start(ctx):
    from tensor_agent.tools.tune import tune_model

    rep = tune_model(_plan(ctx, "breast_cancer", 3), ctx)
    assert not rep.warnings or all("importances" in w for w in rep.warnings)
    mem = ctx.memory
    tuned = [d for d in mem.list("design", family="xgboost") if (d.get("hparams") or {}).get("tuned_by") == "optuna"]
    assert len(tuned) == 1 and tuned[0]["hparams"]["params"] == pytest.approx(rep.best_params)  # stored to 10 digits
    trials = [o for o in mem.list("outcome", family="xgboost") if o.get("stage") == "tune"]
    assert len(trials) == 3
    # a new storage: the only source of a warm start is the memory
    ctx.options.update(storage="other-studies.log")
    rep2 = tune_model(_plan(ctx, "wine", 2), ctx)
    assert rep2.warm_start and rep2.warm_start[0].source.startswith("memory ")
    assert rep2.warm_start[0].params == pytest.approx(rep.best_params) and "related task" in rep2.warm_start[0].why
