"""Records: stable ids, defensive parsing of tool outputs, flattening for Chroma (no Chroma needed)."""

from __future__ import annotations

import json

import pytest

from tensor_agent.memory.records import (
    DesignRecord, OutcomeRecord, design_from, higher_is_better, outcome_from, record_from_metadata, stable_id,
)
from tensor_agent.schema import Constraint, Plan


def _plan(**kw) -> Plan:
    base = dict(addressed=True, intents=["train"], modality="tabular", task="classification",
                architecture="xgboost", text="@TENSOR train xgboost on wine with latency under 5 ms",
                constraints=[Constraint(name="latency_ms", value=5.0, span=(0, 1), text="5 ms"),
                             Constraint(name="dataset", value="wine", span=(0, 1), text="wine")])
    base.update(kw)
    return Plan(**base)


DESIGN = {  # the shape of ArchitectureDesign.model_dump(mode="json")
    "family": "mlp", "variant": "small", "modality": "tabular", "task": "classification",
    "hyperparameters": {"hidden": [64, 64], "dropout": 0.1},
    "rationale": ["mlp: multi-layer perceptron", "selection guide: ..."],
    "measured": {"params": 5123, "size_mb": 0.02, "latency_ms_median": 0.11},
    "params": 5123, "size_mb": 0.02, "latency_ms": 0.11,
}
REPORT = {  # the shape of TrainingReport.model_dump(mode="json")
    "dataset": "wine", "dataset_info": {"task": "classification", "modality": "tabular"}, "family": "mlp",
    "test_metrics": {"loss": 0.08, "accuracy": 0.972}, "wall_s": 1.5, "mlflow_run_id": "abc123",
    "stopped_reason": "completed",
}


def test_design_record_from_designer_output():
    rec = design_from(_plan(), DESIGN)
    assert (rec.family, rec.variant, rec.modality, rec.task) == ("mlp", "small", "tabular", "classification")
    assert rec.hparams == {"hidden": [64, 64], "dropout": 0.1}
    assert rec.params == 5123 and rec.size_mb == pytest.approx(0.02) and rec.latency_ms == pytest.approx(0.11)
    assert rec.dataset == "wine" and rec.constraints["latency_ms"] == 5.0
    assert "selection guide" in rec.rationale
    doc = rec.document()
    assert "mlp small" in doc and "hidden=[64, 64]" in doc and "request: @TENSOR train xgboost" in doc


def test_ids_are_stable_and_content_derived():
    a, b = design_from(_plan(), DESIGN), design_from(_plan(), json.loads(json.dumps(DESIGN)))
    assert a.id == b.id and a.id.startswith("d-")
    other = design_from(_plan(), {**DESIGN, "variant": "large"})
    assert other.id != a.id
    # re-measuring the same design (latency noise) updates the record instead of adding one
    assert design_from(_plan(), {**DESIGN, "latency_ms": 0.13}).id == a.id
    o1, o2 = outcome_from(REPORT, design_id=a.id), outcome_from(dict(REPORT), design_id=a.id)
    assert o1.id == o2.id and o1.id.startswith("o-")
    # the same numbers from another MLflow run are another outcome
    assert outcome_from({**REPORT, "mlflow_run_id": "zzz"}, design_id=a.id).id != o1.id
    assert stable_id("x", {"a": 1, "b": 2}) == stable_id("x", {"b": 2, "a": 1})


def test_outcome_from_training_report_is_defensive():
    o = outcome_from(REPORT, design_id="d-1")
    assert (o.modality, o.task, o.family, o.dataset) == ("tabular", "classification", "mlp", "wine")
    assert o.metric == "accuracy" and o.value == pytest.approx(0.972) and o.success
    assert o.train_time_s == pytest.approx(1.5) and o.mlflow_run_id == "abc123" and o.design_id == "d-1"
    # missing everything: still a record, not a crash
    empty = outcome_from({}, defaults={"family": "cnn", "modality": "image"})
    assert empty.family == "cnn" and empty.modality == "image" and not empty.success
    # an error or a diverged run is a failure with its reason
    failed = outcome_from({"error": "CUDA out of memory", "family": "vit"})
    assert not failed.success and "out of memory" in failed.reason
    div = outcome_from({**REPORT, "stopped_reason": "diverged", "message": "loss became NaN at epoch 3"})
    assert not div.success and "NaN" in div.reason
    comp = outcome_from({"technique": "dynamic_int8", "size_mb_before": 1.0, "size_mb_after": 0.26,
                         "speedup": 2.1}, stage="compress", defaults={"family": "mlp"})
    assert comp.stage == "compress" and comp.compression["speedup"] == 2.1 and comp.size_mb == 0.26


def test_metadata_round_trip_is_flat_and_complete():
    rec = outcome_from(REPORT, design_id="d-1")
    meta = rec.metadata()
    assert all(isinstance(v, (str, int, float, bool)) for v in meta.values())
    back = record_from_metadata(meta)
    assert back["kind"] == "outcome" and back["metrics"]["accuracy"] == pytest.approx(0.972)
    assert OutcomeRecord(**{k: v for k, v in back.items() if k != "kind"}).id == rec.id
    d = DesignRecord(family="cnn")
    assert record_from_metadata(d.metadata())["family"] == "cnn"


@pytest.mark.parametrize("metric,higher", [("accuracy", True), ("f1", True), ("loss", False), ("val_loss", False),
                                           ("rmse", False), ("perplexity", False), ("r2", True)])
def test_metric_direction(metric, higher):
    assert higher_is_better(metric) is higher


def test_outcome_is_stored_under_the_family_that_ran_and_knows_its_chance_level():
    from tensor_agent.memory.records import outcome_from

    report = {"dataset": "digits_images", "family": "cnn", "dataset_info": {"modality": "image", "task":
              "classification", "num_classes": 10, "sizes": {"train": 1000, "val": 100, "test": 360}},
              "test_metrics": {"accuracy": 0.12}, "stopped_reason": "completed"}
    rec = outcome_from(report, stage="train", defaults={"family": "diffusion", "variant": "unet-mini",
                                                        "modality": "image_generation", "requested_family": "diffusion"})
    assert (rec.family, rec.variant, rec.modality) == ("cnn", "", "image")
    assert rec.requested_family == "diffusion" and rec.counted
    assert rec.chance == 0.1 and rec.n_test == 360 and rec.at_chance       # 0.12 is within noise of 1/10
    base = dict(report, baselines={"majority_class": 0.5}, test_metrics={"accuracy": 0.9})
    rec = outcome_from(base, stage="train")
    assert rec.chance == 0.5 and not rec.at_chance


def test_errors_without_a_report_are_not_counted():
    from tensor_agent.memory.records import outcome_from

    err = outcome_from({"error": "x.csv: row 3: missing target", "success": False, "exit_code": 2}, stage="train",
                       defaults={"family": "xgboost"})
    assert not err.success and not err.counted and err.exit_code == 2 and err.family == "xgboost"
    assert "not counted" in err.document()
    diverged = outcome_from({"family": "mlp", "stopped_reason": "diverged", "history": [{"loss": 1e9}]},
                            stage="train")
    assert not diverged.success and diverged.counted


def test_the_trainers_baselines_set_the_chance_level():
    from tensor_agent.memory.records import outcome_from

    report = {"dataset": "shapes", "family": "convnext", "dataset_info": {"modality": "image", "num_classes": 3},
              "test_metrics": {"accuracy": 0.36}, "baselines": {"majority_rate": 0.35, "test_n": 36,
                                                                "noise_band": 0.159, "near_chance": True}}
    rec = outcome_from(report, stage="train")
    assert rec.chance == 0.35 and rec.n_test == 36 and rec.at_chance
