"""Benchmark of the data-size estimator and the peers.

1. Learning-curve extrapolation back-test: for each dataset, fit the power law on the
   smaller subsets only (up to ~40% of the training set) and predict the accuracy of a
   model trained on the full training set; compare with the measured accuracy.
2. The full curve: fitted a, b, c, R² and samples needed for a few targets, wall time.
3. Peers: median latency of each stand-in reply (they are rules, so this should be ~ms).

Run:  .venv/bin/python evals/bench_data_size.py [--datasets digits,breast_cancer,wine,text]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time


def backtest(name: str, ctx) -> dict:
    import numpy as np
    from sklearn.base import clone

    from tensor_agent.tools.estimate.curve import (
        _load_arrays, _sklearn_model, _subsample, fit_power_law, measure_learning_curve,
    )

    t0 = time.perf_counter()
    Xtr, ytr, Xev, yev, task, _ = _load_arrays(name, ctx, None)
    is_text = Xtr.ndim == 1
    model, model_name = _sklearn_model(task, 0 if is_text else Xtr.shape[1], text=is_text)
    k = len(np.unique(ytr))
    n_max = len(ytr)
    small = sorted(set(np.geomspace(max(5 * k, 20), int(n_max * 0.4), 5).astype(int).tolist()))
    errs = []
    for n in small:
        e = []
        for r in range(3):
            idx = _subsample(ytr, n, seed=1000 * r + n, classification=True)
            m = clone(model).fit(Xtr[idx], ytr[idx])
            e.append(1 - float((m.predict(Xev) == yev).mean()))
        errs.append(float(np.mean(e)))
    fit = fit_power_law(small, errs)
    predicted = 1 - (fit.a * n_max ** -fit.b + fit.c)
    full = clone(model).fit(Xtr, ytr)
    measured = float((full.predict(Xev) == yev).mean())
    curve = measure_learning_curve(name, ctx, targets=[0.9, 0.95, 0.97, 0.99])
    return dict(dataset=name, model=model_name, n_fit_max=small[-1], n_full=n_max, predicted=predicted,
                measured=measured, abs_err_points=abs(predicted - measured) * 100,
                fit=curve.fit, extrap=curve.extrapolations, wall_s=time.perf_counter() - t0, plot=curve.plot)


def bench_peers(repeats: int = 50) -> dict:
    from tensor_agent.peers import get_peer
    from tensor_agent.schema import Constraint, Plan

    plans = [
        Plan(addressed=True, intents=["evaluate"], modality="tabular", text="@tensor how to validate my churn model",
             constraints=[Constraint(name="dataset_size", value=3000, span=(0, 1), text="3000")]),
        Plan(addressed=True, intents=["fine_tune"], modality="text", architecture="bert",
             text="@tensor fine-tune BERT with LoRA"),
        Plan(addressed=True, intents=["compress"], text="@tensor optimize for mobile under 10 ms",
             constraints=[Constraint(name="device", value="mobile", span=(0, 1), text="mobile")]),
    ]
    out = {}
    for peer in ("AXIOM", "ECLIPSE", "PRISM", "VELOCITY"):
        fn = get_peer(peer)
        fn(plans[0], {})  # warm
        times = []
        for _ in range(repeats):
            for p in plans:
                t = time.perf_counter()
                fn(p, {})
                times.append((time.perf_counter() - t) * 1000)
        out[peer] = (statistics.median(times), max(times))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="digits,breast_cancer,wine,text")
    args = ap.parse_args()

    from tensor_agent.config import Settings
    from tensor_agent.tools.core.context import ToolContext

    ctx = ToolContext(settings=Settings.from_env(home=tempfile.mkdtemp(prefix="bench-ds-")), progress=False)
    print("Learning-curve back-test: fit on subsets up to 40% of train, predict the full-train accuracy")
    head = f"{'dataset':<14} {'model':<44} {'fit≤n':>6} {'full n':>7} {'predicted':>9} {'measured':>9} {'|err| pts':>9}"
    print(head)
    print("-" * len(head))
    rows = [backtest(name, ctx) for name in args.datasets.split(",") if name]
    for r in rows:
        print(f"{r['dataset']:<14} {r['model']:<44} {r['n_fit_max']:>6} {r['n_full']:>7} {r['predicted']:>9.4f} "
              f"{r['measured']:>9.4f} {r['abs_err_points']:>9.2f}")
    print(f"mean |error| of the extrapolated accuracy: {statistics.mean(r['abs_err_points'] for r in rows):.2f} points")
    print()
    print("Full curves (5 sizes x 3 repeats): err(n) = a n^-b + c and samples needed")
    for r in rows:
        f = r["fit"]
        needs = ", ".join(f"{e.target:g}: {e.samples:,}" if e.reachable else f"{e.target:g}: not reachable"
                          for e in r["extrap"])
        print(f"{r['dataset']:<14} a={f.a:.3g} b={f.b:.3f} c={f.c:.4f} R²={f.r2:.3f}  [{needs}]  "
              f"({r['wall_s']:.1f} s incl. back-test)")
    print()
    print("Peer stand-ins: reply latency over 150 calls each (ms)")
    for peer, (med, mx) in bench_peers().items():
        print(f"{peer:<9} median {med:7.3f}  max {mx:7.3f}")


if __name__ == "__main__":
    main()
