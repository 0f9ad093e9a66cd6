"""Data-size estimator: a real learning curve (training on growing subsets), power-law fit, PNG, extrapolation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tensor_agent.contract import resolve
from tensor_agent.errors import InputError
from tensor_agent.schema import Constraint, Plan
from tensor_agent.tools.estimate.tool import estimate_data, measure_learning_curve

pytestmark = pytest.mark.integration


def C(name, value):
    return Constraint(name=name, value=value, span=(0, 1), text=str(value))


def _check_png(path: str | None, home: Path) -> None:
    assert path, "no plot written"
    p = Path(path)
    assert p.exists() and p.stat().st_size > 5_000
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert home in p.parents  # under the workspace (artifacts_dir), nowhere else


def test_digits_curve_fit_and_extrapolation(ctx, home):
    curve = measure_learning_curve("digits", ctx, targets=[0.90, 0.95, 0.97])
    ns = [p.n for p in curve.points]
    assert len(ns) == 5 and ns == sorted(ns) and ns[-1] == curve.available_train
    errs = [p.error_mean for p in curve.points]
    assert errs[0] > errs[-1]  # more data, less error: really trained
    assert curve.fit is not None and curve.fit.b > 0 and curve.fit.r2 > 0.9
    needs = [e.samples for e in curve.extrapolations]
    assert all(e.reachable for e in curve.extrapolations)
    assert needs[0] < needs[1] < needs[2]
    # the fitted need for 90% is consistent with the measured points: between the two sizes that bracket 0.90
    below = max(p.n for p in curve.points if p.metric_mean < 0.90)
    above = min(p.n for p in curve.points if p.metric_mean >= 0.90)
    assert below * 0.8 <= needs[0] <= above * 1.2
    _check_png(curve.plot, home)


def test_estimate_data_with_dataset_uses_the_measured_curve(ctx, home):
    ctx.options["dataset"] = "breast_cancer"
    p = Plan(addressed=True, intents=["estimate_data"], modality="tabular",
             text="@tensor how many rows do I need for 97% accuracy on breast_cancer?",
             constraints=[C("accuracy_target", 0.97)])
    est = estimate_data(resolve(p, ctx.options), ctx)  # as the graph hands it over
    curve = est.learning_curve
    assert curve is not None and curve.dataset == "breast_cancer" and curve.fit.b > 0
    assert est.num_classes == 2 and est.available == curve.available_train
    ex = curve.extrapolations[0]
    assert ex.target == 0.97
    if ex.reachable:
        assert est.samples.typical == ex.samples
        assert any("measured extrapolation replaces" in s for s in est.reasoning)
    else:
        assert "not reachable" in ex.note
    assert any("Learning curve on 'breast_cancer'" in s for s in est.reasoning)
    _check_png(curve.plot, home)


def test_noisy_labels_make_a_high_target_unreachable(ctx, tmp_path):
    """30% of the labels flipped at random: no amount of data gets a model past ~70% on held-out labels."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(900, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    flip = rng.random(900) < 0.3
    y[flip] = 1 - y[flip]
    path = tmp_path / "noisy.csv"
    rows = ["f0,f1,f2,f3,f4,label"] + [",".join(f"{v:.5f}" for v in x) + f",{t}" for x, t in zip(X, y, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    ctx.options.update(data_path=str(path), target_column="label")
    p = Plan(addressed=True, intents=["estimate_data"], modality="tabular",
             text="@tensor how much data for 90% accuracy?", constraints=[C("accuracy_target", 0.9)])
    est = estimate_data(resolve(p, ctx.options), ctx)  # as the graph hands it over
    curve = est.learning_curve
    assert curve.fit.c > 0.2  # the asymptotic error reflects the label noise
    ex = curve.extrapolations[0]
    assert not ex.reachable and ex.samples is None and "not reachable" in ex.note
    assert "not reachable" in est.message
    assert est.samples.typical > 0  # the heuristic estimate is still given


def test_unknown_dataset_is_a_clear_error(ctx):
    with pytest.raises(InputError, match="unknown dataset 'nope'"):
        measure_learning_curve("nope", ctx)
    with pytest.raises(InputError, match="not found"):
        measure_learning_curve("/no/such/file.csv", ctx)


def test_torch_path_uses_the_project_designer_and_trainer(ctx, home):
    pytest.importorskip("torch")
    design = pytest.importorskip("tensor_agent.tools.design")
    if not hasattr(design, "design_for"):
        pytest.skip("designer not available")
    ctx.options.update(curve_model="torch", curve_points=3, curve_epochs=2)
    curve = measure_learning_curve("digits", ctx, targets=[0.9])
    assert "project trainer" in curve.model and len(curve.points) == 3
    assert curve.points[-1].metric_mean > curve.points[0].metric_mean
    assert curve.fit is not None and curve.fit.b > 0
    _check_png(curve.plot, home)


def test_text_dataset_curve_with_tfidf(ctx, home):
    curve = measure_learning_curve("text", ctx, targets=[0.8, 0.9])
    assert curve.model.startswith("TF-IDF") and curve.fit.b > 0
    assert curve.points[-1].metric_mean > curve.points[0].metric_mean
    a, b = curve.extrapolations
    assert a.reachable and b.reachable and a.samples < b.samples
    _check_png(curve.plot, home)


def test_curve_logged_to_mlflow_when_asked(ctx, home):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    ctx.options["track_curve"] = True
    curve = measure_learning_curve("wine", ctx, targets=[0.95])
    assert curve.mlflow_run_id, curve.notes
    client = MlflowClient(tracking_uri=ctx.settings.tracking_uri)
    run = client.get_run(curve.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["fit_b"] == pytest.approx(curve.fit.b)
    history = client.get_metric_history(curve.mlflow_run_id, "accuracy")
    assert sorted(m.step for m in history) == [p.n for p in curve.points]
    assert [a.path for a in client.list_artifacts(curve.mlflow_run_id, "plots")]
    assert str(home) in ctx.settings.tracking_uri  # the store lives in the workspace


@pytest.mark.parametrize("dataset,regime,reason", [
    ("karate", "supervised", "graph"),
    ("tiny_corpus", "unsupervised", "generation dataset"),
])
def test_datasets_without_a_curve_keep_the_heuristic(ctx, dataset, regime, reason):
    p = Plan(addressed=True, intents=["estimate_data"], text="@tensor how much data do I need?",
             constraints=[C("dataset", dataset)])
    est = estimate_data(resolve(p, ctx.options), ctx)  # as the graph hands it over
    assert est.learning_curve is None and est.regime == regime
    assert any(s.startswith(f"No learning curve on '{dataset}'") and reason in s for s in est.reasoning)
    assert est.samples.typical > 0
