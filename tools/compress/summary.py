"""The readable answer, the before/after PNG and the MLflow child run of a compression."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from tensor_agent.errors import TensorError
from tensor_agent.tools.compress.report import CompressionReport
from tensor_agent.tools.core.stats import fmt_bytes


def plot(report: CompressionReport, path: Path) -> Optional[str]:
    """Bars of size, latency and metric per result (grey original, green kept, red failed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not report.results:
        return None
    labels = ["original"] + [f"{i}:{r.technique}" for i, r in enumerate(report.results)]
    first = report.results[0].before
    rows = [first] + [r.after for r in report.results]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, (title, vals) in zip(axes, [("size (KB)", [s.size_bytes / 1e3 for s in rows]),
                                        (f"latency ms (batch {first.batch_size}, {first.threads} thr)",
                                         [s.latency_ms_median or 0 for s in rows]),
                                        ("held-out metric", [s.metric or 0 for s in rows])]):
        colors = ["grey"] + ["tab:green" if r.promoted else ("tab:blue" if r.verdict.met else "tab:red")
                             for r in report.results]
        ax.bar(range(len(vals)), vals, color=colors)
        ax.set_xticks(range(len(vals)), labels, rotation=30, ha="right", fontsize=8)
        ax.set_title(title)
    fig.suptitle("compression: grey original, green kept, blue ok, red failed")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)


def log_mlflow(ctx, handle, report: CompressionReport, notes: list) -> Optional[str]:
    """One child run of the model's run with every result's numbers; a failure becomes a note."""
    from tensor_agent.tools.core.tracking import mlflow_run

    try:
        with mlflow_run(ctx, f"compress-{handle.family}", parent_run_id=handle.mlflow_run_id,
                        tags={"tensor.tool": "compress_model", "tensor.promoted": report.promoted,
                              "tensor.backend": report.backend, "tensor.status": report.status}) as run:
            run.log_params({"techniques": ",".join(report.techniques), "tolerance_points": report.tolerance_points,
                            "source_path": handle.path, "goal": "; ".join(report.goal)})
            metrics = {}
            for i, r in enumerate(report.results):
                pre = f"{i}_{r.technique}"
                metrics.update({f"{pre}.size_bytes_before": r.before.size_bytes,
                                f"{pre}.size_bytes_after": r.after.size_bytes,
                                f"{pre}.latency_ms_before": r.before.latency_ms_median,
                                f"{pre}.latency_ms_after": r.after.latency_ms_median,
                                f"{pre}.metric_before": r.before.metric, f"{pre}.metric_after": r.after.metric,
                                f"{pre}.params_after": r.after.params, f"{pre}.sparsity_after": r.after.sparsity,
                                f"{pre}.speedup": r.speedup, f"{pre}.size_ratio": r.size_ratio,
                                f"{pre}.verdict_met": float(r.verdict.met)})
            run.log_metrics({k: v for k, v in metrics.items() if v is not None})
            run.log_dict(report.model_dump(mode="json"), "compression_report.json")
            if report.plot:
                run.log_artifact(report.plot)
            return run.run_id
    except TensorError as exc:
        notes.append(f"MLflow logging failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - reported in the answer; the measured result is kept
        notes.append(f"MLflow logging failed ({type(exc).__name__}: {str(exc)[:160]})")
    return None


def _fmt(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{v:.4f}"


def headline(report: CompressionReport) -> str:
    """The first line: what was delivered, or that nothing was and why."""
    exports = [r for r in report.results if r.backend == "export"]
    failed_exports = [r for r in exports if not r.verdict.met]
    if failed_exports:
        r = failed_exports[0]
        return (f"FAILED: {r.technique} export did not pass its check ({'; '.join(r.verdict.failures)}); "
                "nothing was delivered.")
    parts = []
    if report.promoted and report.chosen is not None:
        r = report.results[report.chosen]
        sp = r.speedup_interval.text() if r.speedup_interval else "n/a"
        what = " -> ".join(r.details["steps"]) if r.technique == "pipeline" else r.technique
        parts.append(f"Kept {what} on "
                     f"{r.backend}: {fmt_bytes(r.before.size_bytes)} -> {fmt_bytes(r.after.size_bytes)}, "
                     f"{sp} faster at batch {r.after.batch_size} ({r.after.threads} thread(s)), "
                     f"{r.after.metric_name or 'metric'} {_fmt(r.before.metric)} -> {_fmt(r.after.metric)}. "
                     f"It is now the current model.")
    elif any(r.backend != "export" for r in report.results):
        parts.append("No compressed model met the goals; the original stays the current model.")
    for r in exports:
        parts.append(f"Exported {r.technique}: {', '.join(report.delivered.values()) or '-'} (parity max |diff| "
                     f"{r.details.get('max_abs_diff'):.2g} <= 1e-4).")
    return " ".join(parts) or "Nothing to do."


def message(report: CompressionReport, notes: list) -> str:
    lines = [headline(report)]
    if report.status == "unchanged":
        fails = [f"{r.technique} ({r.backend}): " + "; ".join(r.verdict.failures) for r in report.results
                 if not r.verdict.met]
        lines.extend("  - " + f for f in fails[:6])
    lines.extend("Choice: " + c for c in report.choice)
    lines.append("")
    lines.append(report.table())
    lines.extend(f"note: {n}" for n in notes)
    return "\n".join(lines)
