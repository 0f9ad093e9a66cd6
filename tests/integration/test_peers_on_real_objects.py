"""Peers on the turn's real objects: @ECLIPSE measures a saved digits model exactly as scikit-learn does,
@VELOCITY plans from the latency it measures on that model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A small CNN trained for real on digits (seed 5), saved through the model store."""
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.model_store import save_model
    from tensor_agent.tools.core.zoo.registry import create_model

    data = load_dataset("digits", seed=5)
    handle = create_model("cnn", input_spec=data.input_spec, num_classes=10, task="classification")
    res = fit(handle.module, data, TrainConfig(epochs=2, lr=3e-3, seed=5, num_threads=1))
    handle.dataset, handle.extra = "digits", {**(handle.extra or {}), "seed": 5}
    path = save_model(handle, tmp_path_factory.mktemp("models"), name="digits-cnn")
    return path, res.test_metrics["accuracy"]


def _sklearn_reference(path: str):
    """Predictions computed independently of ECLIPSE: the saved model on the seed-5 test split."""
    import torch

    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.model_store import load_model

    handle = load_model(path)
    x, y = load_dataset("digits", seed=5).test.tensors
    handle.module.eval()
    with torch.no_grad():
        pred = handle.module(x).argmax(-1)
    return y.numpy(), pred.numpy()


def test_eclipse_numbers_match_sklearn_on_a_saved_digits_model(digits_model, tmp_path):
    """Acceptance (issue 12): per-class metrics and the confusion matrix equal scikit-learn's."""
    from sklearn.metrics import classification_report, confusion_matrix

    from tensor_agent.peers import get_peer
    from tensor_agent.schema import Plan

    path, trained_acc = digits_model
    plan = Plan(addressed=True, intents=["evaluate"], peers=["ECLIPSE"])
    ctx = {"artifacts": {"model": {"path": path, "family": "cnn", "dataset": "digits"}}, "workspace": str(tmp_path)}
    reply = get_peer("ECLIPSE")(plan, ctx)
    ev = reply.data["evaluation"]
    y, pred = _sklearn_reference(path)
    ref = classification_report(y, pred, output_dict=True, zero_division=0)
    assert ev["n_test"] == len(y) == 360
    assert ev["accuracy"] == pytest.approx(ref["accuracy"], abs=1e-12) == pytest.approx(trained_acc, abs=1e-6)
    for c in range(10):
        for key in ("precision", "recall", "f1"):
            assert ev["per_class"][str(c)][key] == pytest.approx(ref[str(c)][f"{key}-score" if key == "f1" else key],
                                                                 abs=1e-12)
        assert ev["per_class"][str(c)]["support"] == ref[str(c)]["support"]
    for avg, name in (("macro_avg", "macro avg"), ("weighted_avg", "weighted avg")):
        assert ev[avg]["f1"] == pytest.approx(ref[name]["f1-score"], abs=1e-12)
    assert ev["confusion_matrix"] == confusion_matrix(y, pred, labels=list(range(10))).tolist()
    lo, hi = ev["bootstrap"]["accuracy"]
    assert lo < ev["accuracy"] < hi and hi - lo < 0.1 and ev["bootstrap"]["resamples"] == 1000
    png = Path(ev["confusion_png"])
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and tmp_path in png.parents
    assert reply.section("Measured on the test split") and reply.section("Confusion matrix")
    assert f"{ev['accuracy']:.4f}" in reply.summary
    # the strategy part knows the model's data: 1,797 digits in 10 classes -> stratified k-fold
    assert reply.data["dataset_size"] == 1797 and reply.data["num_classes"] == 10
    assert reply.data["scheme"]["split"] == "kfold"


def test_velocity_measures_the_current_model_and_sizes_the_plan(digits_model):
    from tensor_agent.peers import get_peer
    from tensor_agent.schema import Constraint, Plan

    path, _ = digits_model
    tight = Plan(addressed=True, intents=["compress"], constraints=[
        Constraint(name="latency_ms", value=0.001, span=(0, 1), text="1 µs"),
        Constraint(name="device", value="cpu", span=(0, 1), text="cpu")])
    reply = get_peer("VELOCITY")(tight, {"artifacts": {"model": {"path": path, "family": "cnn"}}})
    numbers, gap = reply.data["numbers"], reply.data["gap"]
    assert numbers["source"].startswith("current model") and numbers["latency_ms"] > 0
    assert gap["speedup_needed"] == pytest.approx(numbers["latency_ms"] / 0.001, rel=1e-3) and gap["speedup_needed"] > 5
    steps = " ".join(reply.section("Optimisation plan").items)
    assert "INT8" in steps and "distillation" in steps.lower()     # a large gap needs more than quantization
    loose = tight.model_copy(update={"constraints": [Constraint(name="latency_ms", value=1e6, span=(0, 1), text="x")]})
    met = get_peer("VELOCITY")(loose, {"artifacts": {"model": {"path": path, "family": "cnn"}}})
    assert "already met" in " ".join(met.section("Measured this turn").items)
    assert not any("INT8 quantization:" in s for s in met.section("Optimisation plan").items)
