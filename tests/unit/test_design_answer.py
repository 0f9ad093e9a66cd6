"""A design answer is a design: for every family the answer carries the layer table of the built module,
the training recipe, the expected quality with its source and runnable next steps; diffusion and sequence
designs carry their specifics; an infeasible budget is exit 3 with the nearest design; tables fit 80 columns;
the designer decides from plan fields, never from the text."""

from __future__ import annotations

import io
import os
import shlex

import pytest

from tensor_agent.catalogue import FAMILIES
from tensor_agent.schema import Constraint, DataSource, Plan
from tensor_agent.tools.design import InfeasibleDesign, design_architecture, get_family

#: tiny inputs per family so that every design stays fast
SMALL = {"gpt": {"shape": [16], "vocab_size": 97}, "t5": {"shape": [12], "vocab_size": 97, "target_len": 6},
         "bert": {"shape": [16], "vocab_size": 97}, "mamba": {"shape": [24], "vocab_size": 31},
         "resnet": {"shape": [3, 16, 16]}, "efficientnet": {"shape": [3, 16, 16]}, "convnext": {"shape": [1, 8, 8]},
         "vit": {"shape": [1, 8, 8]}, "cnn": {"shape": [1, 8, 8]}, "diffusion": {"shape": [1, 8, 8]},
         "mlp": {"shape": [12]}, "xgboost": {"shape": [12]}}


def _plan(text: str = "@TENSOR design it", **kw) -> Plan:
    cons = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in kw.pop("constraints", {}).items()]
    return Plan(addressed=True, text=text, constraints=cons, **kw)


@pytest.fixture
def nomem(ctx):
    ctx.options["use_memory"] = False
    return ctx


def _render(payload: dict) -> str:
    from rich.console import Console

    from tensor_agent.render import render_design

    buf = io.StringIO()
    render_design(payload, Console(file=buf, width=80, force_terminal=False, color_system=None))
    return buf.getvalue()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_answer_is_a_design(family, nomem):
    fam = get_family(family)
    nomem.options["input_spec"] = SMALL.get(family)
    plan = _plan(intents=["design"], modality=fam.modality, architecture=family, variant=fam.tiny_variant,
                 task=fam.tasks[0])
    d = design_architecture(plan, nomem)
    assert d.family == family and d.variant == fam.tiny_variant
    # the layer table comes from the built module
    assert d.layers and all({"name", "type", "output_shape"} <= set(r) for r in d.layers)
    if d.kind == "torch":
        assert sum(r["macs"] for r in d.layers) >= 0 and max(r["params"] for r in d.layers) > 0
        assert d.macs and d.flops == 2 * d.macs
    # the recipe: optimizer, schedule with warm-up (where it applies), regularisation, epochs, batch size
    r = d.recipe
    assert r["optimizer"] and r["schedule"] and r["epochs"] > 0 and r["regularisation"]
    assert "warmup_epochs" in r
    if fam.modality == "image":
        assert r["augmentation"] and r["batch_size"]
    # expected quality with its source
    q = d.expected_quality
    assert q["kind"] in ("memory", "reference", "none") and q["text"] and q["source"]
    # alternatives labelled measured / counted / not measured
    assert all(a.evidence in ("measured", "counted", "not measured") for a in d.alternatives)
    # runnable next steps in the same thread
    assert d.next_steps and all(s.startswith("tensor-agent ask ") and f"--thread {shlex.quote(nomem.thread_id)}" in s
                                for s in d.next_steps)
    assert "train it" in d.next_steps[0]
    # the PNG is written every time
    from tensor_agent.tools.design.plot import wait_for_plots

    wait_for_plots()
    assert d.plot_path and os.path.getsize(d.plot_path) > 1000
    # rendered answer: every line fits 80 columns, each rationale line once
    text = _render(d.model_dump(mode="json"))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Training recipe" in text and "Expected quality" in text and "Next steps" in text
    assert max(len(line) for line in d.message.splitlines()) <= 80  # the chat answer too
    assert "Recipe:" in d.message and "Expected quality:" in d.message and "tensor-agent ask" in d.message
    for line in d.rationale:
        assert text.count(line[:40]) <= 1


def test_diffusion_states_schedule_sampler_and_a_real_size(nomem):
    plan = _plan(intents=["design"], modality="image_generation", architecture="diffusion", task="generation",
                 variant="unet-micro")
    d = design_architecture(plan, nomem)
    assert d.input_spec["shape"] == [3, 32, 32]  # no data named: a real (CIFAR-sized) image, not a 1x8x8 toy
    g = d.generation
    assert g["timesteps"] == 1000 and g["beta_schedule"] == "linear" and g["sampler"] == "DDIM"
    assert g["sampling_steps"] > 0 and "DDPM" in g["alternative_sampler"]
    text = _render(d.model_dump(mode="json"))
    assert "beta schedule" in text and "sampling steps" in text


def test_diffusion_takes_the_data_size(nomem):
    plan = _plan(intents=["design"], modality="image_generation", architecture="diffusion", task="generation",
                 variant="unet-micro", data=DataSource(dataset="digits_images"))
    d = design_architecture(plan, nomem)
    assert d.input_spec["shape"] == [1, 8, 8] and d.data["dataset"] == "digits_images"


def test_sequence_design_honours_the_stated_length(nomem):
    plan = _plan(intents=["design"], modality="sequence", architecture="mamba", variant="mamba-micro",
                 task="classification", constraints={"sequence_length": 96},
                 data=DataSource(dataset="long_recall"))
    d = design_architecture(plan, nomem)
    assert d.input_spec["shape"] == [96] and d.generation["sequence_length"] == 96
    assert d.num_classes == 8  # the data's classes
    assert any("sequence length 96" in r for r in d.rationale)


def test_classes_and_input_come_from_the_data(nomem):
    """fine-tune BERT (+ training): sized for the built-in text set the trainer uses: 4 classes, not 2."""
    plan = _plan(intents=["fine_tune"], modality="text", architecture="bert", variant="bert-micro", pretrained=False,
                 task="classification", tools=["design_architecture", "train_model"])
    d = design_architecture(plan, nomem)
    assert d.num_classes == 4 and d.output_shape == [1, 4]
    assert d.data["dataset"] == "text" and d.recipe["data_size"] == 700


def test_infeasible_budget_is_exit_3_with_the_nearest_design_and_gap(nomem):
    plan = _plan(intents=["design"], modality="image", architecture="cnn", task="classification",
                 constraints={"max_params": 500})
    with pytest.raises(InfeasibleDesign) as info:
        design_architecture(plan, nomem)
    exc = info.value
    assert exc.exit_code == 3
    assert exc.design.family == "cnn" and not exc.design.feasible and exc.design.violations
    assert "nearest" in str(exc) and "x the budget" in str(exc)
    assert exc.payload["violations"] and exc.payload["layers"]  # the answer can still show the design
    assert nomem.session["design"] is exc.design
    assert nomem.current_model() is None  # nothing downstream trains or compresses an over-budget design


def test_infeasible_through_the_agent_shows_the_design_and_exits_3(home):
    from tensor_agent.agent import TensorAgent

    agent = TensorAgent(str(home), remember=False)
    try:
        res = agent.invoke("@TENSOR design a CNN for image classification under 500 parameters", thread_id="inf",
                           use_memory=False)
    finally:
        agent.close()
    assert res.exit_code == 3
    assert "design_architecture" in res.errors and "nearest" in res.errors["design_architecture"]
    assert res.results["design_architecture"]["family"] == "cnn"


def test_same_plan_fields_different_text_same_design(nomem):
    kw = dict(intents=["design"], modality="image", architecture="cnn", variant="micro", task="classification")
    a = design_architecture(_plan("@TENSOR design a latent fine-tuned pretrained CNN", **kw), nomem)
    b = design_architecture(_plan("@TENSOR something else entirely", **kw), nomem)
    assert (a.family, a.variant, a.input_spec, a.num_classes, a.params) == \
        (b.family, b.variant, b.input_spec, b.num_classes, b.params)


@pytest.mark.parametrize("named", [None, False])
def test_guide_choice_is_not_pinned_and_memory_may_switch(ctx, named):
    """A family the guide chose (or, unrecorded, the guide's default) is not pinned: memory may switch it."""
    class _Rec:
        family, switched, rationale, evidence, fitness = "gat", True, "gat scored best", [], []

    class _Mem:
        def recommend(self, *a, **k):
            return _Rec()

    ctx.session["memory"] = _Mem()
    d = design_architecture(_plan(intents=["design"], modality="graph", architecture="gcn", architecture_named=named,
                                  task="node_classification"), ctx)
    assert d.family == "gat"


def test_named_family_is_pinned(ctx):
    class _Rec:
        family, switched, rationale, evidence, fitness = "gat", True, "gat scored best", [], []

    class _Mem:
        def recommend(self, *a, **k):
            return _Rec()

    ctx.session["memory"] = _Mem()
    d = design_architecture(_plan(intents=["design"], modality="graph", architecture="gcn", architecture_named=True,
                                  task="node_classification"), ctx)
    assert d.family == "gcn"


def test_explicit_pretrained_without_weights_is_exit_3(nomem):
    from tensor_agent.errors import UnsatisfiableError

    with pytest.raises(UnsatisfiableError, match="no offline pretrained weights for family 'vit'"):
        design_architecture(_plan(intents=["design"], modality="image", architecture="vit", pretrained=True), nomem)


def test_implement_with_a_framework_without_backend_says_so(nomem):
    nomem.options["input_spec"] = {"shape": [3, 16, 16]}
    plan = _plan(intents=["implement"], modality="image", architecture="resnet", variant="resnet-micro",
                 task="classification", framework="mxnet")
    d = design_architecture(plan, nomem)
    assert d.code_framework == "pytorch" and d.framework_note and "mxnet" in d.framework_note
    assert d.code_path.endswith(".py")
    assert "mxnet" in _render(d.model_dump(mode="json")).lower()


def test_expected_quality_cites_memory_when_it_has_runs(ctx):
    class _Fit:
        family, n, raw_mean, metric, datasets, evidence = "cnn", 3, 0.981, "accuracy", ["digits"], ["cnn on digits"]

    class _Rec:
        family, switched, rationale, evidence, fitness = "cnn", False, "kept cnn", [], [_Fit()]

    class _Mem:
        def recommend(self, *a, **k):
            return _Rec()

    ctx.session["memory"] = _Mem()
    ctx.options["input_spec"] = {"shape": [1, 8, 8]}
    d = design_architecture(_plan(intents=["design"], modality="image", architecture="cnn", variant="micro",
                                  task="classification"), ctx)
    q = d.expected_quality
    assert q["kind"] == "memory" and q["value"] == pytest.approx(0.981) and "3 past cnn run" in q["text"]
    assert "memory" in q["source"]
