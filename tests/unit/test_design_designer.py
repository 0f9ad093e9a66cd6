"""The designer: budgets honoured as measured, infeasible budgets explained, defaults, memory, implement."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.schema import Constraint, DataSource, Plan
from tensor_agent.tools.design import design_architecture, design_for, get_family


def _plan(text: str, **kw) -> Plan:
    cons = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in kw.pop("constraints", {}).items()]
    return Plan(addressed=True, text=text, constraints=cons, **kw)


@pytest.fixture
def nomem(ctx):
    ctx.options["use_memory"] = False
    return ctx


def test_cpu_budget_request_measures_within_both(nomem):
    """`@TENSOR design an image classifier under 2M parameters that runs under 10 ms on CPU`."""
    from tensor_agent.tools.core.measure import count_params

    plan = _plan("@TENSOR design an image classifier under 2M parameters that runs under 10 ms on CPU",
                 intents=["design"], modality="image", architecture="efficientnet", architecture_named=False,
                 task="classification", constraints={"max_params": 2_000_000.0, "latency_ms": 10.0, "device": "cpu"})
    d = design_architecture(plan, nomem)
    assert d.feasible and not d.violations
    assert d.params <= 2_000_000 and d.latency_ms <= 10.0
    assert d.measured.latency_ms_median == d.latency_ms and d.threads == 1 and d.batch_size == 1
    handle = nomem.current_model()
    assert handle is not None and count_params(handle.module)[0] == d.params
    assert nomem.session["design"] is d
    if d.plot_path:  # a PNG of the candidates when some were timed
        __import__("tensor_agent.tools.design.plot", fromlist=["x"]).wait_for_plots()
        assert d.plot_path.endswith(".png") and __import__("os").path.getsize(d.plot_path) > 1000
    assert any("max_params <= 2,000,000" in r for r in d.rationale)
    assert any("selection guide" in r for r in d.rationale)  # efficientnet was the guide's pick: the search may move on
    # rejected alternatives say why, with figures
    rejected = [a for a in d.alternatives if "before measuring" in a.reason]
    assert rejected and all(a.params > 2_000_000 for a in rejected)
    json.dumps(d.model_dump(mode="json"))  # JSON-safe for --json


def test_infeasible_params_returns_nearest_with_explanation():
    d, h = design_for(None, modality="image", constraints={"max_params": 1000})
    assert not d.feasible
    assert len(d.violations) == 1 and d.violations[0].startswith("max_params:")
    assert "x the budget" in d.violations[0]
    counted = [a.params for a in d.alternatives if a.params]
    assert d.params <= min(counted)  # the nearest design is the smallest one
    assert any("nearest design" in r for r in d.rationale)


def test_infeasible_latency_names_the_failing_constraint():
    d, _ = design_for("cnn", modality="image", constraints={"latency_ms": 1e-4, "max_params": 10**9})
    assert not d.feasible
    assert [v.split(":")[0] for v in d.violations] == ["latency_ms"]
    assert d.latency_ms > 1e-4


def test_size_budget_is_measured():
    d, _ = design_for("mlp", modality="tabular", input_spec={"shape": [20]}, num_classes=3,
                      constraints={"size_mb": 0.015})
    assert d.feasible and d.size_mb <= 0.015
    assert d.variant != get_family("mlp").default_variant  # had to step down the ladder


def test_mobile_picks_an_efficient_variant():
    d, _ = design_for(None, modality="image", constraints={"device": "mobile", "max_params": 5_000_000})
    assert d.variant in get_family(d.family).efficient_variants
    assert any("device mobile" in r for r in d.rationale)


@pytest.mark.parametrize("constraints, exc, match", [
    ({"max_params": 1e15}, UnsatisfiableError, "max_params=1e\\+15 is absurd"),
    ({"size_mb": -3}, UnsatisfiableError, "size_mb=-3 must be positive"),
    ({"latency_ms": 0}, UnsatisfiableError, "latency_ms=0 must be positive"),
    ({"latency_ms": "fast"}, InputError, "latency_ms must be a number"),
    ({"device": "toaster"}, InputError, "device='toaster' is unknown"),
])
def test_absurd_budgets_are_clear_errors(constraints, exc, match):
    with pytest.raises(exc, match=match):
        design_for("cnn", modality="image", constraints=constraints)


def test_unknown_family_and_mismatched_shapes():
    with pytest.raises(UnsatisfiableError, match="unknown family 'lstm'"):
        design_for("lstm", modality="sequence")
    with pytest.raises(InputError, match="takes images"):
        design_for("vit", modality="image", input_spec={"kind": "tabular", "shape": [4]})
    with pytest.raises(InputError, match="must be between 1 and"):
        design_for("cnn", modality="image", input_spec={"shape": [3, 0, 32]})


def test_plain_image_request_uses_a_stated_default_input(nomem):
    d = design_architecture(_plan("@TENSOR design CNN architecture for image classification", intents=["design"],
                                  modality="image", architecture="cnn", task="classification"), nomem)
    assert d.family == "cnn" and d.input_spec["shape"] == [3, 32, 32] and d.output_shape == [1, 10]
    assert any("default input image: 3x32x32, 10 classes" in r for r in d.rationale)
    rows = dict(d.to_table_rows())
    assert rows["family"] == "cnn" and rows["parameters"] == f"{d.params:,}"
    assert "ms @ batch 1" in rows["latency (median)"]


def test_dataset_sizes_input_and_output(nomem):
    d = design_architecture(_plan("@TENSOR design an image classifier for digits", intents=["design"],
                                  modality="image", task="classification", data=DataSource(dataset="digits")), nomem)
    assert d.input_spec["shape"] == [1, 8, 8] and d.num_classes == 10 and d.output_shape == [1, 10]
    assert d.family == "cnn"  # tiny inputs: the plain CNN comes first
    assert nomem.current_model().dataset == "digits"


def test_tabular_defaults_to_xgboost_and_goes_neural_when_complex():
    d, h = design_for(None, modality="tabular", input_spec={"shape": [30]}, num_classes=2)
    assert d.family == "xgboost" and h.kind == "xgboost" and d.params > 0
    d2, _ = design_for(None, modality="tabular", input_spec={"shape": [500]}, num_classes=2)
    assert d2.family == "mlp" and any("neural if complex" in r for r in d2.rationale)


class _Rec:
    def __init__(self, family, switched):
        self.family, self.switched = family, switched
        self.rationale = f"{family} scored best on past graph tasks"
        self.evidence = ["gat on karate: accuracy 0.82 (n=3)", "gcn on karate: accuracy 0.71 (n=3)"]


class _StubMemory:
    def __init__(self):
        self.calls = []

    def recommend(self, modality, task, default_family, candidates, constraints=None):
        self.calls.append((modality, task, default_family, tuple(candidates)))
        return _Rec("gat", True)


def test_memory_evidence_switches_and_is_cited(ctx):
    mem = _StubMemory()
    ctx.session["memory"] = mem
    d = design_architecture(_plan("@TENSOR design a graph neural network for node classification",
                                  intents=["design"], modality="graph", task="node_classification"), ctx)
    assert mem.calls and mem.calls[0][:3] == ("graph", "node_classification", "gcn")
    assert d.family == "gat"
    assert any("memory evidence switched the first choice to gat" in r for r in d.rationale)
    assert any("accuracy 0.82" in r for r in d.rationale)


def test_implement_writes_importable_code(nomem):
    import torch

    plan = _plan("@TENSOR implement transformer for sequence-to-sequence task", intents=["implement"],
                 modality="text", architecture="t5", task="seq2seq")
    nomem.options["input_spec"] = {"shape": [16], "vocab_size": 211, "target_len": 8}
    d = design_architecture(plan, nomem)
    assert d.family == "t5" and d.code_path and d.code_path.startswith(str(nomem.settings.code_dir))
    spec = importlib.util.spec_from_file_location("gen_t5", d.code_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.build_model()
    inputs, target = mod.example_batch()
    assert tuple(model(*inputs).shape) == (2, 8, 211)
    loss = mod.training_step(model, torch.optim.AdamW(model.parameters(), lr=1e-3), inputs, target)
    assert loss > 0


def test_latent_diffusion_when_asked(nomem):
    d = design_architecture(_plan("@TENSOR design a latent diffusion model for image generation",
                                  intents=["design"], modality="image_generation", architecture="diffusion",
                                  task="generation", techniques=["latent"], variant="unet-micro"), nomem)
    assert d.family == "diffusion" and d.hyperparameters.get("latent") is True and d.generation["latent"]
    assert nomem.current_model().module.vae is not None
    assert d.output_shape == [1, 4, 8, 8]  # the UNet denoises 4-channel latents at 1/4 resolution
    assert tuple(nomem.current_model().module.sample(1, steps=2).shape) == (1, 3, 32, 32)


def test_trainer_style_constraints_are_tolerated():
    """The trainer passes every plan constraint: non-budget ones are ignored, a training batch size is not
    the latency batch, and the data's own input spec wins over an input_shape constraint."""
    cons = {"optimizer": "adamw", "technique": ["lora"], "epochs": 3, "dataset": "digits", "device": "cpu",
            "batch_size": 64, "learning_rate": 1e-3, "input_shape": [224, 224], "accuracy_target": 0.9}
    d, h = design_for(None, modality="image", input_spec={"kind": "image", "shape": [1, 8, 8]}, num_classes=10,
                      constraints=cons, task="classification")
    assert d.batch_size == 1 and d.input_spec["shape"] == [1, 8, 8] and d.output_shape == [1, 10]
    d2, _ = design_for("cnn", modality="image", constraints={"latency_ms": 500, "batch_size": 8})
    assert d2.batch_size == 8 and d2.output_shape == [8, 10]
    d3, _ = design_for("cnn", modality="image", constraints={"input_shape": [48, 48]})
    assert d3.input_spec["shape"] == [3, 48, 48]
