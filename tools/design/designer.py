"""The design tool: plan -> built, measured, explained architecture (the search is in core.zoo.search)."""

from __future__ import annotations

import re
import time
from typing import Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.core.zoo.registry import get_family, list_families
from tensor_agent.tools.core.zoo.search import (  # noqa: F401  (re-exported: the designer's public API)
    FAMILY_WORDS,
    GUIDE,
    ArchitectureDesign,
    Candidate,
    _spec_text,
    dataset_facts,
    design_for,
)
from tensor_agent.tools.core.zoo.spec import normalize_input_spec


def plot_design(design: ArchitectureDesign, path) -> Optional[str]:
    """Scatter of parameters vs measured latency of the chosen design and its alternatives, with budgets."""
    pts = [(a.family, a.variant, a.params, a.latency_ms, a.feasible) for a in design.alternatives if a.params]
    if design.params:
        pts.append((design.family, design.variant, design.params, design.latency_ms, True))
    if len(pts) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    timed = [p for p in pts if p[3]]
    counted = [p for p in pts if not p[3]]
    for fam_name in dict.fromkeys(p[0] for p in pts):
        xs = [p[2] for p in timed if p[0] == fam_name]
        ys = [p[3] for p in timed if p[0] == fam_name]
        if xs:
            ax.scatter(xs, ys, label=fam_name)
    for p in counted:  # counted only (rejected before timing): plotted at the bottom edge
        ax.axvline(p[2], color="0.85", lw=0.8, zorder=0)
    if design.latency_ms:
        ax.scatter([design.params], [design.latency_ms], s=160, facecolors="none", edgecolors="red",
                   label=f"chosen: {design.family}/{design.variant}")
    if "max_params" in design.constraints:
        ax.axvline(design.constraints["max_params"], color="red", ls="--", lw=1, label="max_params")
    if "latency_ms" in design.constraints:
        ax.axhline(design.constraints["latency_ms"], color="orange", ls="--", lw=1, label="latency budget")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("parameters (grey lines: counted, not timed)")
    ax.set_ylabel(f"median latency, ms (batch {design.batch_size}, {design.threads} thread)")
    ax.set_title("design search: candidates measured on this machine")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


# --- the tool ------------------------------------------------------------------------------------
_PRETRAIN_WORDS = ("pretrained", "pre-trained", "fine-tune", "fine tune", "finetune", "fine-tuning")


def _named_family(plan) -> bool:
    arch = plan.architecture
    if not arch:
        return False
    text = (plan.text or "").lower()
    return any(re.search(r"\b" + re.escape(w) + r"\b", text) for w in FAMILY_WORDS.get(arch, (arch,)))


def _plan_constraints(plan, ctx) -> dict:
    names = ("device", "max_params", "size_mb", "latency_ms", "batch_size", "input_shape", "sequence_length",
             "dataset_size", "num_features")
    c = {n: plan.constraint(n) for n in names if plan.constraint(n) is not None}
    opts = getattr(ctx, "options", {}) or {}
    for n in names + ("threads",):
        if opts.get(n) is not None:
            c[n] = opts[n]
    if c.get("device") == "cpu":
        c.pop("device")
        c.setdefault("threads", 1)
    return c


def design_architecture(plan, ctx) -> ArchitectureDesign:
    """The design tool: plan -> built, measured design; sets the thread's current model.

    Reads the plan's architecture, modality, task and constraints, the dataset (plan constraint `dataset`
    or `ctx.options["dataset"]`) to size input/output, and writes standalone code for `implement`.
    """
    opts = getattr(ctx, "options", {}) or {}
    modality = plan.modality
    family = plan.architecture
    if family is not None and family not in list_families():
        raise UnsatisfiableError(f"unknown family {family!r} (known: {', '.join(list_families())})")
    named = _named_family(plan) if family else False
    if family and not modality:
        modality = get_family(family).modality
    lines: list[str] = []
    input_spec: Optional[dict] = opts.get("input_spec")
    num_classes = plan.constraint("num_classes", opts.get("num_classes"))
    task = plan.task
    dataset = opts.get("dataset") or opts.get("data_path") or plan.constraint("dataset")
    if dataset and not input_spec:
        facts = dataset_facts(str(dataset), modality)
        if facts:
            modality = modality or facts.get("modality")
            if not family or facts.get("modality") == modality or get_family(family).modality == facts.get("modality"):
                input_spec = facts.get("input_spec")
                num_classes = num_classes or facts.get("num_classes")
                task = task or facts.get("task")
                lines.append(f"dataset {dataset}: input {_spec_text(normalize_input_spec(input_spec))}, "
                             f"{num_classes} classes")
        else:
            lines.append(f"dataset {dataset!r} is not a built-in one; input/output sized from defaults")
    if modality is None and family is None:
        modality = "image" if "image" in (plan.text or "").lower() else None
    if modality is None:
        raise InputError("cannot tell what kind of model to design",
                         hint="name the data (image, text, tabular, graph, sequence) or an architecture")
    if task is not None:
        fams = [family] if family else GUIDE.get(modality, {}).get("families", [])
        if fams and not any(task in get_family(f).tasks for f in fams):
            lines.append(f"task {task!r} is not one of {', '.join(get_family(fams[0]).tasks)}; using the family's")
            task = None
    techniques = plan.constraint("technique") or []
    if isinstance(techniques, str):
        techniques = [techniques]
    text = (plan.text or "").lower()
    wants_pretrained = bool(opts.get("pretrained")) or "fine_tune" in plan.intents or \
        any(t in ("lora", "adapter", "feature_extraction", "full_fine_tune") for t in techniques) or \
        any(w in text for w in _PRETRAIN_WORDS)
    if wants_pretrained and (family in (None, "bert")) and modality == "text":
        family = "bert"
    constraints = _plan_constraints(plan, ctx)
    hparams: dict[str, dict] = {}
    if "latent" in text and (family == "diffusion" or modality == "image_generation"):
        hparams["diffusion"] = {"latent": True}
        lines.append("latent diffusion: a small AutoencoderKL maps images to 4-channel latents at 1/4 resolution")
    design, handle = design_for(family, modality=modality, input_spec=input_spec, num_classes=num_classes,
                                constraints=constraints, task=task, ctx=ctx, named=named if family else False,
                                wants_pretrained=wants_pretrained and modality == "text", rationale=lines,
                                hparams=hparams)
    if dataset:
        handle.dataset = str(dataset)
    if "implement" in plan.intents:
        from tensor_agent.tools.design.codegen import write_module

        try:
            design.code_path = str(write_module(design, ctx.settings.code_dir))
        except UnsatisfiableError as exc:
            design.rationale.append(f"implement: {exc}")
        handle.extra["code_path"] = design.code_path
    if design.latency_ms and any(a.params for a in design.alternatives):
        try:
            out = ctx.settings.artifacts_dir / f"design-{design.family}-{design.variant}-{int(time.time())}.png"
            design.plot_path = plot_design(design, out)
        except Exception as exc:  # noqa: BLE001 - a plot must never cost the design
            design.rationale.append(f"(no plot: {exc})")
    ctx.set_model(handle)
    ctx.session["design"] = design
    ctx.artifacts["design"] = {"family": design.family, "variant": design.variant, "params": design.params,
                               "code_path": design.code_path}
    return design
