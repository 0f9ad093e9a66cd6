"""Seed rows that learn within a short CPU budget (issue 12, point 6): prints each acceptance figure.

    .venv/bin/python evals/bench_seed_rows.py                 # all rows, 180 s budgets
    .venv/bin/python evals/bench_seed_rows.py --rows gnn,design
    .venv/bin/python evals/bench_seed_rows.py --budget 60     # shorter budgets (not the acceptance)

Rows (measured on seeds that were NOT used for tuning: tuning used data seed 0 for the sequence and
diffusion rows and KarateClub splits 0-2; this script uses --seed 7 and splits 3-5):
  recall     long_recall: 512 tokens (shape [512]); each of the 8 value tokens once, one marker just before
             one of them, a single filler token everywhere else, all shuffled: every row has the SAME token
             counts, so a bag-of-tokens logistic regression stays at chance (12.5%); the label is the value
             that follows the marker, which sits anywhere in the sequence (no fixed positions), so only the
             order across the whole length tells. The Mamba family (create_model('mamba', variant=
             'mamba-nano'), the fused selective scan of tools/core/zoo/families/scan.py) is trained through
             the project's `fit` with a wall-clock budget; train_s includes the final validation and test
             passes; val_acc_by_epoch traces (seconds, validation accuracy) per epoch. Target >= 90% test
             accuracy in <= 180 s (measured 2026-12-01, seed 7, 1 thread, load 1.6 -> 4.3: 99.75% test,
             177.9 s with the final evaluation, bag-of-tokens 13.25%).
  diffusion  DDPM on digits_images for --budget seconds, 64 DDIM samples classified by a digits CNN
             trained here by the project (create_model('cnn') + fit); target >= 60% with confidence >= 0.8.
  gnn        GraphSAGE (and GCN for reference) on KarateClub, 3 splits; target mean >= 0.70.
  design     '@TENSOR design a Mamba model for 16k-step sensor sequences': the designed input length.
Each figure is printed with the 1-minute load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _say(row: str, **fig) -> None:
    print(json.dumps({"row": row, **fig}), flush=True)


def bag_of_tokens_accuracy(data) -> float:
    """Logistic regression on per-row token counts (order thrown away), accuracy on the test split."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    vocab = int(data.input_spec["vocab_size"])
    counts = lambda x: np.stack([np.bincount(r, minlength=vocab) for r in x.numpy()]).astype(float)
    xtr, ytr = data.train.tensors
    xte, yte = data.test.tensors
    clf = LogisticRegression(max_iter=2000).fit(counts(xtr), ytr.numpy())
    return float((clf.predict(counts(xte)) == yte.numpy()).mean())


def recall_config(budget: float, seed: int):
    """The training settings of the sequence seed row (AdamW, constant lr 1e-2, clipped, time-boxed).

    `budget` is the whole row's time: training stops RECALL_EVAL_RESERVE_S earlier so that the final
    validation and test passes fit inside it. One torch thread: on the shared 2-core machines the tiny
    model's ops are too small to split, and a second thread only waits on the other jobs (one epoch took
    over 5 minutes with 2 threads at load 8, 58 s with 1). Tuned on data seed 0 (lr 5e-3: 100% after
    3 epochs; lr 1e-2: 99.8% after 2 epochs, ~500 steps)."""
    from tensor_agent.tools.core.engine.config import TrainConfig

    return TrainConfig(optimizer="adamw", lr=1e-2, weight_decay=0.01, schedule="constant", epochs=200,
                       batch_size=16, grad_clip=1.0, monitor="val_accuracy", seed=seed, num_threads=1,
                       time_budget_s=max(1.0, budget - RECALL_EVAL_RESERVE_S))


#: seconds of the recall row's budget kept for the final validation and test passes
RECALL_EVAL_RESERVE_S = 10.0


def row_recall(budget: float, seed: int, variant: str = "mamba-nano") -> dict:
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.zoo.registry import create_model

    data = load_dataset("long_recall", seed=seed)
    base = bag_of_tokens_accuracy(data)
    handle = create_model("mamba", variant=variant, input_spec=data.input_spec, num_classes=data.num_classes,
                          task="classification")
    l0, t0 = _load(), time.perf_counter()
    trace = []  # (seconds since the start, validation accuracy) per epoch
    res = fit(handle.module, data, recall_config(budget, seed), on_epoch=lambda rec: trace.append(
        (round(time.perf_counter() - t0, 1), round(float(rec.get("val_accuracy", float("nan"))), 4))))
    return dict(seq_len=data.input_spec["shape"][0], chance=data.meta["chance"], bag_of_tokens_acc=round(base, 4),
                variant=variant, test_acc=round(float(res.test_metrics["accuracy"]), 4), val_acc_by_epoch=trace,
                train_s=round(time.perf_counter() - t0, 1), epochs=res.epochs_run, stopped=res.stopped_reason,
                threads=recall_config(budget, seed).num_threads, load_before=l0, load_after=_load(),
                target="test_acc >= 0.90 in <= 180 s")


def digits_classifier(seed: int = 0):
    """The project's digits CNN (create_model('cnn') + fit on scikit-learn digits in [0, 1])."""
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.zoo.registry import create_model

    data = load_dataset("digits", seed=seed)
    handle = create_model("cnn", input_spec=data.input_spec, num_classes=10, task="classification")
    res = fit(handle.module, data, TrainConfig(optimizer="adam", lr=3e-3, epochs=15, batch_size=64, seed=seed))
    return handle.module.eval(), float(res.test_metrics["accuracy"])


def diffusion_config(budget: float, seed: int):
    from tensor_agent.tools.core.engine.config import TrainConfig

    # batch 64: more optimizer steps per CPU second (the samples use the EMA of the weights, which smooths
    # the constant learning rate); validation every 25 epochs only (it does not steer anything here);
    # `budget` covers the whole train_diffusion call: the final val/test passes get DIFFUSION_EVAL_RESERVE_S
    return TrainConfig(optimizer="adamw", lr=2e-3, weight_decay=0.0, schedule="constant", epochs=10_000,
                       batch_size=64, grad_clip=1.0, time_budget_s=max(1.0, budget - DIFFUSION_EVAL_RESERVE_S),
                       seed=seed, restore_best=False, eval_every=25)


#: seconds of the diffusion row's budget kept for the final validation and test passes (raw and EMA weights)
DIFFUSION_EVAL_RESERVE_S = 5.0


def confident_fraction(classifier, samples, threshold: float = 0.8) -> tuple[float, list[int]]:
    """Share of samples (N, 1, 8, 8) in [-1, 1] the classifier labels with probability >= threshold."""
    import torch

    with torch.no_grad():
        p = torch.softmax(classifier((samples + 1) / 2), -1)  # classifier sees [0, 1] pixels
    conf, label = p.max(-1)
    ok = conf >= threshold
    return float(ok.float().mean()), torch.bincount(label[ok], minlength=10).tolist()


def objective_note(message: str) -> str:
    """The EMA part of the diffusion trainer's message (which weights the samples come from)."""
    return next((part for part in message.split("; ") if part.startswith("weights = EMA")), "")


def row_diffusion(budget: float, seed: int, variant: str = "unet-micro") -> dict:
    import torch

    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.train.generative import make_diffusion_model, sample_diffusion, train_diffusion

    clf, clf_acc = digits_classifier(seed=seed)
    data = load_dataset("digits_images", seed=seed)
    net = make_diffusion_model(data, variant)
    l0, t0 = _load(), time.perf_counter()
    res, net, _ = train_diffusion(data, diffusion_config(budget, seed), model=net)
    train_s = time.perf_counter() - t0
    threads = torch.get_num_threads()  # what training ran with (train_diffusion probes 1 vs 2 on a busy machine)
    net.eval()
    samples = sample_diffusion(net, 64, steps=50, seed=seed + 1)
    frac, per_class = confident_fraction(clf, samples)
    return dict(variant=variant, classifier_test_acc=round(clf_acc, 4), train_s=round(train_s, 1),
                epochs=res.epochs_run, threads=threads, ema=objective_note(res.message),
                confident_share=round(frac, 4), confident_per_class=per_class, load_before=l0, load_after=_load(), target="confident_share >= 0.60 after <= 180 s")


def row_gnn(splits=(3, 4, 5)) -> dict:
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.train.gnn import train_gnn

    out = {"load_before": _load()}
    for fam in ("graphsage", "gcn"):
        accs = [float(train_gnn(fam, load_dataset("karate", seed=s)).test_metrics["accuracy"]) for s in splits]
        out[fam] = [round(a, 4) for a in accs]
        out[f"{fam}_mean"] = round(sum(accs) / len(accs), 4)
    out.update(splits=list(splits), load_after=_load(), target="graphsage_mean >= 0.70")
    return out


def row_design(text: str = "@TENSOR design a Mamba model for 16k-step sensor sequences") -> dict:
    """The designed input length for a stated sequence length (cold CLI process, throwaway workspace)."""
    exe = Path(sys.executable).with_name("tensor-agent")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TENSOR_HOME": home}
        proc = subprocess.run([str(exe), "ask", text, "--json"], capture_output=True, text=True, env=env,
                              timeout=600)
    payload = json.loads(proc.stdout)
    design = payload.get("design") or payload.get("result") or payload
    spec = _find_key(design, "input_spec") or {}
    stated = [c.get("value") for c in (payload.get("plan") or {}).get("constraints", [])
              if c.get("name") == "sequence_length"]
    return dict(text=text, stated_sequence_length=stated[0] if stated else None, family=_find_key(design, "family"),
                designed_shape=spec.get("shape"), exit_code=proc.returncode, target="designed length = stated, not 256")


def _find_key(obj, key):
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            found = _find_key(v, key)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="design,gnn,recall,diffusion")
    ap.add_argument("--budget", type=float, default=180.0, help="training seconds for recall and diffusion")
    ap.add_argument("--seed", type=int, default=7, help="data/init seed (tuning used 0)")
    args = ap.parse_args(argv)
    rows = {"recall": lambda: row_recall(args.budget, args.seed),
            "diffusion": lambda: row_diffusion(args.budget, args.seed),
            "gnn": row_gnn, "design": row_design}
    for name in args.rows.split(","):
        _say(name, **rows[name.strip()]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
