"""Trainer acceptance benchmark: prints one table of measured figures.

    .venv/bin/python evals/bench_train.py                 # everything (~10-20 min on 2 busy cores)
    .venv/bin/python evals/bench_train.py --only digits overhead
    sections: digits tabular graph text schedules overhead generative mlflow badinput

Everything runs offline in a temporary workspace (TENSOR_HOME) unless --home is given.
"""

from __future__ import annotations

import argparse
import math
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

ROWS: list[tuple[str, str, str, str]] = []


def row(section: str, what: str, value: str, target: str = "") -> None:
    ROWS.append((section, what, value, target))
    print(f"  {section:<11} {what:<58} {value:<28} {target}", flush=True)


def _ctx(home: Path, **options):
    from tensor_agent.config import Settings
    from tensor_agent.tools.core.context import ToolContext

    return ToolContext(settings=Settings.from_env(home=str(home)), thread_id=f"bench-{time.time_ns()}",
                       progress=False, options=options)


def _plan(modality=None, architecture=None, **constraints):
    from tensor_agent.schema import Constraint, Plan

    cs = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in constraints.items()]
    return Plan(addressed=True, intents=["train"], modality=modality, architecture=architecture, constraints=cs)


def _resolved_train(plan, ctx):
    """train_model on the plan as the graph's parse node resolves it (options -> plan.settings / plan.data)."""
    from tensor_agent.contract import resolve
    from tensor_agent.tools.train import train_model as _train_model

    return _train_model(resolve(plan, ctx.options), ctx)


# ------------------------------------------------------------------------------------------------ sections
def bench_digits(home: Path, seeds=(0, 1, 2)) -> None:
    """The designer's CNN on digits via train_model (AdamW + cosine, augmentation), per seed."""
    train_model = _resolved_train

    for seed in seeds:
        ctx = _ctx(home, seed=seed, track=False)
        t, c = time.perf_counter(), time.process_time()
        rep = train_model(_plan("image", "cnn", dataset="digits", optimizer="adamw", schedule="cosine"), ctx)
        total, cpu = time.perf_counter() - t, time.process_time() - c
        row("digits", f"designer cnn ({rep.total_params} params), seed {seed}, {rep.epochs_run} ep",
            f"acc {rep.test_metrics['accuracy']:.4f}, fit {rep.wall_s:.1f}s (tool {total:.1f}s, cpu {cpu:.0f}s)",
            ">= 0.985 in <= 60 s")


def bench_tabular(home: Path) -> None:
    train_model = _resolved_train

    for seed in (0, 1, 2):
        rep = train_model(_plan("tabular", "xgboost", dataset="breast_cancer"), _ctx(home, seed=seed, track=False))
        row("tabular", f"breast_cancer XGBoost seed {seed} (best round {rep.best_epoch})",
            f"acc {rep.test_metrics['accuracy']:.4f}, {rep.wall_s:.2f}s", ">= 0.955")
    rep = train_model(_plan("tabular", "mlp", dataset="breast_cancer"), _ctx(home, track=False))
    row("tabular", f"breast_cancer MLP ({rep.epochs_run} ep, {rep.stopped_reason})",
        f"acc {rep.test_metrics['accuracy']:.4f}, {rep.wall_s:.1f}s", "trains + reports")


def bench_graph(home: Path) -> None:
    train_model = _resolved_train

    for fam in ("gcn", "gat", "graphsage"):
        accs = []
        for seed in (0, 1, 2):
            rep = train_model(_plan("graph", fam, dataset="karate"), _ctx(home, seed=seed, track=False))
            accs.append(rep.test_metrics["accuracy"])
        row("graph", f"KarateClub {fam}: acc on {rep.dataset_info['sizes']['test']} unlabelled nodes (3 seeds)",
            " / ".join(f"{a:.3f}" for a in accs), "trains + reports")


def bench_text(home: Path, epochs: int = 4) -> None:
    from tensor_agent.tools.train import TrainConfig, load_dataset
    from tensor_agent.tools.train.transfer import TEXT_LR, train_text

    data = load_dataset("text")
    accs = {}
    for strategy in ("feature_extraction", "lora", "adapter", "full_fine_tune"):
        ep = 40 if strategy == "feature_extraction" else epochs
        cfg = TrainConfig(strategy=strategy, lr=TEXT_LR[strategy], epochs=ep, batch_size=16, weight_decay=0.01,
                          schedule="cosine", warmup_epochs=0 if strategy == "feature_extraction" else 1)
        res, _, _ = train_text(data, cfg)
        accs[strategy] = res.test_metrics["accuracy"]
        row("text", f"MiniLM {strategy} ({ep} ep, {res.trainable_params / res.total_params:.3%} params trained)",
            f"acc {accs[strategy]:.4f}, {res.wall_s:.0f}s",
            "<= 1% params" if strategy in ("lora", "adapter") else "runs")
    gap = (accs["full_fine_tune"] - accs["lora"]) * 100
    row("text", "LoRA vs full fine-tune (points)", f"{gap:+.2f}", "<= 1.0 behind")


def bench_schedules(home: Path) -> None:
    from tensor_agent.tools.train import OPTIMIZERS, SCHEDULES, TrainConfig, fit, load_dataset
    from tensor_agent.tools.core.engine.optim import closed_form_lr
    import torch

    data = load_dataset("iris")
    worst, ok = 0.0, 0
    for opt in OPTIMIZERS:
        for sch in SCHEDULES:
            for warm in (0, 2):
                torch.manual_seed(0)
                m = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
                cfg = TrainConfig(optimizer=opt, schedule=sch, lr=0.05, epochs=12, warmup_epochs=warm, t0=3,
                                  step_size=3, gamma=0.7)
                res = fit(m, data, cfg)
                err = max(abs(a - closed_form_lr(cfg, e)) / cfg.lr for e, a in enumerate(res.lr_curve))
                worst = max(worst, err)
                ok += res.stopped_reason == "completed" and math.isfinite(res.test_metrics["loss"])
    row("schedules", f"{len(OPTIMIZERS)} optimizers x {len(SCHEDULES)} schedules x warm-up {{0,2}} ran",
        f"{ok}/{len(OPTIMIZERS) * len(SCHEDULES) * 2}", "all")
    row("schedules", "max |logged lr - closed form| / lr", f"{worst:.1e}", "~0")


def _plain_loop(model, data, cfg) -> tuple[float, float]:
    """A hand-written PyTorch loop doing the same work as `fit` (same parameter groups, shuffling, per-epoch
    validation, final test evaluation). Returns (wall seconds, last epoch's mean train loss)."""
    import torch
    import torch.nn.functional as F

    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    x, y = data.train.tensors
    xv, yv = data.val.tensors
    xt, yt = data.test.tensors
    n = len(y)
    mean = float("nan")
    for _ in range(cfg.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        tot = torch.zeros(())
        for i in range(0, n, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += loss.detach() * len(idx)
        mean = float(tot) / n
        model.eval()
        with torch.no_grad():
            F.cross_entropy(model(xv), yv)
        sched.step()
    with torch.no_grad():
        F.cross_entropy(model(xv), yv), F.cross_entropy(model(xt), yt)
    return time.perf_counter() - t0, mean


def bench_overhead(home: Path, repeats: int = 7) -> None:
    import torch

    from tensor_agent.tools.train import TrainConfig, fit, load_dataset
    from tensor_agent.tools.core.engine.loop import set_threads

    set_threads()
    data = load_dataset("digits")

    def model():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                   torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                   torch.nn.Linear(32 * 16, 10))

    cfg = TrainConfig(optimizer="adamw", lr=3e-3, weight_decay=1e-4, schedule="cosine", epochs=30, batch_size=64,
                      seed=0, restore_best=False)
    t_fit, t_plain, diffs = [], [], []
    for _ in range(repeats):  # interleaved so the machine's load hits both alike
        w, l_plain = _plain_loop(model(), data, cfg)
        t_plain.append(w)
        t = time.perf_counter()
        res = fit(model(), data, cfg)
        t_fit.append(time.perf_counter() - t)
        diffs.append(abs(res.history[-1]["train_loss"] - l_plain))
    med_fit, med_plain = statistics.median(t_fit), statistics.median(t_plain)
    row("overhead", f"fit vs plain loop, digits conv net, {cfg.epochs} ep (median of {repeats}, interleaved)",
        f"{med_fit:.2f}s vs {med_plain:.2f}s = {100 * (med_fit / med_plain - 1):+.1f}%", "<= +5%")
    row("overhead", f"min times: fit {min(t_fit):.2f}s, plain {min(t_plain):.2f}s",
        f"{100 * (min(t_fit) / min(t_plain) - 1):+.1f}%", "<= +5%")
    row("overhead", "final-epoch mean train loss |fit - plain| (max over runs)", f"{max(diffs):.1e}", "<= 1e-6")


def bench_generative(home: Path) -> None:
    train_model = _resolved_train

    rep = train_model(_plan("image_generation"), _ctx(home, epochs=30, track=False))
    row("generative", f"diffusion on digits ({rep.total_params} params, {rep.epochs_run} ep)",
        f"noise MSE {rep.test_metrics['loss']:.3f}, {rep.wall_s:.0f}s", "sample grid PNG")
    row("generative", "  sample grid", str(rep.sample_png), "exists" if rep.sample_png and Path(rep.sample_png).exists()
        else "MISSING")
    rep = train_model(_plan("text_generation"), _ctx(home, epochs=3, track=False))
    row("generative", f"char LM on tiny_corpus ({rep.family}, {rep.total_params} params, {rep.epochs_run} ep)",
        f"test ppl {rep.test_metrics['perplexity']:.2f}, {rep.wall_s:.0f}s",
        f"vocab {rep.dataset_info['input_spec']['vocab_size']}")
    row("generative", "  sample", repr((rep.sample_text or "")[:70]), "sample text")


def bench_mlflow(home: Path) -> None:
    train_model = _resolved_train
    from tensor_agent.tools.core.tracking import get_client

    ctx = _ctx(home, epochs=3)
    rep = train_model(_plan("image", "cnn", dataset="digits"), ctx)
    client = get_client(ctx.settings)
    run = client.get_run(rep.mlflow_run_id)
    arts = sorted(a.path for a in client.list_artifacts(rep.mlflow_run_id))
    row("mlflow", f"run {rep.mlflow_run_id[:8]} status", run.info.status, "FINISHED")
    row("mlflow", "metrics / per-epoch val_loss points",
        f"{len(run.data.metrics)} / {len(client.get_metric_history(rep.mlflow_run_id, 'val_loss'))}", "> 0")
    row("mlflow", "artifacts", ", ".join(arts), "plots, model")
    ctx.session.clear()
    h = ctx.current_model()
    row("mlflow", "current model found again from the thread's artifacts", f"{h.family} @ {Path(h.path).name}",
        "found")


def bench_badinput(home: Path) -> None:
    from tensor_agent.errors import TensorError
    train_model = _resolved_train

    tmp = Path(tempfile.mkdtemp())
    good = tmp / "d.csv"
    good.write_text("a,b,y\n" + "\n".join(f"{i},{i * 2},{i % 2}" for i in range(40)))
    one = tmp / "one.csv"
    one.write_text("a,y\n" + "\n".join(f"{i},1" for i in range(40)))
    nan = tmp / "nan.csv"
    nan.write_text("a,b,y\n" + "\n".join(f"{i},{'' if i == 7 else i},{i % 2}" for i in range(40)))
    cases = {
        "missing file": dict(data_path=str(tmp / "missing.csv"), target_column="y"),
        "wrong target column": dict(data_path=str(good), target_column="label"),
        "one-class data": dict(data_path=str(one), target_column="y"),
        "NaN values": dict(data_path=str(nan), target_column="y"),
        "diverging lr 1e3": dict(dataset="breast_cancer", learning_rate=1e3, optimizer="sgd", epochs=3),
    }
    for what, opts in cases.items():
        ws = Path(tempfile.mkdtemp())
        ctx = _ctx(ws, **opts)
        try:
            train_model(_plan("tabular", "mlp"), ctx)
            msg = "NO ERROR"
        except TensorError as exc:
            msg = str(exc)
        stored = list((ws / "models").iterdir()) if (ws / "models").exists() else []
        row("badinput", what, f"{'stored!' if stored else 'nothing stored'}", "")
        print(f"      -> {msg[:160]}")
    # mismatched shapes: a current model whose input does not fit is replaced, not force-fed
    import torch

    from tensor_agent.tools.core.context import ModelHandle

    ctx = _ctx(Path(tempfile.mkdtemp()), epochs=2, track=False)
    ctx.set_model(ModelHandle(module=torch.nn.Linear(3, 2), family="mlp", input_spec={"kind": "tabular",
                                                                                     "shape": [3]}, num_classes=2))
    rep = train_model(_plan(architecture="mlp", dataset="breast_cancer"), ctx)
    row("badinput", "mismatched shapes (current model takes 3 features, data 30)",
        "new model designed" if any("does not fit" in n for n in rep.notes) else "NOT DETECTED", "")


SECTIONS = {"digits": bench_digits, "tabular": bench_tabular, "graph": bench_graph, "text": bench_text,
            "schedules": bench_schedules, "overhead": bench_overhead, "generative": bench_generative,
            "mlflow": bench_mlflow, "badinput": bench_badinput}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", choices=list(SECTIONS), help="sections to run (default: all)")
    ap.add_argument("--home", help="workspace directory (default: a temporary one)")
    args = ap.parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="bench-train-"))
    os.environ["TENSOR_HOME"] = str(home)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"bench_train: {os.cpu_count()} cores, load average {load:.1f}, workspace {home}")
    for name in args.only or list(SECTIONS):
        t = time.perf_counter()
        try:
            SECTIONS[name](home)
        except Exception as exc:  # noqa: BLE001 - report and go on with the other sections
            row(name, "FAILED", f"{type(exc).__name__}: {str(exc)[:120]}", "")
        print(f"  ({name}: {time.perf_counter() - t:.0f}s)", flush=True)
    print("\n| section | measurement | value | target |\n|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(x.replace("|", "/") for x in r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
