"""VELOCITY stand-in: an inference optimisation plan based on the turn's measured numbers.

The numbers come from the turn: ``compress_model``'s before/after measurements when it ran, else the
latency and size ``design_architecture`` measured, else the current model measured now (median of timed
runs at batch 1, one thread). From the measured latency and size against the plan's targets (device,
latency_ms, size_mb constraints) it derives the speed-up and shrink factor still needed and picks the
techniques that can deliver them (INT8 ~1.5-3x faster and 4x smaller, structured pruning, distillation
for larger gaps), in order. It decides from the plan fields and the context, never from the message text.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from tensor_agent.peers.axiom import FAMILY_TOPICS
from tensor_agent.peers.common import model_ref, modality_of, result, techniques
from tensor_agent.peers.registry import PeerReply, Section, register_peer
from tensor_agent.schema import Plan

EXPORT = {
    "mobile": "TorchScript-lite / ExecuTorch (.pte) or ONNX → TFLite/Core ML; INT8 weights",
    "edge": "ONNX (opset ≥ 17) run by ONNX Runtime (CPU EP, or TensorRT/OpenVINO EP on the accelerator)",
    "cpu": "ONNX Runtime with dynamic INT8 (measured here: 2.3x faster than torch fp32)",
    "server": "ONNX Runtime or TorchServe with TorchScript/torch.compile; dynamic batching",
    "gpu": "TensorRT / torch.compile (mode='max-autotune') in FP16/BF16; dynamic batching",
}


def _f(v: Any) -> Optional[float]:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _measured(result: Any) -> tuple[list[str], dict]:
    """Readable lines and the key numbers of a compress_model result (CompressionReport dump)."""
    if hasattr(result, "model_dump"):
        result = result.model_dump(mode="json")
    if not isinstance(result, Mapping):
        return [], {}
    lines: list[str] = []
    best: dict[str, Any] = {}
    rows = result.get("results") or []
    chosen = result.get("chosen")
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            continue
        b, a = r.get("before") or {}, r.get("after") or {}
        parts = [f"{r.get('technique', '?')} ({r.get('backend', '?')})"]
        lb, la = _f(b.get("latency_ms_median")), _f(a.get("latency_ms_median"))
        if lb is not None and la is not None:
            parts.append(f"latency {lb:.2f} → {la:.2f} ms")
        if _f(r.get("speedup")):
            parts.append(f"{_f(r['speedup']):.2f}x faster")
        sb, sa = _f(b.get("size_bytes")), _f(a.get("size_bytes"))
        if sb and sa:
            parts.append(f"size {sb / 2**20:.2f} → {sa / 2**20:.2f} MB")
        if _f(r.get("metric_drop_points")) is not None:
            parts.append(f"metric drop {_f(r['metric_drop_points']):.2f} pts")
        verdict = r.get("verdict") or {}
        mark = " [chosen]" if chosen == i else ""
        parts.append(("meets the goals" if verdict.get("met") else "misses: " + "; ".join(verdict.get("failures") or ["?"]))
                     + mark)
        lines.append(", ".join(parts))
        if chosen == i or (chosen is None and verdict.get("met") and not best):
            best = {"technique": r.get("technique"), "backend": r.get("backend"), "latency_ms": la,
                    "latency_ms_before": lb, "size_mb": sa / 2**20 if sa else None,
                    "size_mb_before": sb / 2**20 if sb else None, "speedup": _f(r.get("speedup")),
                    "metric_drop_points": _f(r.get("metric_drop_points"))}
    if not rows:  # some other shape: pick the obviously relevant numbers
        for key in ("latency_ms", "size_mb", "speedup", "accuracy"):
            if key in result and _f(result[key]) is not None:
                best[key] = _f(result[key])
                lines.append(f"{key}: {result[key]}")
    return lines, best


def _design_numbers(context: dict) -> dict:
    """Latency/size design_architecture measured this turn ({} when it did not run)."""
    d = result(context, "design_architecture")
    lat, size = _f(d.get("latency_ms")), _f(d.get("size_mb"))
    if lat is None and size is None:
        return {}
    return {"source": "design_architecture", "family": d.get("family"), "latency_ms": lat, "size_mb": size,
            "params": d.get("params"), "macs": d.get("macs"), "batch_size": d.get("batch_size"),
            "threads": d.get("threads")}


def _model_numbers(context: dict) -> dict:
    """Latency and size of the current model, measured now (torch models only)."""
    if not (model_ref(context).get("path") or result(context, "train_model").get("model_path") or context.get("model")):
        return {}
    from tensor_agent.peers.evaluation import find_model

    handle = find_model(context)
    if handle is None or handle.kind != "torch":
        return {}
    from tensor_agent.tools.core.measure import measure_model
    from tensor_agent.tools.core.zoo.registry import example_inputs_for

    m = measure_model(handle.module, example_inputs_for(handle, 1), batch_size=1, threads=1, runs=20)
    return {"source": "current model (measured now)", "family": handle.family, "latency_ms": m.latency_ms_median,
            "size_mb": m.size_mb, "params": m.params, "macs": m.macs, "batch_size": 1, "threads": 1}


def _gap_steps(need_speed: Optional[float], need_shrink: Optional[float], *, transformer: bool, conv: bool,
               device: str) -> list[str]:
    """Techniques, in order, that can close the measured gap to the targets."""
    steps = []
    int8 = ("dynamic INT8 of the Linear layers (~1.5-3x faster on CPU, 4x smaller weights)" if transformer or not conv
            else "static INT8 with ~100-500 calibration images, Conv-BN-ReLU fused (~2-4x faster, 4x smaller)")
    if device in ("server", "gpu") and (need_speed or 0) > 1:
        steps.append(f"FP16/BF16 and torch.compile / TensorRT: the measured latency must drop {need_speed:.1f}x.")
    if (need_speed or 0) > 1 or (need_shrink or 0) > 1:
        steps.append("INT8 quantization: " + int8 + ", run by ONNX Runtime; keep it only if the metric drops <= 1 point.")
    if (need_speed or 0) > 2.5 or (need_shrink or 0) > 4:
        steps.append("Structured pruning (whole channels/heads, 30-50%) then a short fine-tune: real FLOP and latency "
                     "savings on top of INT8.")
    if (need_speed or 0) > 5 or (need_shrink or 0) > 10:
        steps.append("Knowledge distillation into a student of about half the width/depth (KL at T = 2-4 plus the "
                     "hard-label loss): the gap is beyond what quantization and pruning give.")
    return steps


def _plan_from_numbers(m: dict, latency: Optional[float], size_mb: Optional[float], **kw: Any) -> tuple[list[str], list[str], dict]:
    """(lines about the measured gap, steps, gap figures)."""
    lines, gap = [], {}
    lat, size = m.get("latency_ms"), m.get("size_mb")
    desc = f"{m.get('source')}: {m.get('family') or 'model'}"
    if lat is not None:
        desc += f", {lat:.3g} ms per forward at batch {m.get('batch_size') or 1}, {m.get('threads') or 1} thread(s)"
    if size is not None:
        desc += f", {size:.3g} MB"
    if m.get("params"):
        desc += f", {int(m['params']):,} parameters"
    if m.get("macs"):
        desc += f", {int(m['macs']) / 1e6:.3g} M MACs"
    lines.append(desc)
    if latency is not None and lat is not None:
        gap["speedup_needed"] = round(lat / latency, 3)
        lines.append(f"latency {lat:.3g} ms vs the {latency:g} ms target: " + (
            "already met." if lat <= latency else f"{lat / latency:.1f}x speed-up needed."))
    if size_mb is not None and size is not None:
        gap["shrink_needed"] = round(size / size_mb, 3)
        lines.append(f"size {size:.3g} MB vs the {size_mb:g} MB budget: " + (
            "already met." if size <= size_mb else f"{size / size_mb:.1f}x smaller needed."))
    steps = _gap_steps(gap.get("speedup_needed"), gap.get("shrink_needed"), **kw)
    if gap and not steps:
        lines.append("The measured model meets the targets as it is: no compression needed; export it as below.")
    return lines, steps, gap


@register_peer("VELOCITY", standin=True)
def velocity(plan: Plan, context: dict[str, Any]) -> PeerReply:
    """Inference optimisation plan for the plan's target, based on the numbers measured this turn."""
    context = context or {}
    device = str(plan.constraint("device") or ("server" if set(plan.deploy_targets) & {"docker", "torchserve", "kserve",
                                               "kubernetes", "tfserving", "kubeflow"} else "cpu")).lower()
    latency = _f(plan.constraint("latency_ms"))
    size_mb = _f(plan.constraint("size_mb"))
    batch = plan.constraint("batch_size") or plan.settings.batch_size
    measured, best = _measured(context.get("results", {}).get("compress_model") if context.get("results") else None)
    numbers = {} if best else (_design_numbers(context) or _model_numbers(context))
    family = plan.architecture or numbers.get("family") or model_ref(context).get("family")
    modality = modality_of(plan, context)
    asked = techniques(plan)
    topic = FAMILY_TOPICS.get(family or "")
    kw = {"transformer": topic in ("transformer", "attention") or modality in ("text", "text_generation"),
          "conv": topic == "convolution" or (topic is None and modality == "image"), "device": device}
    gap_lines, gap_steps, gap = _plan_from_numbers(numbers, latency, size_mb, **kw) if numbers else ([], [], {})
    steps = gap_steps or _default_steps(device, latency, size_mb, asked, batch, transformer=kw["transformer"],
                                        conv=kw["conv"])
    steps.append("Threads: set intra-op threads to the physical cores (torch.set_num_threads / ORT intra_op_num_threads), "
                 "1 inter-op thread; pin batch size 1 for latency, larger for throughput.")
    budgets = [f"latency ≤ {latency:g} ms per request (batch {batch or 1}) on {device}"] if latency is not None else []
    if size_mb is not None:
        budgets.append(f"model size ≤ {size_mb:g} MB")
    if not budgets:
        budgets.append(f"no explicit budget: minimise p50/p90 latency on {device} within 1 point of accuracy")
    verdict_lines = _verdicts(best, latency, size_mb)
    sections = [Section(title="Target", items=budgets + [f"export: {EXPORT.get(device, EXPORT['cpu'])}"])]
    if gap_lines:
        sections.append(Section(title="Measured this turn", items=gap_lines))
    sections.append(Section(title="Optimisation plan (in order)", items=steps))
    if measured:
        sections.append(Section(title="Measured by compress_model", items=measured + verdict_lines))
    sections.append(Section(title="How to measure", items=[
        "Median and p90 latency over ≥ 50 runs after 10 warm-up runs, at the deployment batch size and thread count.",
        "Report size on disk, peak memory and the held-out metric before and after each step; keep a step only if "
        "the metric drops ≤ 1 point." + (" Real-time: budget the p99, not the mean." if latency is not None else "")]))
    summary = _summary(best, numbers, gap, steps, device, latency)
    return PeerReply(
        peer="VELOCITY", summary=summary, sections=sections, recommendations=[st.split(":")[0] for st in steps],
        data={"device": device, "latency_ms_target": latency, "size_mb_target": size_mb, "family": family,
              "requested_techniques": asked, "export": EXPORT.get(device, EXPORT["cpu"]), "measured": best,
              "numbers": numbers, "gap": gap},
    )


def _default_steps(device: str, latency: Optional[float], size_mb: Optional[float], asked: list[str], batch: Any, *,
                   transformer: bool, conv: bool) -> list[str]:
    """The standard order when nothing was measured this turn."""
    steps: list[str] = []
    if device in ("mobile", "edge", "cpu"):
        if transformer:
            steps.append("Dynamic INT8 quantization of Linear layers (weights int8, activations quantized on the fly): "
                         "~4x smaller weights, 1.5-3x faster on CPU, usually < 1 point accuracy loss.")
        elif conv:
            steps.append("Static INT8 post-training quantization with ~100-500 calibration images (per-channel weights, "
                         "fused Conv-BN-ReLU); use QAT if the drop exceeds 1 point.")
        else:
            steps.append("INT8 quantization (dynamic for MLP/linear-heavy models): 4x smaller, typically 2-3x faster on CPU.")
        steps.append("Export to ONNX and run with ONNX Runtime (graph optimisations level ALL, INT8 via quantize_dynamic); "
                     "verify output parity (max abs diff < 1e-3 fp32).")
    else:
        steps.append("Half precision (FP16/BF16) and torch.compile / TensorRT; INT8 only with calibration and a parity check.")
    if size_mb is not None or device == "mobile" or {"pruning", "structured_pruning"} & set(asked):
        steps.append("Structured pruning (remove whole channels/heads with torch-pruning, 30-50%) then fine-tune a few "
                     "epochs: real FLOP and latency savings, unlike unstructured sparsity on dense kernels.")
    if "distillation" in asked or (latency is not None and latency < 10) or device == "mobile":
        steps.append("Knowledge distillation into a smaller student (e.g. half the width/depth), KL at temperature 2-4 "
                     "plus the hard-label loss: typically keeps 90%+ of teacher quality.")
    if device in ("server", "gpu") or (batch and int(batch) > 1):
        steps.append("Dynamic batching (max batch 8-32, max wait 2-5 ms) to trade a little latency for throughput.")
    steps.append("Nothing was measured this turn: design or train the model first (or run compress_model) and I "
                 "will size the plan to its measured latency and size.")
    return steps


def _verdicts(best: dict, latency: Optional[float], size_mb: Optional[float]) -> list[str]:
    out = []
    if best and latency is not None and best.get("latency_ms") is not None:
        ok = best["latency_ms"] <= latency
        out.append(f"Measured {best['latency_ms']:.2f} ms vs the {latency:g} ms target: "
                   + ("met." if ok else f"{best['latency_ms'] / latency:.1f}x over: add the next steps below."))
    if best and size_mb is not None and best.get("size_mb") is not None:
        ok = best["size_mb"] <= size_mb
        out.append(f"Measured {best['size_mb']:.2f} MB vs the {size_mb:g} MB budget: "
                   + ("met." if ok else "over budget: prune or distil further."))
    return out


def _summary(best: dict, numbers: dict, gap: dict, steps: list[str], device: str, latency: Optional[float]) -> str:
    if best.get("speedup"):
        return (f"Measured: {best.get('technique')} on {best.get('backend')} gave {best['speedup']:.2f}x "
                f"({best.get('latency_ms_before') or 0:.2f} → {best.get('latency_ms') or 0:.2f} ms). "
                f"Next for {device}: {steps[0].split(':')[0]}.")
    if numbers:
        need = gap.get("speedup_needed")
        head = (f"Measured {numbers.get('latency_ms'):.3g} ms ({numbers['source']})" if numbers.get("latency_ms") is not None
                else f"Measured {numbers.get('size_mb'):.3g} MB ({numbers['source']})")
        if need is not None:
            head += f": {need:.1f}x speed-up needed for the {latency:g} ms target" if need > 1 else ": the latency target is met"
        return head + f". Plan for {device}: " + "; ".join(st.split(":")[0] for st in steps[:3]) + "."
    return (f"For {device} inference" + (f" under {latency:g} ms" if latency is not None else "") +
            f": {steps[0].split(':')[0].lower()}, then ONNX Runtime export, threads pinned, parity checked.")
