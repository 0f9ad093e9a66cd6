"""Compare runs: a table and a PNG of their metrics (the last N runs, or named runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import InputError, UnsatisfiableError


def pick_runs(client, experiment_id: str, which: Any) -> list:
    """`which`: a number (the last N top-level runs), or run ids / run names (a list or comma-separated)."""
    if which is None or (isinstance(which, (int, float)) and not isinstance(which, bool)) or str(which).isdigit():
        n = int(which or 5)
        if n < 2:
            raise InputError(f"runs_to_compare={which!r}: compare at least 2 runs")
        runs = client.search_runs([experiment_id], order_by=["attributes.start_time DESC"], max_results=200)
        runs = [r for r in runs if r.data.tags.get("tensor.stage") != "tune-trial" and r.data.metrics]
        return runs[:n]
    names = which if isinstance(which, (list, tuple)) else [s.strip() for s in str(which).split(",") if s.strip()]
    from mlflow.exceptions import MlflowException

    out = []
    for ref in names:
        runs = client.search_runs([experiment_id], filter_string=f"attributes.run_name = '{ref}'", max_results=1)
        if not runs:
            try:
                runs = [client.get_run(ref)]
            except MlflowException:  # not an id either
                raise InputError(f"no MLflow run named or with id {ref!r}", hint="see `action=compare` with a number") from None
        out.append(runs[0])
    return out


def table(runs: list, metric: Optional[str] = None) -> tuple[list[str], list[dict]]:
    """(metric names shared by the runs, one row per run)."""
    keys = [set(r.data.metrics) for r in runs]
    shared = sorted(set.intersection(*keys)) if keys else []
    if metric:
        if metric not in set.union(*keys):
            raise InputError(f"compare_metric={metric!r} is not logged by these runs (they log "
                             f"{', '.join(sorted(set.union(*keys)))})", hint="fix 'compare_metric'")
        shared = [metric]
    if not shared:
        raise UnsatisfiableError("these runs share no metric to compare", hint="pass compare_metric=<name>")
    rows = [{"run_id": r.info.run_id, "name": r.info.run_name, "status": r.info.status,
             **{m: round(float(r.data.metrics[m]), 5) for m in shared if m in r.data.metrics}} for r in runs]
    return shared, rows


def markdown(metrics: list[str], rows: list[dict]) -> str:
    head = "| run | " + " | ".join(metrics) + " |\n|---|" + "---|" * len(metrics) + "\n"
    return head + "\n".join(f"| {r['name']} | " + " | ".join(f"{r.get(m, '')}" for m in metrics) + " |" for r in rows)


def plot(metrics: list[str], rows: list[dict], path: Path) -> str:
    """One bar group per metric (at most 8), one bar per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = metrics[:8]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown) + 1, 3.6), squeeze=False)
    for ax, m in zip(axes[0], shown):
        ax.bar(range(len(rows)), [r.get(m, 0.0) for r in rows], color=[f"C{i % 10}" for i in range(len(rows))])
        ax.set_xticks(range(len(rows)), [str(r["name"])[:14] for r in rows], rotation=45, ha="right", fontsize=7)
        ax.set_title(m, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
