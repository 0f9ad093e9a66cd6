"""The design PNG: parameters vs measured latency of the chosen design and its alternatives, with budgets.

`plot_design_async` draws it in a child process through `tensor_agent.tools.core.plots` (matplotlib's
import costs ~0.6 s cold, more on a busy machine) so the answer does not wait; the file is complete before
this process exits (atexit) and `wait_for_plots()` waits for it explicitly. TENSOR_SYNC_PLOTS=1 draws
in-process instead.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from tensor_agent.tools.core.plots import draw_async, wait_for_plots

__all__ = ["plot_design_async", "plot_design", "draw_design", "wait_for_plots"]


def plot_design_async(design: Any, path) -> str:
    """Start drawing the PNG of `design` at `path` in a child process; returns the path."""
    payload = json.loads(design.model_dump_json(include={"family", "variant", "modality", "task", "params",
                                                         "latency_ms", "batch_size", "threads", "constraints",
                                                         "feasible", "alternatives"}))
    return draw_async("tensor_agent.tools.design.plot:draw_design", payload, path, run=None) or str(path)


def draw_design(payload: dict, path: str) -> Optional[str]:
    """`plot_design` on the JSON form of a design (the child of `plot_design_async`)."""
    return plot_design(_Obj(payload), path)


def plot_design(design: Any, path) -> Optional[str]:
    """Write the PNG (always: with one candidate it shows the chosen design against its budgets)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [(a.family, a.variant, a.params, a.latency_ms) for a in design.alternatives if a.params]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    timed = [p for p in pts if p[3]]
    for fam_name in dict.fromkeys(p[0] for p in timed):
        ax.scatter([p[2] for p in timed if p[0] == fam_name], [p[3] for p in timed if p[0] == fam_name],
                   label=f"{fam_name} (measured)")
    for p in pts:
        if not p[3]:  # counted only (not timed): a vertical line at its parameter count
            ax.axvline(p[2], color="0.85", lw=0.8, zorder=0)
    lat = design.latency_ms or 0.0
    ax.scatter([design.params or 1], [lat], s=160, facecolors="none", edgecolors="red",
               label=f"chosen: {design.family}/{design.variant}")
    ax.annotate(f"{design.params:,} params\n{lat:.2f} ms", (design.params or 1, lat), textcoords="offset points",
                xytext=(8, 8), fontsize=8)
    if "max_params" in design.constraints:
        ax.axvline(design.constraints["max_params"], color="red", ls="--", lw=1, label="max_params")
    if "latency_ms" in design.constraints:
        ax.axhline(design.constraints["latency_ms"], color="orange", ls="--", lw=1, label="latency budget")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0, top=max([lat] + [p[3] for p in timed] + [design.constraints.get("latency_ms", 0)]) * 1.3
                or 1.0)
    ax.set_xlabel("parameters (grey lines: counted, not timed)")
    ax.set_ylabel(f"median latency, ms (batch {design.batch_size}, {design.threads} thread)")
    ax.set_title(f"design: {design.family}/{design.variant}" + ("" if design.feasible else " (budget NOT met)"))
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


class _Obj:
    def __init__(self, d: dict) -> None:
        for k, v in d.items():
            setattr(self, k, [_Obj(x) if isinstance(x, dict) else x for x in v] if k == "alternatives" else v)

