"""ECLIPSE stand-in: evaluates the turn's model, or gives the evaluation strategy when there is none.

With a current model (context: a ModelHandle, the train_model result's saved model or the thread's
`artifacts["model"]`), ECLIPSE measures it on its test split (`evaluation.py`): per-class precision,
recall and F1, the confusion matrix (numbers and a PNG under the workspace artifacts) and bootstrap 95%
confidence intervals of accuracy and macro-F1. Always, it gives the validation scheme and metrics for
the plan's modality, task and data size: stratified k-fold for small tabular sets, hold-out + untouched
test for large ones, time-based splits for forecasting, node splits for graphs, perplexity for
language models, FID/IS for image generation. It decides from the plan fields and the context, never
from the message text.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from tensor_agent.peers.common import data_path, dataset_size, fmt_int, modality_of, num_classes, task_of, train_sizes
from tensor_agent.errors import TensorError
from tensor_agent.peers.registry import PeerReply, Section, register_peer
from tensor_agent.schema import Plan

SMALL = 10_000     # below: k-fold cross-validation is affordable and needed for stable estimates
LARGE = 100_000    # above: a single stratified hold-out is precise enough


def _split(modality: Optional[str], task: str, n: Optional[int], *, temporal: bool,
           grouped: bool) -> tuple[dict, list[str]]:
    """Validation scheme (machine-readable) and its explanation."""
    if temporal:
        k = 5 if (n or 0) < LARGE else 3
        scheme = {"split": "time_based", "method": "rolling-origin (expanding window) backtest", "folds": k,
                  "gap": "at least the forecast horizon", "shuffle": False}
        why = [f"Time-based split: {k} rolling-origin folds (train on the past, validate on the next window); never shuffle.",
               "Leave a gap of at least the forecast horizon between train and validation to avoid look-ahead leakage.",
               "Keep the most recent period as the final, untouched test window."]
        return scheme, why
    if modality == "graph":
        scheme = {"split": "node_split" if task != "link_prediction" else "edge_split",
                  "method": "stratified node masks 60/20/20 (or the public Planetoid split), 10 random seeds",
                  "folds": 10, "shuffle": True}
        why = ["Split nodes (not graphs) into train/val/test masks, stratified by class; report mean ± std over 10 random splits.",
               "Message passing sees the whole graph: only the loss/metrics use the masks (transductive).",
               "For inductive use, hold out whole subgraphs/graphs so test nodes are unseen during training."]
        if task == "link_prediction":
            why[0] = "Edge split: hide 10%/10% of edges for val/test with the same number of negative samples; remove them from the message-passing graph."
        return scheme, why
    if modality in ("text_generation", "image_generation"):
        scheme = {"split": "holdout", "method": "held-out documents/images (deduplicated against train)",
                  "fractions": [0.98, 0.01, 0.01] if (n or LARGE) >= LARGE else [0.9, 0.05, 0.05], "shuffle": True}
        why = ["Hold out whole documents/images (not random tokens/patches); deduplicate val/test against train (near-duplicates inflate scores).",
               "Fix the evaluation set and the sampling settings (temperature, steps, seed) so runs are comparable."]
        return scheme, why
    if n is not None and n < SMALL:
        k = 10 if n < 1_000 else 5
        method = f"stratified {k}-fold cross-validation" if task == "classification" else f"{k}-fold cross-validation"
        if grouped:
            method = f"stratified group {k}-fold (all rows of one entity in one fold)"
        if n < 300:
            method = f"repeated {method} (5 repeats)"
        scheme = {"split": "kfold", "method": method, "folds": k, "shuffle": True,
                  "test_fraction": 0.2 if n >= 500 else 0.0, "nested_for_tuning": n < 2_000}
        why = [f"Small data ({fmt_int(n)} examples): {method} gives a far less noisy estimate than one split.",
               "Tune hyper-parameters inside the folds (nested CV) or on an inner split, never on the test folds." if n < 2_000
               else "Keep a 20% stratified test set aside; cross-validate on the rest.",
               "Fit preprocessing (scalers, imputers, encoders, vocabularies) inside each fold."]
        return scheme, why
    fractions = [0.8, 0.1, 0.1] if (n or 0) < LARGE else [0.98, 0.01, 0.01]
    scheme = {"split": "holdout", "method": "stratified train/validation/test hold-out" if task == "classification"
              else "train/validation/test hold-out", "fractions": fractions, "shuffle": True}
    size = fmt_int(n) if n else "unknown (assumed large)"
    why = [f"Data size {size}: a single stratified hold-out {'/'.join(str(int(f * 100)) for f in fractions)} "
           "(train/val/test) is precise enough; k-fold would cost k trainings for little gain.",
           "Use the validation split for early stopping and tuning; touch the test split once, at the end."]
    if grouped:
        why.append("Split by entity (user/patient/customer) so the same entity never appears in train and test.")
    return scheme, why


def _metrics(modality: Optional[str], task: str, k: Optional[int], *, imbalanced: bool,
             temporal: bool) -> tuple[str, list[str], list[str]]:
    """Primary metric, secondary metrics, explanations."""
    if modality == "text_generation" or task == "generation" and modality != "image_generation":
        return "perplexity", ["bits_per_token", "exact_match/BLEU/ROUGE on task prompts", "human preference win-rate"], [
            "Perplexity = exp(mean token cross-entropy) on held-out text; compare only with the same tokenizer.",
            "Add task-level checks (exact match, BLEU/ROUGE for summaries) and a small human/LLM-judge preference study."]
    if modality == "image_generation":
        return "FID", ["Inception Score", "precision/recall (k-NN manifold)", "CLIP score if text-conditioned"], [
            "FID between ≥10k generated and real images (same preprocessing, fixed sample count); lower is better.",
            "Inception Score for diversity/confidence; precision/recall separate fidelity from coverage."]
    if task == "seq2seq":
        return "BLEU/chrF (translation) or ROUGE-L (summarisation)", ["BERTScore", "exact match", "human adequacy rating"], [
            "Report corpus-level BLEU/chrF (sacreBLEU signature) or ROUGE-L; add BERTScore for paraphrase tolerance."]
    if task in ("regression", "forecasting") or temporal:
        return "MAE", ["RMSE", "MAPE/sMAPE" if temporal else "R²", "residual plots"], [
            "MAE is robust and in the target's unit; RMSE penalises large errors; compare with a naive baseline "
            "(last value / seasonal naive for forecasts, the mean for regression)."]
    if task == "link_prediction":
        return "ROC-AUC", ["Hits@K", "MRR"], ["Rank each positive edge against sampled negatives: ROC-AUC, Hits@K and MRR."]
    if task == "detection":
        return "mAP@[.5:.95]", ["mAP@.5", "recall at fixed precision"], ["COCO-style mAP over IoU thresholds."]
    if task == "segmentation":
        return "mean IoU", ["Dice", "pixel accuracy"], ["Mean IoU over classes; Dice for medical-style masks."]
    binary = k == 2
    if imbalanced:
        primary = "PR-AUC" if binary else "macro-F1"
        return primary, ["ROC-AUC" if binary else "balanced accuracy", "per-class recall", "confusion matrix"], [
            f"Imbalanced classes: accuracy is misleading; use {primary} and per-class recall, "
            "and pick the decision threshold on validation data for the cost of errors."]
    if binary:
        return "ROC-AUC", ["accuracy", "F1", "precision/recall at the chosen threshold"], [
            "ROC-AUC is threshold-free; report F1/precision/recall at the threshold you will deploy."]
    return "accuracy", ["macro-F1", "top-5 accuracy" if (k or 0) > 20 else "per-class recall", "confusion matrix"], [
        "Accuracy is fine for balanced classes; macro-F1 exposes weak classes."]


def _ci_halfwidth(n_test: Optional[int], p: float = 0.9) -> Optional[float]:
    """95% normal-approximation half-width of an accuracy estimate on n_test examples."""
    if not n_test:
        return None
    return 1.96 * math.sqrt(p * (1 - p) / n_test)


def wilson_interval(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion p measured on n examples."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _measured(context: dict) -> tuple[list[str], dict]:
    """CI lines for the accuracy train_model measured this turn (if it ran)."""
    train = (context.get("results") or {}).get("train_model")
    if not isinstance(train, dict):
        return [], {}
    metrics = train.get("test_metrics") or {}
    n_test = train_sizes(train).get("test")
    acc = metrics.get("accuracy")
    if acc is None or not n_test:
        return [], {}
    lo, hi = wilson_interval(float(acc), int(n_test))
    line = (f"Measured by train_model: {train.get('family', 'model')} accuracy {float(acc):.4f} on {int(n_test):,} "
            f"test examples → 95% CI [{lo:.4f}, {hi:.4f}] (Wilson); differences smaller than ±{(hi - lo) / 2 * 100:.1f} "
            "points are within noise.")
    return [line], {"accuracy": float(acc), "n_test": int(n_test), "ci95": [lo, hi]}


def _data_facts(plan: Plan, context: dict) -> dict:
    """Facts from the data file itself (rows, ID-like columns, class balance) when the plan names one."""
    path = data_path(plan)
    if not path:
        return {}
    from tensor_agent.peers.profile import profile_data

    prof = profile_data(path, plan.data.target_column if plan.data else None)
    return {"rows": prof["rows"], "id_like": prof.get("id_like") or [],
            "minority_share": (prof.get("class_balance") or {}).get("minority_share"),
            "classes": (prof.get("class_balance") or {}).get("classes")}


def _measured_lines(m: dict) -> list[str]:
    """Readable lines of evaluate_current_model's numbers."""
    b = m["bootstrap"]
    lines = [f"{m['model']['family']} on {m['model']['dataset']} test split ({m['n_test']:,} examples, seed "
             f"{m['model']['seed']}): accuracy {m['accuracy']:.4f} (95% bootstrap CI {b['accuracy'][0]:.4f}-"
             f"{b['accuracy'][1]:.4f}), macro-F1 {m['macro_avg']['f1']:.4f} (CI {b['macro_f1'][0]:.4f}-"
             f"{b['macro_f1'][1]:.4f}; {b['resamples']} resamples)"]
    for name, (c, row) in zip(m["class_names"], m["per_class"].items()):
        lines.append(f"class {name}: precision {row['precision']:.3f}, recall {row['recall']:.3f}, "
                     f"F1 {row['f1']:.3f}, support {row['support']}")
    return lines


def _confusion_lines(m: dict) -> list[str]:
    cm = m["confusion_matrix"]
    worst = sorted(((cm[i][j], m["class_names"][i], m["class_names"][j]) for i in range(len(cm))
                    for j in range(len(cm)) if i != j and cm[i][j]), reverse=True)[:3]
    lines = ["rows = true class, columns = predicted: " + " | ".join(" ".join(str(v) for v in row) for row in cm)]
    if worst:
        lines.append("most confused: " + "; ".join(f"{t} taken for {p} ({n}x)" for n, t, p in worst))
    lines.append(f"PNG: {m['confusion_png']}")
    return lines


@register_peer("ECLIPSE", standin=True)
def eclipse(plan: Plan, context: dict[str, Any]) -> PeerReply:
    """Measure the current model on its test split (when there is one); the validation scheme and metrics."""
    from tensor_agent.peers.evaluation import evaluate_current_model, find_model

    context = context or {}
    modality = modality_of(plan, context)
    task = task_of(plan, modality, context)
    facts = _data_facts(plan, context)
    evaluated, problem = None, None
    try:
        handle = find_model(context)
        evaluated = evaluate_current_model(plan, context, handle) if handle is not None else None
    except TensorError as exc:  # a documented failure (unreadable model, data gone): said, not hidden
        problem = f"Could not measure the current model: {exc}"
    n, n_src = dataset_size(plan, context)
    if n is None and facts.get("rows"):
        n, n_src = facts["rows"], f"rows of {data_path(plan)}"
    if n is None and evaluated and sum(evaluated["sizes"].values()):
        n, n_src = sum(evaluated["sizes"].values()), "the current model's dataset"
    k = num_classes(plan, context) or facts.get("classes") or (len(evaluated["labels"]) if evaluated else None)
    temporal = task == "forecasting"
    imbalanced = "class_imbalance" in plan.topics or (facts.get("minority_share") or 1.0) < 0.1
    scheme, split_why = _split(modality, task, n, temporal=temporal, grouped=bool(facts.get("id_like")))
    primary, secondary, metric_why = _metrics(modality, task, k, imbalanced=imbalanced, temporal=temporal)
    sections, data = _strategy_sections(plan, modality, task, n, scheme, split_why, primary, secondary, metric_why,
                                        context)
    if evaluated:
        sections = [Section(title="Measured on the test split", items=_measured_lines(evaluated)),
                    Section(title="Confusion matrix", items=_confusion_lines(evaluated))] + sections
        b = evaluated["bootstrap"]
        summary = (f"Measured {evaluated['model']['family']} on its {evaluated['n_test']:,}-example test split: "
                   f"accuracy {evaluated['accuracy']:.4f} [95% CI {b['accuracy'][0]:.4f}, {b['accuracy'][1]:.4f}], "
                   f"macro-F1 {evaluated['macro_avg']['f1']:.4f}; per-class metrics and the confusion matrix below. "
                   f"Validation scheme: {scheme['method']}.")
    else:
        summary = (f"Use {scheme['method']} and report {primary} (with {', '.join(secondary[:2])}) "
                   f"for {modality or 'this'} {task.replace('_', ' ')}"
                   + ((f" with the ~{fmt_int(n)} examples estimate_data says you need" if "need" in n_src
                       else f" with {fmt_int(n)} examples") if n else "") + ", with bootstrap 95% confidence intervals.")
    if problem:
        sections.insert(0, Section(title="Model not measured", items=[problem]))
        summary = problem + " " + summary
    recs = [f"Split: {scheme['method']}.", f"Primary metric: {primary}; also {', '.join(secondary)}.",
            "Report mean ± 95% CI over ≥3 seeds; never tune on the test split."]
    if evaluated:
        names = dict(zip((str(label) for label in evaluated["labels"]), evaluated["class_names"]))
        weak_key, weak = min(evaluated["per_class"].items(), key=lambda kv: kv[1]["f1"])
        recs.insert(0, f"Weakest class: {names.get(weak_key, weak_key)} (F1 {weak['f1']:.3f}): look at its "
                       "confusions first.")
    data.update({"modality": modality, "task": task, "dataset_size": n, "dataset_size_source": n_src, "num_classes": k,
                 "scheme": scheme, "primary_metric": primary, "secondary_metrics": secondary,
                 "evaluation": evaluated})
    return PeerReply(peer="ECLIPSE", summary=summary, sections=sections, recommendations=recs, data=data)


def _strategy_sections(plan: Plan, modality: Optional[str], task: str, n: Optional[int], scheme: dict,
                       split_why: list[str], primary: str, secondary: list[str], metric_why: list[str],
                       context: dict) -> tuple[list[Section], dict]:
    """The validation-scheme, metric, uncertainty and checks sections (and their data)."""
    n_test = None
    if n:
        frac = (scheme.get("fractions") or [None, None, scheme.get("test_fraction") or 0.2])[-1] or 0.2
        n_test = max(1, int(n * frac))
    hw = _ci_halfwidth(n_test)
    uncertainty = ["95% confidence intervals by bootstrap: resample the test predictions 1,000 times and report "
                   "the 2.5-97.5 percentiles of the metric."]
    if hw is not None:
        uncertainty.append(f"With ~{fmt_int(n_test)} test examples an accuracy near 90% is known to about ±{hw * 100:.1f} "
                           "points (95%), so smaller differences between models are noise.")
    uncertainty.append("Compare two models on the same test set with a paired test (McNemar for classifiers, "
                       "paired bootstrap otherwise), and over ≥3 training seeds.")
    measured_lines, measured = _measured(context)
    checks = ["Leakage: fit every preprocessing step on the training split only; check for duplicates across splits."]
    if modality not in ("text_generation", "image_generation") and task in ("classification", "node_classification"):
        checks.append("Calibration: reliability diagram and expected calibration error (ECE, 15 bins); "
                      "fix with temperature scaling on the validation split if the model is over-confident.")
    checks.append("Baselines: a trivial model (majority class / mean / last value) and a simple strong one "
                  "(logistic regression or gradient boosting) to show the model earns its complexity.")
    if modality in ("image", "text", "sequence"):
        checks.append("Robustness: evaluate on a shifted slice (new source, time period, noise/corruptions) "
                      "and per subgroup (slice metrics) before deployment.")
    if plan.constraint("accuracy_target") is not None:
        checks.append(f"Acceptance: the lower end of the 95% CI of {primary} must clear the target "
                      f"{plan.constraint('accuracy_target')}, not just the point estimate.")
    sections = [Section(title="Validation scheme", items=split_why),
                Section(title="Metrics", items=[f"Primary: {primary}", f"Secondary: {', '.join(secondary)}", *metric_why]),
                Section(title="Uncertainty", items=measured_lines + uncertainty),
                Section(title="Checks", items=checks)]
    return sections, {"bootstrap_resamples": 1000, "ci_halfwidth_at_90pct": hw, "measured": measured}
