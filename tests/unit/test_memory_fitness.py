"""Fitness and recommendation maths on hand-made outcome records (no Chroma, no embeddings)."""

from __future__ import annotations

import pytest

from tensor_agent.catalogue import guide_default
from tensor_agent.memory.fitness import compute_fitness, prior_for, recommend_from


def _o(family, value, *, dataset="wine", i=0, success=True, **kw):
    return {"id": f"o-{family}-{dataset}-{i}-{value}", "family": family, "variant": kw.pop("variant", ""),
            "modality": "tabular", "task": "classification", "dataset": dataset, "metric": kw.pop("metric", "accuracy"),
            "value": value if success else None, "success": success, "stage": "train",
            "reason": "" if success else "diverged", "created": f"2026-01-01T00:00:{i:02d}Z", **kw}


def _rec(outcomes, constraints=None, candidates=("mlp",)):
    fit = compute_fitness(outcomes, modality="tabular", constraints=constraints, by_variant=False,
                          families=["xgboost", *candidates])
    return recommend_from(fit, modality="tabular", task="classification", default_family="xgboost",
                          candidates=list(candidates))


def test_no_evidence_keeps_the_guide():
    rec = _rec([])
    assert rec.family == "xgboost" and not rec.switched and "no outcomes" in rec.rationale
    assert prior_for("xgboost", "tabular") > prior_for("mlp", "tabular") > prior_for("gcn", "tabular")
    assert guide_default("tabular") == "xgboost"


def test_one_run_each_is_not_enough_but_several_are():
    one = [_o("mlp", 0.97, i=0), _o("xgboost", 0.70, i=1)]
    rec = _rec(one)
    assert rec.family == "xgboost" and not rec.switched
    assert "not yet strong enough" in rec.rationale
    many = one + [_o("mlp", 0.98, i=2), _o("xgboost", 0.72, i=3), _o("mlp", 0.96, i=4), _o("xgboost", 0.69, i=5)]
    rec = _rec(many)
    assert rec.family == "mlp" and rec.switched and rec.probability >= 0.95
    assert "o-mlp-wine" in rec.rationale and any(e.startswith("o-mlp") for e in rec.evidence)


def test_evidence_can_turn_back():
    runs = [_o("mlp", 0.97, i=i) for i in range(3)] + [_o("xgboost", 0.70, i=10 + i) for i in range(3)]
    assert _rec(runs).family == "mlp"
    turned = runs + [_o("mlp", 0.40, dataset="breast_cancer", i=20 + i) for i in range(4)] \
        + [_o("xgboost", 0.95, dataset="breast_cancer", i=30 + i) for i in range(4)]
    rec = _rec(turned)
    assert rec.family == "xgboost" and not rec.switched


def test_failures_count_against_a_family():
    good = [_o("mlp", 0.95, i=i) for i in range(4)]
    flaky = [_o("mlp", 0.95, i=i) for i in range(4)] + [_o("mlp", None, success=False, i=9 + i) for i in range(3)]
    f_good = compute_fitness(good, modality="tabular")[0]
    f_flaky = compute_fitness(flaky, modality="tabular")[0]
    assert f_flaky.failures == 3 and f_flaky.score < f_good.score - 0.05
    assert f_flaky.p_success < f_good.p_success
    assert any("FAILED" in e for e in f_flaky.evidence)


def test_uncertainty_shrinks_with_evidence():
    few = compute_fitness([_o("mlp", 0.9 + 0.01 * (i % 3), i=i) for i in range(2)], modality="tabular")[0]
    lots = compute_fitness([_o("mlp", 0.9 + 0.01 * (i % 3), i=i) for i in range(30)], modality="tabular")[0]
    assert lots.uncertainty < few.uncertainty / 2
    assert lots.n == 30 and few.n == 2


def test_metric_is_normalised_per_dataset_and_direction():
    rows = [_o("a", 0.5, dataset="hard", i=0), _o("b", 0.25, dataset="hard", i=1),
            _o("a", 2.0, dataset="reg", metric="rmse", i=2), _o("b", 1.0, dataset="reg", metric="rmse", i=3)]
    fit = {f.family: f for f in compute_fitness(rows, modality="tabular")}
    # a is best on "hard" (q=1 vs 0.5), b best on "reg" (rmse: lower is better): they tie overall
    assert fit["a"].mean == pytest.approx(fit["b"].mean, abs=1e-6)


def test_costs_are_weighted_by_the_constraints_asked_for():
    rows = []
    for i in range(4):
        rows.append(_o("mlp", 0.95, i=i, latency_ms=0.1, size_mb=0.02))
        rows.append(_o("xgboost", 0.96, i=10 + i, latency_ms=3.0, size_mb=0.5))
    plain = {f.family: f for f in compute_fitness(rows, modality="tabular")}
    assert plain["xgboost"].score > plain["mlp"].score  # accuracy decides without constraints
    fast = {f.family: f for f in compute_fitness(rows, modality="tabular", constraints={"latency_ms": 1.0})}
    assert fast["mlp"].score > fast["xgboost"].score  # asking for 1 ms flips it
    assert fast["xgboost"].costs["latency_ms_over_limit"] == 1.0
    mobile = {f.family: f for f in compute_fitness(rows, modality="tabular", constraints={"device": "mobile"})}
    assert mobile["xgboost"].costs["size_mb"] > 0


def test_variants_are_scored_apart_or_pooled():
    rows = [_o("cnn", 0.9, variant="small", i=0), _o("cnn", 0.99, variant="large", i=1)]
    split = compute_fitness(rows, modality="image")
    assert {(f.family, f.variant) for f in split} == {("cnn", "small"), ("cnn", "large")}
    pooled = compute_fitness(rows, modality="image", by_variant=False)
    assert len(pooled) == 1 and pooled[0].n == 2


# ------------------------------------------------------------------ the right lessons (issue 12 point 4)
def test_input_errors_are_recorded_but_never_count_against_the_family():
    runs = [_o("xgboost", 0.98, i=i) for i in range(3)] + [_o("mlp", 0.944, i=10 + i) for i in range(3)]
    errors = [_o("xgboost", None, success=False, i=20 + i, counted=False, exit_code=2,
                 reason="data.csv: row 7: missing target value") for i in range(4)]
    clean = {f.family: f for f in compute_fitness(runs, modality="tabular", by_variant=False)}
    noisy = {f.family: f for f in compute_fitness(runs + errors, modality="tabular", by_variant=False)}
    assert noisy["xgboost"].score == clean["xgboost"].score and noisy["xgboost"].failures == 0
    assert noisy["xgboost"].n == 3 and len(noisy["xgboost"].excluded) == 4
    assert all("exit code 2" in e["why"] for e in noisy["xgboost"].excluded)
    assert noisy["xgboost"].score > noisy["mlp"].score
    # every figure traced to its outcome ids
    assert sorted(noisy["xgboost"].outcome_ids) == sorted(o["id"] for o in runs[:3])
    assert {r["id"] for r in noisy["xgboost"].trace} == {o["id"] for o in runs[:3] + errors}
    # the same errors counted as failures (the old behaviour) would have flipped the answer
    as_failures = [dict(e, counted=True) for e in errors]
    flipped = {f.family: f for f in compute_fitness(runs + as_failures, modality="tabular", by_variant=False)}
    assert flipped["xgboost"].score < flipped["mlp"].score


def test_a_chance_level_result_is_flagged_down_weighted_and_never_sets_the_bar():
    img = lambda fam, v, i, **kw: dict(_o(fam, v, dataset="shapes", i=i, **kw), modality="image")
    chance = img("convnext", 0.36, 0, chance=1 / 3, n_test=36)
    real = img("cnn", 0.94, 1, chance=1 / 3, n_test=36)
    fit = compute_fitness([chance, real], modality="image", by_variant=False)
    by = {f.family: f for f in fit}
    assert fit[0].family == "cnn"                   # convnext is the guide's default and still ranks below
    assert by["convnext"].at_chance == 1 and by["convnext"].successes == 0
    row = by["convnext"].trace[0]
    assert row["at_chance"] and row["weight"] < 1 and row["quality"] == 0.0 and "at chance" in row["why"]
    assert "AT CHANCE" in by["convnext"].evidence[0]
    # the chance-level run alone does not define the best value: the real run keeps quality 1
    assert by["cnn"].trace[0]["quality"] == 1.0
