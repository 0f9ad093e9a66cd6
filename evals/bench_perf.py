"""Issue 17 points 1-2: tracking cost and warm answer time, each figure next to its target, in one run.

    .venv/bin/python evals/bench_perf.py                      # tracking, overhead, warm answer, cold answer
    .venv/bin/python evals/bench_perf.py --only tracking warm --repeats 5
    sections: tracking (XGBoost breast_cancer train_model, warm, in-process)
              overhead (MLflow time on the critical path of a ~2 s training)
              warm     (the design answer in a reused TensorAgent, as `tensor-agent serve` runs it)
              cold     (whole `tensor-agent ask` processes, fresh TENSOR_HOME, memory on: evals/bench_answers.py)

The machine is shared: every section prints the 1-minute load average before and after, and the CPU
seconds next to the wall seconds (the paths measured are mostly single-threaded, so on a loaded machine
the CPU time is close to what the wall time would be on a quiet one).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
os.environ.setdefault("TENSOR_THREADS", "1")

DESIGN = "@TENSOR design CNN architecture for image classification"
MLFLOW_TIME = collections.Counter()
LAST_BREAKDOWN = collections.Counter()  # MLflow time per call of the last train_model (before any checks)


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def row(section: str, what: str, value: str, target: str = "") -> None:
    print(f"  {section:<9} {what:<60} {value:<34} {target}", flush=True)


def _instrument_mlflow() -> None:
    """Accumulate the wall time of every MlflowClient call (the tracking cost on the caller's path)."""
    from mlflow.tracking import MlflowClient

    if getattr(MlflowClient, "_bench_timed", False):
        return
    for name in [n for n in dir(MlflowClient) if not n.startswith("_")]:
        fn = getattr(MlflowClient, name)
        if not callable(fn) or isinstance(fn, property):
            continue

        def timed(*a, _fn=fn, _name=name, **k):
            t = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                MLFLOW_TIME[_name] += time.perf_counter() - t

        setattr(MlflowClient, name, functools.wraps(fn)(timed))
    MlflowClient._bench_timed = True


def _ctx(home: Path, **options):
    from tensor_agent.config import Settings
    from tensor_agent.tools.core.context import ToolContext

    return ToolContext(settings=Settings.from_env(home=str(home)), thread_id=f"perf-{time.time_ns()}",
                       progress=False, options=options)


def _train(home: Path, architecture: str, dataset: str, **options):
    from tensor_agent.contract import resolve
    from tensor_agent.schema import Constraint, Plan
    from tensor_agent.tools.train import train_model

    ctx = _ctx(home, **options)
    plan = Plan(addressed=True, intents=["train"], modality="tabular", architecture=architecture,
                constraints=[Constraint(name="dataset", value=dataset, span=(0, 1), text=dataset)])
    MLFLOW_TIME.clear()
    t, c = time.perf_counter(), time.process_time()
    rep = train_model(resolve(plan, ctx.options), ctx)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if options.get("track", True) is not False:
        LAST_BREAKDOWN.clear()
        LAST_BREAKDOWN.update(MLFLOW_TIME)
    return rep, wall, cpu, sum(MLFLOW_TIME.values()), ctx


def bench_tracking(home: Path, repeats: int) -> None:
    """XGBoost breast_cancer train_model, warm: median wall/CPU; the run holds every round's metric."""
    from tensor_agent.tools.core.plots import wait_for_plots
    from tensor_agent.tools.core.tracking import get_client

    _instrument_mlflow()
    _train(home, "xgboost", "breast_cancer")  # warm-up: imports, store creation
    wait_for_plots()
    walls, cpus, mls, complete = [], [], [], []
    for _ in range(repeats):
        rep, wall, cpu, ml, ctx = _train(home, "xgboost", "breast_cancer")
        walls.append(wall), cpus.append(cpu), mls.append(ml)
        t = time.perf_counter()
        failed = wait_for_plots()
        plot_wait = time.perf_counter() - t
        client = get_client(ctx.settings)
        run = client.get_run(rep.mlflow_run_id)
        hist = {k: len(client.get_metric_history(rep.mlflow_run_id, k)) for k in ("train_loss", "val_loss")}
        plots = [a.path for a in client.list_artifacts(rep.mlflow_run_id, "plots")]
        complete.append(run.info.status == "FINISHED" and set(hist.values()) == {rep.epochs_run}
                        and "plots/curves.png" in plots and not failed)
    row("tracking", f"XGBoost breast_cancer train_model, median of {repeats} warm",
        f"wall {statistics.median(walls):.2f}s, CPU {statistics.median(cpus):.2f}s", "<= 0.6 s (quiet machine)")
    row("tracking", "  of which MLflow calls (median)", f"{statistics.median(mls):.2f}s "
        f"({', '.join(f'{k} {v:.2f}' for k, v in LAST_BREAKDOWN.most_common(3))})")
    row("tracking", f"  run complete: {rep.epochs_run} rounds, history per metric", f"{hist} plots={plots}",
        f"== {rep.epochs_run}, FINISHED, curves.png")
    row("tracking", "  all runs complete (status, every round, curve PNG)", f"{sum(complete)}/{repeats}",
        f"{repeats}/{repeats}")
    row("tracking", "  curve PNG finished after the answer (child process)", f"+{plot_wait:.2f}s", "off the path")


def bench_overhead(home: Path, repeats: int) -> None:
    """Tracking overhead of a ~2 s training: the same fixed number of epochs with and without MLflow.

    A calibration run with a 2 s time budget fixes the epoch count; then tracked and untracked runs of
    exactly that many epochs alternate (the same load on both) and their median walls are compared. The
    MLflow time inside those walls (every client call, timed) is printed next to it.
    """
    from tensor_agent.tools.core.plots import wait_for_plots

    _instrument_mlflow()
    _train(home, "mlp", "breast_cancer", epochs=1)  # warm-up: imports, stores
    _train(home, "mlp", "breast_cancer", track=False, epochs=1)
    cal = _train(home, "mlp", "breast_cancer", track=False, time_budget_s=2.0, epochs=10_000, patience=10_000)[0]
    opts = dict(epochs=max(1, int(cal.epochs_run)), patience=10_000)
    ratios, tracked, untracked, fits = [], [], [], []
    for _ in range(repeats):  # interleaved pairs
        rep, wall, _cpu, ml, _ = _train(home, "mlp", "breast_cancer", **opts)
        ratios.append(ml / wall)
        tracked.append(wall)
        fits.append(rep.wall_s)
        untracked.append(_train(home, "mlp", "breast_cancer", track=False, **opts)[1])
        wait_for_plots()
    over = 100 * (statistics.median(tracked) / statistics.median(untracked) - 1)
    row("overhead", f"MLP breast_cancer, {opts['epochs']} epochs (~{statistics.median(untracked):.1f}s): "
        f"train_model tracked vs track=false (median wall of {repeats} pairs)",
        f"{statistics.median(tracked):.2f}s vs {statistics.median(untracked):.2f}s ({over:+.1f}%)", "<= +10%")
    row("overhead", "  MLflow client time / tracked train_model wall",
        f"{100 * statistics.median(ratios):.1f}% (median of {repeats})")
    row("overhead", "  MLflow calls of the last tracked run",
        ", ".join(f"{k} {v:.2f}" for k, v in LAST_BREAKDOWN.most_common(4)))


def bench_warm(home: Path, repeats: int) -> None:
    """The design answer in a long-running process (TensorAgent reused, as `tensor-agent serve` does)."""
    from tensor_agent.agent import TensorAgent

    agent = TensorAgent(home)
    t = time.perf_counter()
    first = agent.invoke(DESIGN, thread_id="warmup")
    first_s = time.perf_counter() - t
    walls, cpus = [], []
    for i in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        res = agent.invoke(DESIGN, thread_id=f"warm-{i}")
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    ok = getattr(res, "exit_code", 0) == 0 and getattr(first, "exit_code", 0) == 0
    row("warm", f"design answer, first in the process (imports, memory open)", f"wall {first_s:.2f}s")
    row("warm", f"design answer, reused TensorAgent, median of {repeats}",
        f"wall {statistics.median(walls):.2f}s, CPU {statistics.median(cpus):.2f}s" + ("" if ok else " (FAILED)"),
        "<= 1.5 s")
    agent.close()


def bench_cold(repeats: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_answers

    walls, cpus = [], []
    for _ in range(repeats):
        wall, rc, err = bench_answers.run_once(DESIGN, timeout=600)
        walls.append(wall)
        cpus.append(bench_answers.LAST_CPU[0])
        if rc:
            row("cold", "design answer FAILED", f"exit {rc}", err[:60])
    row("cold", f"`tensor-agent ask` design, fresh home, memory on, median of {repeats}",
        f"wall {statistics.median(walls):.2f}s, CPU {statistics.median(cpus):.2f}s", "<= 6 s (quiet machine)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=["tracking", "overhead", "warm", "cold"],
                    choices=["tracking", "overhead", "warm", "cold"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--home", help="workspace (default: a temporary directory)")
    args = ap.parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="bench-perf-"))
    os.environ["TENSOR_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    print(f"issue 17 perf benchmark: {os.cpu_count()} CPUs, workspace {home}")
    print(f"  {'section':<9} {'what':<60} {'measured':<34} target")
    for name in args.only:
        before = load()
        t = time.perf_counter()
        if name == "cold":
            bench_cold(args.repeats)
        else:
            {"tracking": bench_tracking, "overhead": bench_overhead, "warm": bench_warm}[name](home, args.repeats)
        row(name, f"  load average (1 min) before / after, section {time.perf_counter() - t:.0f}s",
            f"{before} / {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
