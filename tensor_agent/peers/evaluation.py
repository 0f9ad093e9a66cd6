"""@ECLIPSE's measurements on the current model's test split: per-class precision/recall/F1, the
confusion matrix (numbers and a PNG under the workspace artifacts) and bootstrap confidence intervals.

The model comes from the turn's context (a `ModelHandle` given as `context["model"]`, a ToolContext's
`current_model()`, or the saved model the train_model result / thread artifacts name, loaded through
`tensor_agent.tools.core.model_store`); the data through `tensor_agent.tools.core.datasets.load_dataset`
with the seed the model was trained with, so the test split is the one the trainer held out. torch,
numpy and matplotlib load late.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

from tensor_agent.peers.common import model_ref, result
from tensor_agent.schema import Plan

BOOTSTRAP = 1000
CLASSIFY = ("classification", "node_classification")


def find_model(context: Mapping[str, Any]) -> Any:
    """The current model of the turn (a ModelHandle), or None when there is none."""
    model = context.get("model")
    if model is not None and hasattr(model, "module"):
        return model
    tctx = context.get("tool_context")
    if tctx is not None and hasattr(tctx, "current_model"):
        handle = tctx.current_model()
        if handle is not None:
            return handle
    for path in (result(context, "train_model").get("model_path"), model_ref(context).get("path")):
        if path and Path(str(path)).exists():
            from tensor_agent.tools.core.model_store import load_model

            return load_model(path)
    return None


def _load_test(handle: Any, plan: Plan) -> Any:
    """The dataset the model was trained on, split with the trainer's seed."""
    from tensor_agent.catalogue import DATASETS
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.core.datasets import load_dataset

    extra = handle.extra or {}
    info = extra.get("dataset_info") or {}
    ref = handle.dataset
    opts: dict = {}
    if ref not in DATASETS:
        ref = (plan.data.data_path if plan.data and plan.data.data_path else None) or info.get("source") or ref
        if plan.data and plan.data.target_column:
            opts["target_column"] = plan.data.target_column
        if plan.data and plan.data.text_column:
            opts["text_column"] = plan.data.text_column
        if info.get("modality"):
            opts["modality"] = info["modality"]
    if not ref:
        raise UnsatisfiableError("the current model does not say which data it was trained on",
                                 hint="train it with train_model, or pass data_path=<file>")
    return load_dataset(str(ref), seed=int(extra.get("seed") or info.get("seed") or 0), **opts)


def predictions(handle: Any, data: Any) -> tuple[Any, Any]:
    """(y_true, y_pred) numpy arrays of `handle` on `data`'s test split."""
    import numpy as np

    if handle.kind in ("xgboost", "sklearn"):
        X, y = (t.numpy() for t in data.test.tensors)
        pred = np.asarray(handle.module.predict(X.reshape(len(X), -1)))
        return y, pred.reshape(len(y)).astype(np.int64)
    import torch

    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import _split_tensors
    from tensor_agent.tools.core.runtime import first_output

    model = handle.module
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            if data.modality == "graph":
                g, mask = data.meta["graph"], data.test
                out = first_output(model(g.x, g.edge_index))[mask]            # (M, C)
                return g.y[mask].numpy(), out.argmax(-1).numpy()
            *xs, y = _split_tensors(data.test, model, TrainConfig())
            preds = [first_output(model(*(x[i:i + 512] for x in xs))).argmax(-1) for i in range(0, len(y), 512)]
            return y.numpy(), torch.cat(preds).numpy()                         # (N,), (N,)
    finally:
        model.train(was)


def classification_metrics(y_true: Any, y_pred: Any, labels: list[int]) -> dict:
    """Per-class precision/recall/F1/support, the confusion matrix (rows: true, columns: predicted),
    accuracy and macro / weighted averages (zero where a class is never predicted, as scikit-learn does)."""
    import numpy as np

    k = len(labels)
    lut = {c: i for i, c in enumerate(labels)}
    t = np.fromiter((lut[int(v)] for v in y_true), dtype=np.int64, count=len(y_true))
    p = np.fromiter((lut[int(v)] for v in y_pred), dtype=np.int64, count=len(y_pred))
    return _from_confusion(np.bincount(t * k + p, minlength=k * k).reshape(k, k), labels)


def _from_confusion(cm: Any, labels: list[int]) -> dict:
    import numpy as np

    k = len(labels)
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(1).astype(float), cm.sum(0).astype(float)
    prec = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    rec = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(k), where=(prec + rec) > 0)
    w = support / max(1.0, support.sum())
    return {"accuracy": float(tp.sum() / max(1.0, cm.sum())), "confusion_matrix": cm.tolist(),
            "per_class": {str(c): {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]),
                                   "support": int(support[i])} for i, c in enumerate(labels)},
            "macro_avg": {"precision": float(prec.mean()), "recall": float(rec.mean()), "f1": float(f1.mean())},
            "weighted_avg": {"precision": float((prec * w).sum()), "recall": float((rec * w).sum()),
                             "f1": float((f1 * w).sum())}}


def bootstrap_ci(y_true: Any, y_pred: Any, labels: list[int], *, resamples: int = BOOTSTRAP, seed: int = 0,
                 level: float = 0.95) -> dict:
    """Percentile bootstrap intervals of accuracy and macro-F1 (test examples resampled with replacement)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n, k = len(y_true), len(labels)
    lut = {c: i for i, c in enumerate(labels)}
    cell = np.array([lut[int(t)] * k + lut[int(p)] for t, p in zip(y_true, y_pred)], dtype=np.int64)  # (N,)
    acc, mf1 = np.empty(resamples), np.empty(resamples)
    for b in range(resamples):
        cm = np.bincount(cell[rng.integers(0, n, n)], minlength=k * k).reshape(k, k)
        m = _from_confusion(cm, labels)
        acc[b], mf1[b] = m["accuracy"], m["macro_avg"]["f1"]
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {"level": level, "resamples": resamples, "seed": seed,
            "accuracy": [float(np.percentile(acc, lo)), float(np.percentile(acc, hi))],
            "macro_f1": [float(np.percentile(mf1, lo)), float(np.percentile(mf1, hi))]}


def confusion_png(cm: list[list[int]], names: list[str], path: Path, title: str) -> str:
    """The confusion matrix as a PNG (counts in the cells); returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    arr = np.asarray(cm)
    size = max(4.0, 0.45 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(arr, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(arr.shape[0]):
        for j in range(arr.shape[1]):
            ax.text(j, i, str(arr[i, j]), ha="center", va="center",
                    color="white" if arr[i, j] > arr.max() / 2 else "black", fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)


def artifacts_dir(context: Mapping[str, Any]) -> Path:
    """The workspace's artifacts folder (the context's workspace, else TENSOR_HOME)."""
    from tensor_agent.config import Settings

    settings = context.get("settings")
    if settings is None:
        settings = Settings.from_env(home=context["workspace"]) if context.get("workspace") else Settings.from_env()
    return settings.artifacts_dir


def evaluate_current_model(plan: Plan, context: Mapping[str, Any], handle: Any) -> Optional[dict]:
    """Everything @ECLIPSE measures on `handle`'s test split (None for models that are not classifiers)."""
    import numpy as np

    if handle.task not in CLASSIFY:
        return None
    data = _load_test(handle, plan)
    y_true, y_pred = predictions(handle, data)
    k = handle.num_classes or data.num_classes or int(max(y_true.max(), y_pred.max()) + 1)
    labels = list(range(int(k)))
    metrics = classification_metrics(y_true, y_pred, labels)
    names = [str(c) for c in (data.meta.get("classes") or (handle.extra or {}).get("classes") or labels)][:len(labels)]
    names += [str(i) for i in range(len(names), len(labels))]
    stamp = f"{handle.family}-{data.name}".replace("/", "_")
    png = confusion_png(metrics["confusion_matrix"], names, artifacts_dir(context) / f"confusion-{stamp}.png",
                        f"{handle.family} on {data.name}: test confusion matrix")
    return {"model": {"family": handle.family, "path": handle.path, "dataset": data.name, "seed": data.seed},
            "n_test": int(len(y_true)), "sizes": dict(data.sizes), "labels": labels, "class_names": names, **metrics,
            "bootstrap": bootstrap_ci(np.asarray(y_true), np.asarray(y_pred), labels), "confusion_png": png}
