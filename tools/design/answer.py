"""What turns a measured architecture into a design answer: layer table, training recipe, expected
quality with its source, generative specifics, the data it is sized for and runnable next steps."""

from __future__ import annotations

import shlex
import textwrap
from typing import Any, Optional

from tensor_agent.tools.core.zoo.search import ArchitectureDesign, _spec_text
from tensor_agent.tools.design.quality import expected_quality

#: sampling steps the design recommends for DDIM (the DDPM sampler walks every training timestep)
DDIM_STEPS = 50


def layers_of(handle, batch_size: int) -> list[dict]:
    """The layer table of the built module (forward hooks), or the booster's structure."""
    if handle.kind == "xgboost":
        hp = handle.extra.get("hparams") or {}
        n_out = handle.num_classes if (handle.num_classes or 0) > 2 else 1
        return [{"name": "trees", "type": type(handle.module).__name__,
                 "output_shape": [batch_size, max(2, handle.num_classes or 2)] if handle.task == "classification"
                 else [batch_size], "params": None,
                 "detail": f"{hp.get('n_estimators', 100)} rounds x {n_out} tree(s), depth <= {hp.get('max_depth', 4)}, "
                           f"learning rate {hp.get('learning_rate', 0.1)}"}]
    from tensor_agent.tools.core.measure import layer_table
    from tensor_agent.tools.core.zoo.registry import example_inputs_for

    return layer_table(handle.module, example_inputs_for(handle, batch_size))


def generation_facts(design: ArchitectureDesign, handle) -> dict[str, Any]:
    """Diffusion: timesteps, beta schedule, sampler, sampling steps; LMs: context and decoding; SSMs: length."""
    spec = design.input_spec or {}
    if design.family == "diffusion":
        mod = handle.module
        return {"timesteps": int(mod.num_train_timesteps), "beta_schedule": mod.beta_schedule,
                "beta_range": "1e-4 .. 0.02" if mod.beta_schedule == "linear" else "scheduler default",
                "sampler": "DDIM", "sampling_steps": DDIM_STEPS,
                "alternative_sampler": f"DDPM (ancestral, all {int(mod.num_train_timesteps)} steps)",
                "image_size": "x".join(map(str, spec.get("shape", []))),
                "latent": bool(design.hyperparameters.get("latent")),
                "prediction": "the added noise (epsilon)"}
    if design.task in ("generation", "seq2seq") and spec.get("kind") == "tokens":
        out = {"context_length": spec["shape"][0], "vocab_size": spec.get("vocab_size"),
               "decoding": "greedy or top-k sampling (k=50, temperature 0.8)", "max_new_tokens": 64}
        if "target_len" in spec:
            out["target_length"] = spec["target_len"]
        return out
    if design.modality == "sequence":
        return {"sequence_length": spec.get("shape", [None])[0],
                "scaling": "linear in sequence length (selective scan), constant memory per step"}
    return {}


def _cmd(message: str, thread: str, extra: str = "") -> str:
    return f"tensor-agent ask {shlex.quote(message)} --thread {shlex.quote(thread)}{extra}"


def next_steps(design: ArchitectureDesign, thread: str, dataset: Optional[str]) -> list[str]:
    """Runnable commands that continue from this design in the same thread."""
    data = "" if dataset else " --set data_path=YOUR_DATA"
    steps = [_cmd("@TENSOR train it", thread, data)]
    if design.kind == "torch":
        steps.append(_cmd("@TENSOR quantize it to int8", thread))
        steps.append(_cmd("@TENSOR export it to ONNX", thread))
    if not design.code_path and design.kind == "torch":
        steps.append(_cmd(f"@TENSOR implement {design.family}", thread,
                          f" --set variant={design.variant}" + (f" --set dataset={dataset}" if dataset and
                                                                "/" not in dataset else "")))
    return steps


def data_facts(design: ArchitectureDesign, plan, dataset: Optional[str], facts: Optional[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {"input": _spec_text(design.input_spec), "classes": design.num_classes}
    if dataset:
        out.update(dataset=dataset, source=(plan.data.source if plan.data is not None else "default"))
        if facts:
            out.update(description=facts.get("description"), size=facts.get("size"))
    else:
        out["source"] = "family default (no data named)"
    return out


def complete_design(design: ArchitectureDesign, handle, plan, ctx, *, dataset: Optional[str],
                    facts: Optional[dict], pretrained: bool) -> ArchitectureDesign:
    """Fill the answer fields of `design` in place."""
    from tensor_agent.tools.core.zoo.recipe import training_recipe

    design.layers = layers_of(handle, design.batch_size)
    size = (facts or {}).get("size") or plan.constraint("dataset_size")
    try:
        size = int(size) if size is not None else None
    except (TypeError, ValueError):
        size = None
    recipe = training_recipe(design.family, design.modality, design.task, data_size=size,
                             input_spec=design.input_spec, hparams=design.hyperparameters,
                             pretrained=pretrained and design.family == "bert", stated=plan.settings.stated())
    design.recipe = recipe.model_dump()
    design.expected_quality = expected_quality(design, dataset=dataset)
    design.generation = generation_facts(design, handle)
    design.data = data_facts(design, plan, dataset, facts)
    design.next_steps = next_steps(design, getattr(ctx, "thread_id", "default") or "default", dataset)
    return design


def _n(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, int):
        return f"{v / 1e6:.1f}M" if v >= 10**7 else f"{v:,}"
    return f"{v:.3g}"


def design_text(d: ArchitectureDesign, width: int = 80) -> str:
    """The design as plain text (each line <= `width`): what a chat answer shows."""
    out: list[str] = []

    def para(text: str, indent: str = "", w: int = width) -> None:
        out.extend(textwrap.wrap(text, width=w, initial_indent=indent, subsequent_indent=indent + "  ",
                                 break_long_words=True, break_on_hyphens=False) or [""])

    lat = f"{d.latency_ms:.3g} ms at batch {d.batch_size} ({d.threads} thread)" if d.latency_ms is not None else "-"
    head = (f"Design {d.family}/{d.variant} for {d.modality} {d.task}: {_n(d.params)} parameters, "
            f"{d.size_mb:.3g} MB, {_n(d.macs)} MACs, {lat}, measured on this machine.")
    if not d.feasible:
        head += " Budget NOT met: " + "; ".join(d.violations) + "."
    para(head, w=width - len("[design_architecture] "))  # the chat answer prefixes the tool name
    data = d.data or {}
    para(f"Input {data.get('input', '-')} -> output {'x'.join(map(str, d.output_shape))}"
         + (f"; data: {data['dataset']}" if data.get("dataset") else "; no data named (family default input)") + ".")
    if d.layers:
        shown = "; ".join(f"{r['name']} {r['type']} -> {'x'.join(map(str, r.get('output_shape') or [])) or '-'}"
                          for r in d.layers[:6])
        para(f"Layers ({len(d.layers)} rows; first {min(6, len(d.layers))}): {shown}"
             + ("; ... (full table: `layers` in --json)" if len(d.layers) > 6 else ""))
    r = d.recipe or {}
    if r:
        warm = f" with {r['warmup_epochs']} warm-up epoch(s)" if r.get("warmup_epochs") else ""
        para(f"Recipe: {r['optimizer']} lr {r['lr']:g}, weight decay {r.get('weight_decay', 0):g}, {r['schedule']}"
             f"{warm}, {r['epochs']} epochs, batch {r.get('batch_size') or 'full'}; "
             + "; ".join(r.get("regularisation") or [])
             + (f"; augmentation: {'; '.join(r['augmentation'])}" if r.get("augmentation") else "") + ".")
    q = d.expected_quality or {}
    if q:
        para(f"Expected quality: {q['text']} (source: {q['source']}).")
    if d.generation:
        para("Generation: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in d.generation.items()) + ".")
    for line in dict.fromkeys(d.rationale):
        para(f"- {line}")
    if d.alternatives:
        para("Alternatives: " + "; ".join(f"{a.family}/{a.variant} {_n(a.params)} params ({a.evidence})"
                                          for a in d.alternatives[:6]) + ".")
    if d.framework_note:
        para(f"Note: {d.framework_note}.")
    if d.code_path:
        para(f"Code ({d.code_framework or 'pytorch'}): {d.code_path}")
    if d.plot_path:
        para(f"Plot: {d.plot_path}")
    if d.next_steps:
        out.append("Next steps:")
        for step in d.next_steps:
            para(step, "  ")
    return "\n".join(out)
