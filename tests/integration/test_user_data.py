"""Right on the user's own data (issue 12): a messy CSV, a small image folder and a regression table,
each trained through `train_model` and reported next to its baselines."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

_spec = importlib.util.spec_from_file_location("user_data", Path(__file__).resolve().parents[2] / "evals" /
                                               "user_data.py")
user_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(user_data)


def _plan(ctx, **fields):
    from tensor_agent.contract import resolve
    from tensor_agent.schema import Plan

    return resolve(Plan(addressed=True, intents=["train"], tools=["train_model"], **fields), ctx.options)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return user_data.mixed_csv(tmp_path_factory.mktemp("csv") / "customers.csv", n=1200)


@pytest.mark.parametrize("family", ["xgboost", "mlp"])
def test_messy_csv_trains_with_preprocessing_and_baselines(ctx, mixed, family):
    import pandas as pd
    import torch

    from tensor_agent.tools.core.model_store import load_model
    from tensor_agent.tools.core.preprocess import preprocessor_from_json
    from tensor_agent.tools.train import train_model

    ctx.options.update(data_path=str(mixed), target_column="churn", track=False)
    rep = train_model(_plan(ctx, modality="tabular", architecture=family), ctx)
    acc, ref = rep.test_metrics["accuracy"], rep.baselines["reference_accuracy"]
    assert acc >= ref - 0.03, (acc, ref)
    assert rep.baselines["majority_rate"] < 0.6 and not rep.baselines["near_chance"]
    msg = rep.message
    assert "majority-class rate" in msg and "logistic regression" in msg
    for words in ("num1, num2, num3", "city", "free text comment: TF-IDF", "dropped customer_id: identifier-like"):
        assert words in msg, words
    assert ("imputed with the training median" in msg) == (family == "mlp")
    assert ("XGBoost handles missing values natively" in msg) == (family == "xgboost")
    # the preprocessing is saved with the model as JSON and re-applies to the raw file
    h = load_model(rep.model_path)
    pre = preprocessor_from_json(h.extra["preprocessor"])
    df = pd.read_csv(mixed)
    X = pre.transform(df)
    y = (df["churn"] == "yes").to_numpy()
    if family == "xgboost":
        pred = h.module.predict(X) == 1
    else:
        with torch.no_grad():
            pred = (h.module.eval()(torch.as_tensor(X)).argmax(1) == 1).numpy()
    assert (pred == y).mean() > 0.8


def test_small_image_folder_learns(ctx, tmp_path):
    from tensor_agent.tools.train import train_model

    root = user_data.shapes_folder(tmp_path / "shapes", per_class=40, seed=11)
    # a generous budget: on a loaded machine the default 120 s would stop training early (not what is tested)
    ctx.options.update(data_path=str(root), track=False, time_budget_s=900)
    # the planner's guide pick for images (no family named) is convnext: on 40 images a class the trainer
    # trains a small CNN instead and says so
    rep = train_model(_plan(ctx, modality="image", architecture="convnext"), ctx)
    assert rep.family == "cnn" and any("small CNN instead of the guide's convnext" in n for n in rep.notes)
    assert rep.test_metrics["accuracy"] >= 0.85, rep.test_metrics
    assert rep.baselines["majority_rate"] == pytest.approx(1 / 3, abs=0.02)
    assert "majority-class rate 0.3" in rep.message and "linear probe" in rep.message


def test_regression_target_reports_regression_metrics(ctx, tmp_path):
    from tensor_agent.tools.train import train_model

    path = user_data.regression_csv(tmp_path / "houses.csv")
    ctx.options.update(data_path=str(path), target_column="price", track=False)
    rep = train_model(_plan(ctx, modality="tabular", architecture="xgboost"), ctx)
    m = rep.test_metrics
    assert rep.dataset_info["task"] == "regression" and {"rmse", "mae", "r2"} <= set(m)
    assert m["r2"] > 0.8 and m["rmse"] < rep.baselines["mean_predictor"]["rmse"] / 2
    assert "mean predictor RMSE" in rep.message and "test RMSE" in rep.message
