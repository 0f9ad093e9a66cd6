"""Measured learning curves: train on growing subsets, fit ``err(n) = a n^-b + c``, extrapolate, plot.

Used by the data-size estimator (``tensor_agent.tools.estimate.tool``) when a dataset is given.
Array data (tabular, small images) and raw text use fast scikit-learn models (standardised
logistic/ridge regression, TF-IDF + logistic regression); other tensor data, or
``curve_model="torch"``, use the project's designer (``design_for``) and trainer (``fit``).
Heavy modules (numpy, scipy, sklearn, matplotlib, torch) load inside the functions.
"""

from __future__ import annotations

import math
import re
import time
import uuid
import warnings
from typing import Optional

from pydantic import BaseModel, Field

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.schema import Plan
from tensor_agent.tools.core.context import ToolContext

__all__ = ["CurvePoint", "Extrapolation", "LearningCurve", "PowerLawFit", "fit_power_law", "measure_learning_curve",
           "samples_for"]


class CurvePoint(BaseModel):
    """One measured point of the learning curve."""

    n: int = Field(description="Training examples used.")
    error_mean: float = Field(description="Held-out error (1 - accuracy, or 1 - R²) averaged over repeats.")
    error_std: float = Field(description="Standard deviation over repeats.")
    metric_mean: float = Field(description="Held-out metric (accuracy or R²) averaged over repeats.")
    repeats: int = Field(description="Subsamples trained at this size.")


class PowerLawFit(BaseModel):
    """err(n) = a * n^-b + c."""

    a: float = Field(description="Scale.")
    b: float = Field(description="Exponent (> 0: more data helps).")
    c: float = Field(description="Asymptotic error (irreducible with this model).")
    r2: float = Field(description="R² of the fit on the measured points.")
    method: str = Field(description="curve_fit (3 parameters) or loglog (c = 0).")


class Extrapolation(BaseModel):
    """Samples needed for one target."""

    target: float = Field(description="Target metric (accuracy, fraction).")
    samples: Optional[int] = Field(default=None, description="Training examples needed (None: not reachable).")
    reachable: bool = Field(description="False when the fitted asymptote is above the target error.")
    note: str = Field(default="", description="Readable verdict.")


class LearningCurve(BaseModel):
    """A measured learning curve and what it extrapolates to."""

    dataset: str = Field(description="Dataset name or path.")
    model: str = Field(description="Model trained at each size.")
    metric: str = Field(description="accuracy or r2.")
    eval_examples: int = Field(description="Held-out examples every point is scored on.")
    available_train: int = Field(description="Training examples available in the dataset.")
    points: list[CurvePoint] = Field(default_factory=list)
    fit: Optional[PowerLawFit] = Field(default=None)
    extrapolations: list[Extrapolation] = Field(default_factory=list)
    plot: Optional[str] = Field(default=None, description="PNG of the curve and the fit.")
    mlflow_run_id: Optional[str] = Field(default=None, description="MLflow run the curve was logged to "
                                                                   "(option track_curve=True).")
    notes: list[str] = Field(default_factory=list, description="Caveats (extrapolation range, tracking).")
    wall_s: float = Field(default=0.0, description="Seconds spent measuring.")


def _load_arrays(name: str, ctx: Optional[ToolContext], modality: Optional[str]):
    """(X_train, y_train, X_eval, y_eval, task, bundle) as numpy arrays (eval = val ∪ test)."""
    import numpy as np

    opts = (ctx.options if ctx else {}) or {}
    extra = {k: opts[k] for k in ("text_column", "node_features", "image_size", "seq_len") if opts.get(k)}
    if opts.get("modality"):
        extra["modality"] = opts["modality"]
    from tensor_agent.tools.core.datasets import load_dataset

    bundle = load_dataset(name, seed=0, target_column=opts.get("target_column"), **extra)

    def arrays(split):
        if hasattr(split, "texts") and hasattr(split, "labels"):  # TextSplit: raw sentences for TF-IDF
            return np.asarray(split.texts, dtype=object), np.asarray(split.labels)
        tensors = getattr(split, "tensors", None)
        if tensors is None or len(tensors) < 2:
            return None
        X = tensors[0].numpy().reshape(len(tensors[0]), -1)  # (N, features) flattened
        return X, tensors[-1].numpy()

    tr, va, te = arrays(bundle.train), arrays(bundle.val), arrays(bundle.test)
    if tr is None or te is None:
        return None, None, None, None, bundle.task, bundle
    Xev = np.concatenate([va[0], te[0]]) if va is not None else te[0]
    yev = np.concatenate([va[1], te[1]]) if va is not None else te[1]
    return tr[0], tr[1], Xev, yev, bundle.task, bundle


def _sklearn_model(task: str, n_features: int, text: bool = False):
    """A fast model for the learning curve: logistic/ridge regression on standardised features."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if text and task == "classification":
        from sklearn.feature_extraction.text import TfidfVectorizer

        return (make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=2000)),
                "TF-IDF + logistic regression (scikit-learn)")
    if task == "classification":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=1.0)), "logistic regression (scikit-learn)"
    return make_pipeline(StandardScaler(), Ridge(alpha=1.0)), "ridge regression (scikit-learn)"


def _subsample(y, n: int, seed: int, classification: bool):
    """Indices of a (stratified when possible) subsample of size n, with every class present."""
    import numpy as np

    rng = np.random.default_rng(seed)
    idx = np.arange(len(y))
    if n >= len(y):
        return idx
    if not classification:
        return rng.choice(idx, size=n, replace=False)
    classes, counts = np.unique(y, return_counts=True)
    take = np.maximum(1, np.round(counts / counts.sum() * n).astype(int))
    chosen = [rng.choice(idx[y == c], size=min(t, cnt), replace=False) for c, t, cnt in zip(classes, take, counts, strict=True)]
    out = np.concatenate(chosen)
    if len(out) > n:
        out = rng.choice(out, size=n, replace=False)
    return out


def fit_power_law(ns, errs) -> PowerLawFit:
    """Fit err(n) = a n^-b + c (curve_fit, c in [0, min err]); fall back to a log-log line (c = 0)."""
    import numpy as np

    ns = np.asarray(ns, dtype=float)
    errs = np.asarray(errs, dtype=float)
    floor = max(errs.min(), 0.0)

    def r2(pred):
        ss = ((errs - errs.mean()) ** 2).sum()
        return float(1 - ((errs - pred) ** 2).sum() / ss) if ss > 0 else 1.0

    if errs.max() <= 0:
        return PowerLawFit(a=0.0, b=1.0, c=0.0, r2=1.0, method="zero-error")
    try:
        from scipy.optimize import curve_fit

        def f(n, a, b, c):
            return a * np.power(n, -b) + c

        b0 = 0.5
        a0 = max((errs[0] - floor * 0.5) * ns[0] ** b0, 1e-6)
        with warnings.catch_warnings():  # 3 points for 3 parameters: no covariance, which we do not use
            warnings.simplefilter("ignore")
            (a, b, c), _ = curve_fit(f, ns, errs, p0=[a0, b0, floor * 0.5],
                                     bounds=([0.0, 0.01, 0.0], [np.inf, 3.0, max(floor, 1e-9)]), maxfev=20000)
        if b > 0.01 and a > 0:
            return PowerLawFit(a=float(a), b=float(b), c=float(c), r2=r2(f(ns, a, b, c)), method="curve_fit")
    except Exception:  # scipy missing, no convergence: fall back
        pass
    pos = errs > 0
    slope, intercept = np.polyfit(np.log(ns[pos]), np.log(errs[pos]), 1)
    a, b = float(np.exp(intercept)), float(-slope)
    return PowerLawFit(a=a, b=b, c=0.0, r2=r2(a * ns ** -b), method="loglog")


def samples_for(fit: PowerLawFit, target: float) -> Optional[float]:
    """n with err(n) = 1 - target, or None when the asymptote is at or above that error."""
    err_t = 1.0 - target
    if fit.method == "zero-error":
        return 1.0
    if fit.b <= 0 or err_t <= fit.c or fit.a <= 0:
        return None
    return (fit.a / (err_t - fit.c)) ** (1.0 / fit.b)


def measure_learning_curve(dataset: str, ctx: Optional[ToolContext], *, targets: Optional[list[float]] = None,
                           modality: Optional[str] = None, plan: Optional[Plan] = None) -> LearningCurve:
    """Train on growing subsets of `dataset`, fit a power law and extrapolate to the targets.

    Args:
        dataset: Built-in name or path (see the trainer's ``load_dataset``).
        ctx: Tool context (options ``curve_points``, ``curve_repeats``, ``curve_model``, ``target_column``;
            the PNG goes under ``ctx.settings.artifacts_dir``).
        targets: Target metrics to extrapolate to (default: a ladder above the measured best).
        modality: Hint for the model choice.
        plan: The plan (for the designer's constraints on the torch path).

    Raises:
        InputError: unknown dataset, or a dataset too small for a curve.
    """
    import numpy as np

    opts = (ctx.options if ctx else {}) or {}
    points_n = int(opts.get("curve_points", 5))
    repeats = int(opts.get("curve_repeats", 3))
    if points_n < 3:
        raise InputError(f"curve_points={points_n}: a power law needs at least 3 sizes", hint="use 5")
    t0 = time.perf_counter()
    Xtr, ytr, Xev, yev, task, bundle = _load_arrays(dataset, ctx, modality)
    if task == "node_classification":
        raise UnsatisfiableError(f"'{dataset}' is a graph: learning curves over node labels are not measured yet",
                                 hint="the estimate uses the card's table and the refinements instead")
    if task not in ("classification", "regression"):
        raise UnsatisfiableError(f"learning curves are measured for classification and regression; "
                                 f"'{dataset}' is a {task} dataset",
                                 hint="for generative models, compare the held-out loss of runs on growing corpora")
    mode = str(opts.get("curve_model", "auto")).lower()
    is_text = Xtr is not None and Xtr.ndim == 1
    sequence = getattr(bundle, "modality", None) == "sequence"  # raw token ids: a linear model cannot learn them
    if Xtr is None or mode == "torch" or (mode == "auto" and not is_text and (Xtr.shape[1] > 4096 or sequence)):
        return _torch_curve(dataset, bundle, ctx, targets=targets, plan=plan, points_n=points_n, t0=t0)
    classification = task == "classification"
    k = len(np.unique(ytr)) if classification else 1
    n_max = len(ytr)
    n_min = max(5 * k if classification else 20, 20)
    if n_max < 2 * n_min:
        raise InputError(f"dataset '{dataset}' has only {n_max} training examples: too few for a learning curve",
                         hint=f"a curve needs at least {2 * n_min}")
    sizes = sorted(set(np.unique(np.geomspace(n_min, n_max, points_n).astype(int)).tolist()))
    model, model_name = _sklearn_model(task, 0 if is_text else Xtr.shape[1], text=is_text)
    from sklearn.base import clone

    pts: list[CurvePoint] = []
    iterator = _progress(sizes, ctx, f"learning curve {dataset}")
    for n in iterator:
        errs, mets = [], []
        reps = 1 if n >= n_max else repeats
        for r in range(reps):
            idx = _subsample(ytr, n, seed=1000 * r + n, classification=classification)
            m = clone(model)
            m.fit(Xtr[idx], ytr[idx])
            if classification:
                metric = float((m.predict(Xev) == yev).mean())
            else:
                from sklearn.metrics import r2_score

                metric = float(r2_score(yev, m.predict(Xev)))
            mets.append(metric)
            errs.append(1.0 - metric)
        pts.append(CurvePoint(n=int(n), error_mean=float(np.mean(errs)), error_std=float(np.std(errs)),
                              metric_mean=float(np.mean(mets)), repeats=reps))
    return _finish_curve(dataset, model_name, "accuracy" if classification else "r2", len(yev), n_max, pts,
                         targets, ctx, t0)


def _torch_curve(dataset, bundle, ctx, *, targets, plan, points_n: int, t0: float) -> LearningCurve:
    """Learning curve with the project's designer and trainer (non-array data or curve_model='torch')."""
    import numpy as np

    try:
        from tensor_agent.tools.core.zoo.search import design_for
        from tensor_agent.tools.core.engine.config import TrainConfig
        from tensor_agent.tools.core.engine.loop import fit
    except ImportError as exc:
        raise UnsatisfiableError(f"a learning curve on '{dataset}' needs the designer and trainer ({exc})",
                                 hint="use an array dataset (tabular, digits) or install the full package") from exc
    if bundle is None or not hasattr(bundle.train, "tensors"):
        raise UnsatisfiableError(f"learning curves on {getattr(bundle, 'modality', 'this')} data are not supported yet",
                                 hint="use a tabular or image dataset")
    opts = (ctx.options if ctx else {}) or {}
    y = bundle.train.tensors[-1].numpy()
    classification = bundle.task == "classification"
    k = len(np.unique(y)) if classification else 1
    n_max = len(y)
    n_min = max(5 * k, 20)
    sizes = sorted(set(np.unique(np.geomspace(n_min, n_max, points_n).astype(int)).tolist()))
    epochs = int(opts.get("curve_epochs", 15))
    budget = float(opts.get("time_budget_s") or 300.0)  # seconds for the whole curve
    import copy

    family = opts.get("curve_family") or (plan.architecture if plan else None)
    _, handle = design_for(family, modality=bundle.modality, input_spec=bundle.input_spec,
                           num_classes=bundle.num_classes, task=bundle.task, constraints=None, ctx=None)
    model_name = f"{handle.family} (project trainer, {epochs} epochs)"
    pts: list[CurvePoint] = []
    for n in _progress(sizes, ctx, f"learning curve {dataset}"):
        idx = _subsample(y, n, seed=n, classification=classification)
        sub = _subset_bundle(bundle, idx)
        module = copy.deepcopy(handle.module)  # the same initial weights at every size
        # small subsets get more epochs (≈ sqrt(n_max / n) times) so every size sees a comparable number of steps
        ep = int(min(5 * epochs, math.ceil(epochs * math.sqrt(n_max / n))))
        cfg = TrainConfig(epochs=ep, patience=max(3, ep // 3), seed=0, time_budget_s=budget / len(sizes))
        res = fit(module, sub, cfg, ctx=None)
        tm = getattr(res, "test_metrics", {}) or {}
        metric = float(tm.get("accuracy", tm.get("r2", 0.0)))
        pts.append(CurvePoint(n=int(n), error_mean=1.0 - metric, error_std=0.0, metric_mean=metric, repeats=1))
    return _finish_curve(dataset, model_name, "accuracy" if classification else "r2", int(bundle.sizes.get("test", 0)),
                         n_max, pts, targets, ctx, t0)


def _subset_bundle(bundle, idx):
    """A copy of `bundle` whose train split holds only `idx`."""
    import copy

    import torch

    sub = copy.copy(bundle)
    sub.train = torch.utils.data.TensorDataset(*[t[torch.as_tensor(idx)] for t in bundle.train.tensors])
    sub.sizes = {**bundle.sizes, "train": len(idx)}
    return sub


def _progress(items, ctx, desc):
    if ctx is not None and not ctx.progress:
        return items
    try:
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc, leave=False)
    except ImportError:  # pragma: no cover
        return items


def _finish_curve(dataset, model_name, metric, n_eval, n_max, pts, targets, ctx, t0) -> LearningCurve:
    fit = fit_power_law([p.n for p in pts], [p.error_mean for p in pts]) if len(pts) >= 3 else None
    best = max(p.metric_mean for p in pts)
    if targets is None:
        ladder = [0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995]
        targets = [t for t in ladder if t > best - 0.05][:4] or [min(0.999, best + 0.01)]
    extrap: list[Extrapolation] = []
    for t in targets:
        if fit is None:
            extrap.append(Extrapolation(target=t, reachable=False, note="no fit"))
            continue
        n = samples_for(fit, t)
        if n is None:
            extrap.append(Extrapolation(target=t, reachable=False,
                                        note=f"not reachable with this model: the fitted asymptote is "
                                             f"{1 - fit.c:.4g} {metric}"))
        else:
            n_int = int(math.ceil(n))
            have = "already available" if n_int <= n_max else f"{n_int - n_max:,} more than the {n_max:,} available"
            extrap.append(Extrapolation(target=t, samples=n_int, reachable=True,
                                        note=f"~{n_int:,} training examples ({have})"))
    first = pts[0]
    for e in extrap:
        if e.reachable and e.samples is not None and e.samples < first.n:
            e.note += f"; below the smallest size measured ({first.n:,}, {metric} {first.metric_mean:.3f})"
    if fit is not None and extrap and max((e.samples or 0) for e in extrap) > 20 * n_max:
        curve_note = (f"extrapolating more than 20x beyond the {n_max:,} examples measured: treat the largest "
                      "figures as orders of magnitude")
    else:
        curve_note = None
    notes = [curve_note] if curve_note else []
    if fit is not None and fit.r2 < 0.5:
        notes.append(f"the fit is poor (R² {fit.r2:.2f}): the {metric} barely changes with more data for this model, "
                     "so the extrapolation is unreliable")
    curve = LearningCurve(dataset=str(dataset), model=model_name, metric=metric, eval_examples=int(n_eval),
                          available_train=int(n_max), points=pts, fit=fit, extrapolations=extrap,
                          wall_s=round(time.perf_counter() - t0, 3), notes=notes)
    if ctx is not None:
        curve.plot = _plot(curve, ctx)
        if (ctx.options or {}).get("track_curve"):
            _track(curve, ctx)
    return curve


def _track(curve: LearningCurve, ctx: ToolContext) -> None:
    """Log the curve to MLflow (one run: params, the metric per size as steps, the fit, the PNG)."""
    from tensor_agent.errors import BackendUnavailable

    try:
        from tensor_agent.tools.core.tracking import mlflow_run
    except ImportError:
        curve.notes.append("MLflow tracking is not available: the curve was not logged")
        return
    try:
        with mlflow_run(ctx, f"learning_curve:{curve.dataset}", tags={"tensor.tool": "estimate_data"}) as run:
            run.log_params({"dataset": curve.dataset, "model": curve.model, "metric": curve.metric,
                            "points": len(curve.points), "available_train": curve.available_train})
            for p in curve.points:
                run.log_metrics({curve.metric: p.metric_mean, "error": p.error_mean, "error_std": p.error_std},
                                step=p.n)
            if curve.fit:
                run.log_metrics({"fit_a": curve.fit.a, "fit_b": curve.fit.b, "fit_c": curve.fit.c,
                                 "fit_r2": curve.fit.r2})
            for e in curve.extrapolations:
                if e.samples:
                    run.log_metrics({f"samples_for_{e.target:g}": e.samples})
            if curve.plot:
                run.log_artifact(curve.plot, "plots")
            curve.mlflow_run_id = run.run_id
    except BackendUnavailable as exc:
        curve.notes.append(f"not logged to MLflow: {exc}")


def _plot(curve: LearningCurve, ctx: ToolContext) -> Optional[str]:
    """PNG: measured metric vs n (log x), the fitted power law extended to the extrapolations, targets."""
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return None
    ns = np.array([p.n for p in curve.points], dtype=float)
    met = np.array([p.metric_mean for p in curve.points])
    sd = np.array([p.error_std for p in curve.points])
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    ax.errorbar(ns, met, yerr=sd, fmt="o", color="C0", capsize=3, label="measured (mean ± sd)")
    reach = [e.samples for e in curve.extrapolations if e.reachable and e.samples]
    n_hi = max([ns.max() * 1.5] + [min(r, ns.max() * 1e4) for r in reach])
    if curve.fit:
        grid = np.geomspace(ns.min(), n_hi, 200)
        fitted = 1 - (curve.fit.a * grid ** -curve.fit.b + curve.fit.c)
        ax.plot(grid, fitted, "-", color="C1",
                label=f"fit: err = {curve.fit.a:.3g}·n^-{curve.fit.b:.3g} + {curve.fit.c:.3g}")
        ax.axhline(1 - curve.fit.c, color="C1", ls=":", lw=1, label=f"asymptote {1 - curve.fit.c:.3f}")
    for i, e in enumerate(curve.extrapolations):
        ax.axhline(e.target, color="C2", ls="--", lw=0.8, alpha=0.7)
        if e.reachable and e.samples and e.samples <= n_hi:
            ax.plot([e.samples], [e.target], "s", color="C2")
            ax.annotate(f"{e.target:g}: {e.samples:,}", (e.samples, e.target), textcoords="offset points",
                        xytext=(4, -10 - 0 * i), fontsize=7)
    ax.axvline(curve.available_train, color="grey", ls=":", lw=1, label=f"available {curve.available_train:,}")
    ax.set_xscale("log")
    ax.set_xlabel("training examples")
    ax.set_ylabel(curve.metric)
    ax.set_title(f"Learning curve: {curve.dataset} ({curve.model})", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    out_dir = ctx.settings.artifacts_dir / "data_size"
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(curve.dataset).split("/")[-1])[:40]
    path = out_dir / f"learning_curve_{safe}_{uuid.uuid4().hex[:8]}.png"
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)
