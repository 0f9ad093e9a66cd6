"""Data-size estimator: the card's table, refinements (classes, target, model size, strategy), bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.schema import Constraint, Plan
from tensor_agent.tools.estimate.tool import (
    TABLE,
    DataEstimate,
    PowerLawFit,
    choose_regime,
    estimate_data,
    fit_power_law,
    samples_for,
)


def C(name: str, value: Any) -> Constraint:
    return Constraint(name=name, value=value, span=(0, 1), text=str(value))


def plan(text: str = "@tensor how much data do I need?", options: dict | None = None, **kw) -> Plan:
    """A plan as the graph hands it to the tool: resolved by the contract (regime, topics, data, techniques)."""
    from tensor_agent.contract import resolve

    return resolve(Plan(addressed=True, text=text, intents=kw.pop("intents", ["estimate_data"]), **kw), options)


@pytest.mark.parametrize("p,regime", [
    (plan("@tensor how much labelled data to train a CNN from scratch for image classification", modality="image"),
     "supervised"),
    (plan("@tensor how many examples to fine-tune BERT for sentiment", intents=["estimate_data", "fine_tune"],
          modality="text", architecture="bert"), "transfer"),
    (plan("@tensor how many labels with a pretrained ResNet backbone?", modality="image"), "transfer"),
    (plan("@tensor how much data for my classifier", constraints=[C("technique", "lora")]), "transfer"),
    (plan("@tensor few-shot classification of rare defects: how many examples?", modality="image"), "few_shot"),
    (plan("@tensor 5-shot text classification, how many labels", modality="text"), "few_shot"),
    (plan("@tensor how much unlabelled data for self-supervised pretraining", modality="image"), "unsupervised"),
    (plan("@tensor how much text to train a GPT", modality="text_generation", architecture="gpt"), "unsupervised"),
    (plan("@tensor how many images to train a diffusion model", modality="image_generation",
          architecture="diffusion"), "unsupervised"),
])
def test_regime_and_table_row(p, regime, ctx):
    assert choose_regime(p, ctx)[0] == regime
    est = estimate_data(p, ctx)
    assert isinstance(est, DataEstimate) and est.regime == regime
    row = TABLE[regime]
    assert (est.table.data_size, est.table.annotation, est.table.time) == (row["data_size"], row["annotation"],
                                                                          row["time"])
    assert est.reasoning[0].startswith("Regime:") and row["data_size"] in est.reasoning[0]
    assert len(est.reasoning) >= 3 and est.message
    assert est.samples.low <= est.samples.typical <= est.samples.high
    if regime == "unsupervised":
        assert est.annotation.effort == "none" and est.annotation.hours_typical == 0
        assert est.per_class is None
    else:
        assert est.annotation.hours_typical > 0 and est.per_class is not None


def test_card_table_values():
    assert (TABLE["supervised"]["low"], TABLE["supervised"]["high"]) == (1_000, 1_000_000)
    assert (TABLE["transfer"]["low"], TABLE["transfer"]["high"]) == (100, 1_000)
    assert (TABLE["few_shot"]["low"], TABLE["few_shot"]["high"]) == (10, 100)
    assert TABLE["unsupervised"]["data_size"] == "unlimited" and TABLE["unsupervised"]["annotation"] == "none"


def test_regimes_order_for_the_same_problem(ctx):
    kw = dict(modality="image", constraints=[C("num_classes", 10)])
    sup = estimate_data(plan("@tensor train a CNN from scratch", **kw), ctx)
    tra = estimate_data(plan("@tensor fine-tune a pretrained ResNet", **kw), ctx)
    few = estimate_data(plan("@tensor few-shot learning setup", **kw), ctx)
    assert sup.samples.typical > tra.samples.typical > few.samples.typical
    assert sup.annotation.hours_typical > tra.annotation.hours_typical > few.annotation.hours_typical
    assert TABLE["supervised"]["low"] <= sup.samples.typical <= TABLE["supervised"]["high"]
    assert TABLE["few_shot"]["low"] <= few.samples.typical <= TABLE["few_shot"]["high"]


@pytest.mark.parametrize("modality", ["image", "text", "tabular", "graph", "sequence"])
def test_monotone_in_classes_with_per_class_figures(modality, ctx):
    typical, per_class = [], []
    for k in (2, 5, 10, 100):
        est = estimate_data(plan(modality=modality, constraints=[C("num_classes", k)]), ctx)
        assert est.num_classes == k and not est.classes_assumed
        assert est.per_class is not None and est.per_class.unit.endswith("per class")
        # per-class figures times the classes give the total (rounding aside)
        assert est.per_class.typical * k == pytest.approx(est.samples.typical, rel=0.02, abs=k)
        typical.append(est.samples.typical)
        per_class.append(est.per_class.typical)
    assert typical == sorted(typical) and len(set(typical)) == 4
    assert per_class == sorted(per_class)


@pytest.mark.parametrize("regime_text", ["@tensor train from scratch", "@tensor fine-tune a pretrained model"])
def test_monotone_in_target(regime_text, ctx):
    needs = []
    for target in (0.8, 0.9, 0.95, 0.99):
        est = estimate_data(plan(regime_text, modality="text", constraints=[C("accuracy_target", target),
                                                                            C("num_classes", 3)]), ctx)
        assert est.accuracy_target == target and not est.target_assumed
        needs.append(est.samples.typical)
    assert needs == sorted(needs) and len(set(needs)) == 4
    assert needs[2] / needs[1] == pytest.approx(4.0, rel=0.05)  # halving the error: ×4 with err ∝ n^-0.5


def test_model_size_strategy_and_available(ctx):
    base = plan("@tensor train from scratch", modality="image", constraints=[C("num_classes", 10)])
    ctx.results["design_architecture"] = {"family": "resnet", "measurements": {"params": 25_000_000, "macs": 4e9}}
    big = estimate_data(base, ctx)
    ctx.results["design_architecture"] = {"family": "cnn", "measurements": {"params": 100_000, "macs": 1e6}}
    small = estimate_data(base, ctx)
    assert big.model_params == 25_000_000 and small.model_params == 100_000
    assert big.samples.typical > small.samples.typical
    assert big.time.training_hours_cpu > small.time.training_hours_cpu > 0
    ctx.results.clear()

    by_strategy = {}
    for tech in ("feature_extraction", "lora", "full_fine_tune"):
        p = plan("@tensor fine-tune", intents=["fine_tune"], modality="image",
                 constraints=[C("technique", tech), C("num_classes", 10)])
        by_strategy[tech] = estimate_data(p, ctx).samples.typical
    assert by_strategy["feature_extraction"] < by_strategy["lora"] < by_strategy["full_fine_tune"]

    short = estimate_data(plan(modality="tabular", constraints=[C("dataset_size", 50)]), ctx)
    assert short.available == 50 and "short by" in short.verdict
    plenty = estimate_data(plan(modality="tabular", constraints=[C("labelled_examples", 100_000)]), ctx)
    assert "enough" in plenty.verdict


def test_language_model_tokens_scale_with_params(ctx):
    p = plan("@tensor how much text for a GPT", modality="text_generation", architecture="gpt")
    ctx.results["design_architecture"] = {"params": 1_000_000}
    small = estimate_data(p, ctx)
    ctx.results["design_architecture"] = {"params": 100_000_000}
    large = estimate_data(p, ctx)
    assert small.samples.unit == "tokens" and small.samples.typical == 20_000_000
    assert large.samples.typical == 100 * small.samples.typical


@pytest.mark.parametrize("value,error", [
    (1.5, InputError), (0, InputError), (-0.2, InputError), ("high", InputError), (float("nan"), InputError),
    (1.0, UnsatisfiableError),
])
def test_bad_target(value, error, ctx):
    with pytest.raises(error, match="accuracy_target"):
        estimate_data(plan(modality="image", constraints=[C("accuracy_target", value)]), ctx)
    ctx.options["accuracy_target"] = value
    with pytest.raises(error, match="accuracy_target"):
        estimate_data(plan(modality="image"), ctx)


def test_bad_inputs(ctx):
    with pytest.raises(InputError, match="unknown dataset 'no_such_set'"):
        estimate_data(plan(constraints=[C("dataset", "no_such_set")]), ctx)
    with pytest.raises(InputError, match="num_classes"):
        estimate_data(plan(constraints=[C("num_classes", 1)]), ctx)
    with pytest.raises(InputError, match="regime='magic'"):
        plan(options={"regime": "magic"})


def test_fit_power_law_recovers_parameters():
    import numpy as np

    ns = np.array([30, 80, 200, 600, 1500])
    errs = 2.0 * ns ** -0.6 + 0.02
    fit = fit_power_law(ns, errs)
    assert fit.method == "curve_fit" and fit.r2 > 0.999
    assert fit.b == pytest.approx(0.6, rel=0.05) and fit.c == pytest.approx(0.02, abs=0.003)
    n90, n95 = samples_for(fit, 0.90), samples_for(fit, 0.95)
    assert n90 < n95 and 2.0 * n95 ** -0.6 + 0.02 == pytest.approx(0.05, rel=0.02)
    assert samples_for(fit, 0.99) is None  # error 0.01 is below the asymptote 0.02
    assert samples_for(PowerLawFit(a=1, b=0.5, c=0.0, r2=1, method="loglog"), 0.9) == pytest.approx(100)
