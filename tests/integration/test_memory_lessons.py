"""Memory learns the right lessons (issue 12, point 4), replayed on the real Chroma store with real embeddings.

The scenario a user hit: XGBoost's tabular runs average 0.98 against the MLP's 0.944, while several CSV
validation errors (exit code 2) were recorded against xgboost; "what worked best for tabular?" must answer
xgboost. A chance-level ConvNeXt image run must be flagged and must not rank above a real CNN result. A
misrouted diffusion request that trained a CNN is filed under cnn, not diffusion/unet-mini. The reports
have the trainer's TrainingReport shape (baselines included); the validation errors are the real loader's.
"""

from __future__ import annotations

import pytest

from tensor_agent.schema import Constraint, DataSource, Plan

pytestmark = pytest.mark.integration

XGB = [0.982, 0.979, 0.979]      # mean 0.98
MLP = [0.95, 0.94, 0.942]        # mean 0.944


def _plan(family=None, modality="tabular", intents=("design", "train"), **kw) -> Plan:
    return Plan(addressed=True, intents=list(intents), modality=modality, task="classification", architecture=family,
                text=f"@TENSOR train {family or 'a model'} for {modality}", **kw)


def _report(family, acc, seed, *, dataset="breast_cancer", modality="tabular", classes=2, test_n=114, majority=0.63,
            near=False):
    return {"dataset": dataset, "family": family, "kind": "xgboost" if family == "xgboost" else "torch",
            "dataset_info": {"name": dataset, "modality": modality, "task": "classification", "num_classes": classes,
                             "seed": seed, "sizes": {"train": 4 * test_n, "val": test_n // 2, "test": test_n}},
            "test_metrics": {"accuracy": acc}, "stopped_reason": "completed", "epochs_run": 20, "wall_s": 1.5,
            "mlflow_run_id": f"{family}-{dataset}-{seed}", "history": [{"epoch": 1, "loss": 0.3}],
            "baselines": {"majority_rate": majority, "test_n": test_n, "near_chance": near}}


def _csv_error(tmp_path, i):
    """The real loader's error on a CSV whose target has a gap (exit code 2)."""
    from tensor_agent.errors import InputError
    from tensor_agent.tools.core.datasets import load_dataset

    bad = tmp_path / f"customers{i}.csv"
    bad.write_text("a,b,churn\n1,2,0\n3,4,\n5,6,1\n7,8,0\n")
    with pytest.raises(InputError) as err:
        load_dataset(str(bad), target_column="churn")
    return str(err.value), err.value.exit_code


def test_tabular_best_is_xgboost_despite_csv_errors_and_chance_runs_are_flagged(settings, tmp_path):
    from tensor_agent.memory import open_memory

    mem = open_memory(settings)
    try:
        ran = {}
        for fam, accs in (("xgboost", XGB), ("mlp", MLP)):
            for seed, acc in enumerate(accs):
                ids = mem.remember_turn(_plan(fam), {"design_architecture": {"family": fam, "modality": "tabular",
                                                                             "task": "classification"},
                                                     "train_model": _report(fam, acc, seed)})
                ran[ids[-1]] = (fam, acc)
        errors = []
        for i in range(4):  # "train xgboost on my csv": the CSV fails validation before any training
            msg, code = _csv_error(tmp_path, i)
            assert code == 2
            p = _plan("xgboost", data=DataSource(data_path=str(tmp_path / f"customers{i}.csv"), target_column="churn"))
            errors += mem.remember_turn(p, {"design_architecture": {"family": "xgboost", "modality": "tabular",
                                                                    "task": "classification"}},
                                        errors={"train_model": msg}, codes={"train_model": code})[-1:]
        for oid in errors:  # recorded ...
            rec = mem.get(oid)
            assert rec["family"] == "xgboost" and rec["exit_code"] == 2 and rec["counted"] is False
        fit = {f.family: f for f in mem.fitness("tabular", "classification", by_variant=False)}
        assert fit["xgboost"].failures == 0 and fit["xgboost"].n == 3          # ... but never counted
        assert sorted(e["id"] for e in fit["xgboost"].excluded) == sorted(errors)
        assert fit["xgboost"].raw_mean == pytest.approx(0.98, abs=1e-9)
        assert fit["mlp"].raw_mean == pytest.approx(0.944, abs=1e-9)
        # every fitness figure traces to stored outcome ids
        for f in fit.values():
            values = [mem.get(i)["value"] for i in f.outcome_ids]
            assert sum(values) / len(values) == pytest.approx(f.raw_mean)
            assert {ran[i][0] for i in f.outcome_ids} == {f.family}

        answer = mem.recall(_plan(intents=["recall"], modality="tabular"))
        first = answer["answer"].splitlines()[0]
        assert first.startswith("tabular/classification: xgboost has worked best") and "mean accuracy 0.98" in first
        assert all(i in first for i, (fam, _) in ran.items() if fam == "xgboost")  # the answer cites the runs
        assert "mlflow xgboost-breast_cancer-0" in first
        assert answer["best"]["tabular"][0]["family"] == "xgboost"
        assert set(errors) <= set(answer["flagged"])
        assert "not counted against xgboost: 4 recorded error(s)" in answer["answer"]

        # images: a chance-level ConvNeXt (the guide's default) and a real CNN on the same 3-class folder
        chance = mem.remember_turn(_plan("convnext", "image"), {"train_model": _report(
            "convnext", 0.36, 0, dataset="shapes", modality="image", classes=3, test_n=36, majority=0.35, near=True)})
        real = mem.remember_turn(_plan("cnn", "image"), {"train_model": _report(
            "cnn", 0.94, 0, dataset="shapes", modality="image", classes=3, test_n=36, majority=0.35)})
        img = mem.recall(_plan(intents=["recall"], modality="image"))
        assert [b["family"] for b in img["best"]["image"]] == ["cnn", "convnext"]
        assert img["answer"].startswith("image/classification: cnn has worked best") and real[-1] in img["answer"]
        assert "flagged: 1 convnext run(s) at chance" in img["answer"] and chance[-1] in img["flagged"]
        conv = next(b for b in img["best"]["image"] if b["family"] == "convnext")
        assert conv["at_chance"] == 1 and conv["successes"] == 0 and conv["trace"][0]["weight"] < 1
    finally:
        mem.close()


def test_a_misrouted_request_is_filed_under_the_family_that_ran(settings):
    from tensor_agent.memory import open_memory

    mem = open_memory(settings)
    try:
        plan = _plan("diffusion", "image_generation",
                     constraints=[Constraint(name="dataset", value="digits_images", span=(0, 1), text="digits")])
        design = {"family": "diffusion", "variant": "unet-mini", "modality": "image_generation", "task": "generation"}
        ids = mem.remember_turn(plan, {"design_architecture": design, "train_model": _report(
            "cnn", 0.97, 0, dataset="digits", modality="image", classes=10, test_n=360, majority=0.1)})
        out = mem.get(ids[-1])
        assert (out["family"], out["variant"], out["modality"]) == ("cnn", "", "image")
        assert out["requested_family"] == "diffusion"
        assert mem.fitness("image_generation") == []
        assert [f.family for f in mem.fitness("image")] == ["cnn"]
    finally:
        mem.close()


def test_the_graphs_remember_node_records_a_validation_error_without_counting_it(settings, tmp_path):
    """The graph hands each tool's exit code (state["codes"]) to memory."""
    from types import SimpleNamespace

    from tensor_agent.graph import remember
    from tensor_agent.memory import open_memory
    from tensor_agent.state import Context

    msg, code = _csv_error(tmp_path, 9)
    state = {"plan": _plan("xgboost").model_dump(mode="json"),
             "results": {"design_architecture": {"family": "xgboost", "modality": "tabular", "task": "classification"}},
             "errors": {"train_model": msg}, "codes": {"train_model": code}}
    out = remember(state, {"configurable": {"thread_id": "t"}}, SimpleNamespace(context=Context(settings=settings)))
    ids = out["artifacts"]["memory_ids"]
    mem = open_memory(settings)
    try:
        rec = mem.get(ids[-1])
        assert rec["family"] == "xgboost" and rec["exit_code"] == 2 and not rec["counted"]
        assert mem.fitness("tabular", by_variant=False)[0].failures == 0
    finally:
        mem.close()
