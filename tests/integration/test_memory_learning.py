"""Memory changes later designs: real small experiments where family B (mlp) beats the guide's default A
(xgboost) on a tabular task several times make the designer switch to B, citing the runs; later runs where
A wins make it switch back.

The runs are real (XGBoost and a torch MLP trained on sklearn's wine / breast-cancer data, outcomes as
measured). Which family wins is arranged through the training budgets: phase 1 gives XGBoost only two
depth-1 trees and the MLP ten epochs; phase 2 gives XGBoost thirty trees and the MLP one epoch at a tiny
learning rate. The test checks the measured ordering before asserting anything about the memory.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

PLAN_TEXT = "@TENSOR train a model for tabular classification on {ds}"


def _plan(ds):
    from tensor_agent.schema import Constraint, Plan

    return Plan(addressed=True, intents=["train"], modality="tabular", task="classification",
                text=PLAN_TEXT.format(ds=ds), tools=["design_architecture", "train_model"],
                constraints=[Constraint(name="dataset", value=ds, span=(0, 1), text=ds)])


def _report(ds, data, family, res, run_key):
    return {"dataset": ds, "dataset_info": {"modality": data.modality, "task": data.task}, "family": family,
            "test_metrics": res.test_metrics, "wall_s": res.wall_s, "stopped_reason": res.stopped_reason,
            "run_key": run_key}


def _run_mlp(mem, ds, seed, *, good: bool) -> float:
    from tensor_agent.tools.design import design_for
    from tensor_agent.tools.train import TrainConfig, fit, load_dataset

    data = load_dataset(ds, seed=seed)
    design, handle = design_for("mlp", modality="tabular", input_spec=data.input_spec,
                                num_classes=data.num_classes, task="classification")
    cfg = TrainConfig(epochs=10, lr=1e-2, seed=seed, num_threads=1) if good else \
        TrainConfig(epochs=1, lr=1e-5, seed=seed, num_threads=1)
    res = fit(handle.module, data, cfg)
    ids = mem.remember_turn(_plan(ds), {"design_architecture": design.model_dump(mode="json"),
                                        "train_model": _report(ds, data, "mlp", res, f"mlp-{ds}-{seed}-{good}")})
    assert len(ids) == 2
    return res.test_metrics["accuracy"]


def _run_xgb(mem, ds, seed, *, strong: bool) -> float:
    from tensor_agent.tools.train import load_dataset
    from tensor_agent.tools.train.xgb import train_xgboost

    data = load_dataset(ds, seed=seed)
    hp = dict(n_estimators=30, max_depth=3, learning_rate=0.3) if strong else \
        dict(n_estimators=2, max_depth=1, learning_rate=0.1)
    res = train_xgboost(data, seed=seed, n_jobs=1, early_stopping_rounds=10, **hp)
    design = {"family": "xgboost", "variant": "default" if strong else "stumps", "modality": "tabular",
              "task": "classification", "hyperparameters": hp}
    mem.remember_turn(_plan(ds), {"design_architecture": design,
                                  "train_model": _report(ds, data, "xgboost", res, f"xgb-{ds}-{seed}-{strong}")})
    return res.test_metrics["accuracy"]


def _design(ctx, ds):
    from tensor_agent.tools.design import design_for
    from tensor_agent.tools.train import dataset_spec

    spec = dataset_spec(ds)
    design, _ = design_for(None, modality="tabular", input_spec=spec["input_spec"],
                           num_classes=spec["num_classes"], task="classification", ctx=ctx)
    return design


def test_designer_switches_to_the_family_that_wins_and_back(ctx):
    pytest.importorskip("xgboost")
    mem = ctx.memory
    # no evidence: the selection guide's default
    assert _design(ctx, "wine").family == "xgboost"

    # phase 1: one run each is too little evidence to leave the guide
    mlp_acc = [_run_mlp(mem, "wine", 0, good=True)]
    xgb_acc = [_run_xgb(mem, "wine", 0, strong=False)]
    rec = mem.recommend("tabular", "classification", "xgboost", ["mlp"])
    assert rec.family == "xgboost" and not rec.switched, rec.rationale
    # ... two more seeds each: now the evidence is strong
    for seed in (1, 2):
        mlp_acc.append(_run_mlp(mem, "wine", seed, good=True))
        xgb_acc.append(_run_xgb(mem, "wine", seed, strong=False))
    assert min(mlp_acc) > max(xgb_acc), (mlp_acc, xgb_acc)  # the real runs did go B > A
    rec = mem.recommend("tabular", "classification", "xgboost", ["mlp"])
    assert rec.family == "mlp" and rec.switched, rec.rationale
    mlp_ids = [r["id"] for r in mem.list("outcome", family="mlp")]
    assert len(mlp_ids) == 3 and any(i in rec.rationale for i in mlp_ids)
    design = _design(ctx, "wine")
    assert design.family == "mlp"
    text = "\n".join(design.rationale)
    assert "memory evidence switched the first choice to mlp" in text and any(i in text for i in mlp_ids)

    # phase 2: the evidence turns (xgboost wins on breast_cancer, three seeds)
    mlp2, xgb2 = [], []
    for seed in (0, 1, 2):
        xgb2.append(_run_xgb(mem, "breast_cancer", seed, strong=True))
        mlp2.append(_run_mlp(mem, "breast_cancer", seed, good=False))
    assert min(xgb2) > max(mlp2), (xgb2, mlp2)
    rec = mem.recommend("tabular", "classification", "xgboost", ["mlp"])
    assert rec.family == "xgboost" and not rec.switched, rec.rationale
    assert _design(ctx, "wine").family == "xgboost"

    # recall answers from the same evidence
    from tensor_agent.schema import Plan

    answer = mem.recall(Plan(addressed=True, intents=["recall"], modality="tabular",
                             text="@TENSOR what has worked best for tabular tasks?"))
    assert answer["best"]["tabular"][0]["family"] == "xgboost" and "xgboost" in answer["answer"]
    assert mem.count() == 12 + 4  # 12 outcomes; designs: mlp/wine, mlp/breast_cancer, 2 xgboost variants
