"""The design tool: plan -> built, measured, explained architecture (the search is in core.zoo.search).

Decides from plan fields only (architecture, variant, pretrained, techniques, data, settings, framework,
intents, tools, constraints) and the tool's options, never from `plan.text`. The answer carries the
layer table of the built module, the training recipe for the data size, the expected quality with its
source, the alternatives (measured or not), generative specifics and runnable next steps. An infeasible
budget raises `InfeasibleDesign` (exit 3) carrying the nearest design and the gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from tensor_agent.catalogue import FAMILIES, default_dataset, guide_default
from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.core.zoo.registry import get_family, list_families
from tensor_agent.tools.core.zoo.search import (  # noqa: F401  (re-exported: the designer's public API)
    ArchitectureDesign,
    Candidate,
    _spec_text,
    dataset_facts,
    design_for,
)

_TRANSFER = ("lora", "adapter", "feature_extraction", "full_fine_tune")
_CONSTRAINTS = ("device", "max_params", "size_mb", "latency_ms", "batch_size", "input_shape", "sequence_length",
                "dataset_size", "num_features")


class InfeasibleDesign(UnsatisfiableError):
    """No design meets the budgets (exit 3); `design` is the nearest one, `payload` its JSON."""

    def __init__(self, design: ArchitectureDesign):
        gap = "; ".join(design.violations)
        super().__init__(f"no {design.modality} design meets the budget: the nearest is {design.family}/"
                         f"{design.variant} ({design.params:,} parameters, {design.latency_ms:.2f} ms) and misses "
                         f"by {gap}", hint="relax the budget, or accept the nearest design shown")
        self.design = design
        self.payload = design.model_dump(mode="json")


@dataclass
class _Inputs:
    """What the plan asks the designer for (every decision from plan fields / options)."""

    family: Optional[str]
    named: bool
    modality: Optional[str]
    task: Optional[str]
    variant: Optional[str]
    input_spec: Optional[dict]
    num_classes: Optional[int]
    dataset: Optional[str]
    facts: Optional[dict]
    pretrained: bool
    hparams: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)


def _plan_constraints(plan, ctx) -> dict:
    c = {n: plan.constraint(n) for n in _CONSTRAINTS if plan.constraint(n) is not None}
    opts = getattr(ctx, "options", {}) or {}
    for n in _CONSTRAINTS + ("threads", "latency_batch_size"):
        if opts.get(n) is not None:
            c[n] = opts[n]
    for key in ("seq_len", "max_length"):
        if opts.get(key) is not None:
            c["sequence_length"] = opts[key]
    if c.get("device") == "cpu":
        c.pop("device")
        c.setdefault("threads", 1)
    return c


def _wants_pretrained(plan, family: Optional[str], modality: Optional[str], lines: list) -> bool:
    implicit = "fine_tune" in plan.intents or any(t in _TRANSFER for t in plan.techniques) or \
        (plan.settings.strategy or "scratch") != "scratch"
    want = plan.pretrained if plan.pretrained is not None else implicit
    if not want:
        return False
    fam = family or (guide_default(modality) if modality else None)
    spec = FAMILIES.get(fam or "")
    if fam and (spec is None or not spec.pretrained):
        if plan.pretrained:
            raise UnsatisfiableError(f"no offline pretrained weights for family {fam!r} (pretrained weights: "
                                     f"{', '.join(n for n, f in FAMILIES.items() if f.pretrained)})",
                                     hint="drop pretrained=true to design it from scratch")
        lines.append(f"fine-tuning asked for, but {fam} has no offline pretrained weights: designed from scratch")
        return False
    return True


def _data(plan, ctx, modality: Optional[str], lines: list) -> tuple[Optional[str], Optional[dict]]:
    """(dataset ref, facts): the plan's data source, else the built-in default when training follows."""
    ref = plan.data.ref if plan.data is not None else None
    if ref is None and "train_model" in plan.tools and modality:
        ref = default_dataset(modality)
        if ref:
            lines.append(f"no data named: sized for the built-in '{ref}' set the trainer uses "
                         "(pass --set data_path=FILE for your own)")
    if ref is None:
        return None, None
    facts = dataset_facts(str(ref), modality)
    return str(ref), facts


def _inputs(plan, ctx) -> _Inputs:
    opts = getattr(ctx, "options", {}) or {}
    family = plan.architecture
    if family is not None and family not in list_families():
        raise UnsatisfiableError(f"unknown family {family!r} (known: {', '.join(list_families())})")
    modality = plan.modality or (get_family(family).modality if family else None)
    lines: list[str] = []
    dataset, facts = _data(plan, ctx, modality, lines)
    if facts and not modality:
        modality = facts.get("modality")
    if modality is None:
        raise InputError("cannot tell what kind of model to design",
                         hint="name the data (image, text, tabular, graph, sequence) or an architecture")
    pretrained = _wants_pretrained(plan, family, modality, lines)
    if pretrained and family is None and modality == "text":
        family = "bert"
    named = _is_named(plan, family, modality)
    spec: Optional[dict] = opts.get("input_spec")
    stated = plan.constraint("num_classes", opts.get("num_classes"))
    n_cls, task = stated, plan.task
    if facts and not spec and (family is None or get_family(family).modality == facts.get("modality")):
        spec = dict(facts.get("input_spec") or {}) or None
        if facts.get("num_classes"):
            if stated and stated != facts["num_classes"]:
                lines.append(f"the data has {facts['num_classes']} classes (you said {stated}): sized for the data")
            n_cls = facts["num_classes"]
        task = task or facts.get("task")
        if spec:
            lines.append(f"data {dataset}: input {_spec_text(_norm(spec))}"
                         + (f", {n_cls} classes" if n_cls else ""))
    elif facts and family:
        lines.append(f"data {dataset} is {facts.get('modality')} data; {family} takes {get_family(family).modality}: "
                     "input sized from the family's defaults")
    if task is not None:
        fams = [family] if family else [f for f in list_families() if get_family(f).modality == modality]
        if fams and not any(task in get_family(f).tasks for f in fams):
            lines.append(f"task {task!r} is not one of {', '.join(get_family(fams[0]).tasks)}; using the family's")
            task = None
    hparams: dict[str, dict] = {}
    if "latent" in plan.techniques and (family in (None, "diffusion")) and modality == "image_generation":
        hparams["diffusion"] = {"latent": True}
        lines.append("latent diffusion: a small AutoencoderKL maps images to 4-channel latents at 1/4 resolution")
    if plan.settings.dropout is not None and family in ("cnn", "mlp", "gcn", "gat", "graphsage", "bert", "gpt", "t5"):
        hparams.setdefault(family, {})["dropout"] = plan.settings.dropout
    return _Inputs(family, named, modality, task, plan.variant, spec, n_cls, dataset, facts, pretrained,
                   hparams, lines)


def _is_named(plan, family: Optional[str], modality: str) -> bool:
    """Whether the search must stay inside `family`: the plan says it was named (or gives a variant);
    without that record, any family other than the guide's default for the modality counts as named."""
    if family is None:
        return False
    if plan.variant is not None:
        return True
    named = getattr(plan, "architecture_named", None)
    if named is not None:
        return bool(named)
    return family != guide_default(modality)


def _norm(spec: dict) -> dict:
    from tensor_agent.tools.core.zoo.spec import normalize_input_spec

    return normalize_input_spec(spec)


def _apply_sequence_length(inp: _Inputs, c: dict) -> None:
    """A stated sequence length wins over the data's default length (generated sets take any length)."""
    t = c.get("sequence_length")
    if t is None or not inp.input_spec or inp.input_spec.get("kind") not in ("tokens", "sequence"):
        return
    shape = list(inp.input_spec.get("shape") or [])
    if shape and int(shape[0]) != int(t):
        inp.lines.append(f"sequence length {int(t)} as stated (the data's default is {shape[0]})")
        inp.input_spec = {**inp.input_spec, "shape": [int(t), *shape[1:]]}
        inp.input_spec.pop("seq_len", None)
        inp.input_spec.pop("max_length", None)


def design_architecture(plan, ctx) -> ArchitectureDesign:
    """The design tool: plan -> built, measured design; sets the thread's current model.

    Raises:
        InfeasibleDesign (exit 3): no variant meets the budgets; carries the nearest design and the gap.
        UnsatisfiableError (exit 3): unknown family/variant, pretrained weights that do not exist.
        InputError (exit 2): no modality, bad sizes or budgets.
    """
    inp = _inputs(plan, ctx)
    constraints = _plan_constraints(plan, ctx)
    _apply_sequence_length(inp, constraints)
    design, handle = design_for(inp.family, modality=inp.modality, input_spec=inp.input_spec,
                                num_classes=inp.num_classes, constraints=constraints, task=inp.task, ctx=ctx,
                                named=inp.named, wants_pretrained=inp.pretrained and inp.modality == "text",
                                rationale=inp.lines, hparams=inp.hparams, variant=inp.variant)
    if inp.dataset:
        handle.dataset = inp.dataset
    from tensor_agent.tools.design.answer import complete_design

    complete_design(design, handle, plan, ctx, dataset=inp.dataset, facts=inp.facts, pretrained=inp.pretrained)
    if "implement" in plan.intents:
        _write_code(design, handle, plan, ctx)
    _plot(design, ctx)
    design.rationale = list(dict.fromkeys(design.rationale))  # each reason once
    from tensor_agent.tools.design.answer import design_text

    design.message = design_text(design)
    if design.feasible:  # an over-budget design is shown, never handed on as the thread's model
        ctx.set_model(handle)
    ctx.session["design"] = design
    ctx.artifacts["design"] = {"family": design.family, "variant": design.variant, "params": design.params,
                               "code_path": design.code_path, "feasible": design.feasible}
    if not design.feasible:
        raise InfeasibleDesign(design)
    return design


def _write_code(design: ArchitectureDesign, handle, plan, ctx) -> None:
    """Write the code generated from the built module and check it builds the same parameter count."""
    from tensor_agent.tools.design.codegen import write_code

    res = write_code(design, ctx.settings.code_dir, framework=plan.framework, handle=handle)
    design.code_path, design.code_framework, design.framework_note = str(res.path), res.framework, res.note
    handle.extra["code_path"] = design.code_path
    if res.framework == "pytorch":
        n = _written_params(res.path)
        if n != design.params:
            raise UnsatisfiableError(f"the generated file {res.path} builds {n:,} parameters, the design {design.params:,}",
                                     hint="a code-generation bug: report it")
        design.rationale.append(f"code generated from the built module: {res.path.name} builds the same "
                                f"{n:,} parameters")


def _written_params(path) -> int:
    """Parameters of `build_model()` of a generated file, built on the meta device (nothing allocated)."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location(f"tensor_generated_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with torch.device("meta"):
        model = mod.build_model()
    return sum(p.numel() for p in model.parameters())


def _plot(design: ArchitectureDesign, ctx) -> None:
    from tensor_agent.tools.design.plot import plot_design_async

    out = ctx.settings.artifacts_dir / f"design-{design.family}-{design.variant}-{int(time.time() * 1000)}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    design.plot_path = plot_design_async(design, out)  # drawn in a child process; complete before exit


def plot_design(design: ArchitectureDesign, path) -> Optional[str]:  # kept for callers of the old location
    from tensor_agent.tools.design.plot import plot_design as _p

    return _p(design, path)


__all__ = ["ArchitectureDesign", "Candidate", "InfeasibleDesign", "design_architecture", "design_for",
           "plot_design"]

