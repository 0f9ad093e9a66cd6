"""train_model end to end: real training, saved model, MLflow run, current model, clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tensor_agent.errors import InputError
from tensor_agent.schema import Constraint, Plan

pytestmark = pytest.mark.integration


def _plan(ctx, modality=None, architecture=None, **constraints):
    """A plan resolved by the contract, as the graph's parse node makes it."""
    from tensor_agent.contract import resolve

    cs = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in constraints.items()]
    plan = Plan(addressed=True, intents=["train"], modality=modality, architecture=architecture, constraints=cs,
                tools=["design_architecture", "train_model"])
    return resolve(plan, ctx.options)


def _runs(ctx):
    from tensor_agent.tools.core.tracking import get_client

    client = get_client(ctx.settings)
    exp = client.get_experiment_by_name("tensor-agent")
    return client, client.search_runs([exp.experiment_id]) if exp else []


def test_digits_cnn_mlflow_and_current_model(ctx):
    from tensor_agent.tools.train import train_model

    ctx.options.update(epochs=2, register="digits-cnn")
    rep = train_model(_plan(ctx, modality="image", architecture="cnn", dataset="digits", optimizer="adamw",
                            schedule="cosine"), ctx)
    assert rep.family == "cnn" and rep.dataset == "digits" and rep.epochs_run == 2
    assert rep.test_metrics["accuracy"] > 0.5 and rep.config["optimizer"] == "adamw"
    from tensor_agent.tools.core.plots import wait_for_plots

    assert wait_for_plots() == []  # the curve PNG is drawn (and logged) by a child process
    assert Path(rep.curve_png).exists() and Path(rep.model_path, "handle.json").exists()
    assert rep.dataset_info["sizes"] == {"train": 1257, "val": 180, "test": 360}
    client, runs = _runs(ctx)
    assert [r.info.run_id for r in runs] == [rep.mlflow_run_id]
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["dataset"] == "digits" and run.data.params["train.optimizer"] == "adamw"
    assert "test_accuracy" in run.data.metrics
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 2
    arts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"plots", "model", "dataset.json"} <= arts
    assert "model/handle.json" in {a.path for a in client.list_artifacts(run.info.run_id, "model")}
    assert rep.registered_model and rep.registered_model["version"] == "1"
    # the conversation's current model is the trained one, also from a fresh process (by path)
    h = ctx.current_model()
    assert h.path == rep.model_path and h.mlflow_run_id == rep.mlflow_run_id and h.dataset == "digits"
    ctx.session.clear()
    again = ctx.current_model()
    assert again is not None and again.family == "cnn" and again.metrics["accuracy"] == rep.test_metrics["accuracy"]


def test_no_dataset_uses_modality_default(ctx):
    from tensor_agent.tools.train import train_model

    ctx.options.update(epochs=5)
    rep = train_model(_plan(ctx, modality="tabular", architecture="mlp"), ctx)
    assert rep.dataset == "breast_cancer" and rep.family == "mlp"
    sentence = [n for n in rep.notes if n.startswith("No dataset was named") and "breast_cancer" in n]
    assert len(sentence) == 1 and "--set data_path=" in sentence[0] and sentence[0] in rep.message
    assert rep.test_metrics["accuracy"] > 0.85


def test_xgboost_breast_cancer(ctx):
    from tensor_agent.tools.train import train_model

    rep = train_model(_plan(ctx, modality="tabular", architecture="xgboost", dataset="breast_cancer"), ctx)
    assert rep.kind == "xgboost" and rep.test_metrics["accuracy"] >= 0.95
    assert rep.best_epoch > 0 and rep.model_path
    from tensor_agent.tools.core.model_store import load_model

    assert load_model(rep.model_path).kind == "xgboost"


@pytest.mark.parametrize("family", ["gcn", "gat", "graphsage"])
def test_karate_gnn(ctx, family):
    from tensor_agent.tools.train import train_model

    ctx.options.update(epochs=60, track=False)
    rep = train_model(_plan(ctx, modality="graph", architecture=family, dataset="karate"), ctx)
    assert rep.family == family and 0.0 <= rep.test_metrics["accuracy"] <= 1.0
    assert rep.dataset_info["sizes"]["test"] == 26 and rep.epochs_run == 60
    assert rep.test_metrics["accuracy"] > 0.3  # chance is 0.25


def test_diverging_lr_is_clear_and_stores_nothing(ctx):
    from tensor_agent.tools.train import train_model

    ctx.options.update(epochs=3)
    with pytest.raises(InputError, match="diverged.*Lower the learning rate"):
        train_model(_plan(ctx, modality="tabular", architecture="mlp", dataset="breast_cancer", learning_rate=10,
                          optimizer="sgd"), ctx)
    assert not any(ctx.settings.models_dir.iterdir())
    assert ctx.current_model() is None
    _, runs = _runs(ctx)
    assert len(runs) == 1 and runs[0].info.status == "FAILED" and "diverged" in runs[0].data.tags["error"]


def test_bad_inputs_store_nothing(ctx, tmp_path):
    from tensor_agent.tools.train import train_model

    p = tmp_path / "d.csv"
    p.write_text("a,b,y\n" + "\n".join(f"{i},{i * 2},{i % 2}" for i in range(30)))
    cases = [({"data_path": str(tmp_path / "missing.csv"), "target_column": "y"}, "not found"),
             ({"data_path": str(p), "target_column": "label"}, "target column 'label' not found"),
             ({"data_path": str(p), "target_column": "y", "optimizer": "rmsprop"}, "one of sgd, adam")]
    for opts, msg in cases:
        ctx.options.clear()
        ctx.options.update(opts)
        with pytest.raises(InputError, match=msg):
            train_model(_plan(ctx, modality="tabular", architecture="mlp"), ctx)
    assert not any(ctx.settings.models_dir.iterdir())


def test_mismatched_current_model_is_replaced(ctx):
    """A current model that does not fit the data (wrong input shape) is not force-fed: a new one is designed."""
    import torch

    from tensor_agent.tools.core.context import ModelHandle
    from tensor_agent.tools.train import train_model

    ctx.set_model(ModelHandle(module=torch.nn.Linear(3, 2), family="mlp", input_spec={"kind": "tabular",
                                                                                     "shape": [3]}, num_classes=2))
    ctx.options.update(epochs=2, track=False)
    rep = train_model(_plan(ctx, architecture="mlp", dataset="breast_cancer"), ctx)
    assert any("does not fit" in n for n in rep.notes)
    assert ctx.current_model().input_spec["shape"] == [30]


def test_backbone_transfer_digits(ctx):
    """Pre-train on digits 0-4, then fine-tune a new head on 5-9 with 10 labels per class."""
    from tensor_agent.tools.train import train_model

    ctx.options.update(epochs=3, classes=[0, 1, 2, 3, 4], track=False)
    first = train_model(_plan(ctx, modality="image", architecture="cnn", dataset="digits"), ctx)
    ctx.options.clear()
    ctx.options.update(epochs=40, lr=1e-2, classes="5-9", train_per_class=10, backbone=first.model_path,
                       strategy="feature_extraction", track=False)
    rep = train_model(_plan(ctx, modality="image", dataset="digits"), ctx)
    assert rep.strategy == "feature_extraction" and rep.dataset_info["sizes"]["train"] == 50
    assert rep.trainable_params < rep.total_params / 10
    assert rep.test_metrics["accuracy"] > 0.4


def test_lm_and_diffusion(ctx):
    from tensor_agent.tools.train import train_model

    ctx.options.update(epochs=2, time_budget_s=4, track=False)
    lm = train_model(_plan(ctx, modality="text_generation"), ctx)
    assert lm.dataset == "tiny_corpus" and lm.sample_text and len(lm.sample_text) > 50
    assert lm.test_metrics["perplexity"] > 1
    ctx.options.update(epochs=2, batch_size=128, time_budget_s=4)
    dif = train_model(_plan(ctx, modality="image_generation"), ctx)
    assert dif.dataset == "digits_images" and Path(dif.sample_png).stat().st_size > 1000


def test_resume_after_interruption(ctx, monkeypatch):
    from tensor_agent.tools.core.engine import loop
    from tensor_agent.tools.train import train_model

    ctx.options.update(epochs=3, track=False)
    plan = _plan(ctx, modality="tabular", architecture="mlp", dataset="wine")
    real_evaluate = loop.evaluate
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:  # during epoch 2's validation
            raise KeyboardInterrupt
        return real_evaluate(*a, **k)

    monkeypatch.setattr(loop, "evaluate", flaky)
    with pytest.raises(KeyboardInterrupt):
        train_model(plan, ctx)
    monkeypatch.setattr(loop, "evaluate", real_evaluate)
    rep = train_model(plan, ctx)
    assert rep.resumed_from == 1 and len(rep.history) == 3 and rep.epochs_run == 2
    assert not any(ctx.settings.path("checkpoints").iterdir())  # cleaned after success
