"""Which trial is refitted: the default configuration unless another one validates better beyond the noise.

The default configuration is trial 0 (enqueued; never pruned). A searched configuration replaces it only when
its validation score beats the default's by more than one standard error:

- validation accuracy (torch classifiers): the binomial standard error of the default's accuracy on the
  validation set, sqrt(p (1 - p) / n), and at least one example (1 / n);
- XGBoost: the objective is the mean validation loss over k re-splits of train+val (the same splits for every
  trial), so the comparison is paired: the mean fold-by-fold loss reduction must exceed its standard error,
  and for a classifier so must the mean fold-by-fold accuracy gain (accuracy is what the test set measures;
  a lower log-loss alone often comes with the same or a worse accuracy);
- any other score: any improvement.

Trials cut by the search's deadline (stopped for the time budget) are not picked: they trained fewer epochs than
their refit would. Among the configurations that pass, the best validation score wins (ties: lower validation
loss, then the earlier trial). Pure Python over Optuna's FrozenTrials.
"""

from __future__ import annotations

import math
import statistics
from typing import Optional

#: objective value per standard error a candidate must clear (1: one standard error)
MIN_GAIN_SE = 1.0


def _rank_key(t, maximize: bool):
    loss = (t.user_attrs.get("val_metrics") or {}).get("loss")
    loss = float(loss) if loss is not None else math.inf
    return (t.value if maximize else -t.value, -loss, -t.number)


def _gain_se(base: list, cand: list, lower_better: bool) -> Optional[tuple[float, float]]:
    """Mean fold-by-fold improvement of `cand` over `base` and its standard error (paired: same splits)."""
    if len(base) < 2 or len(base) != len(cand):
        return None
    diffs = [(a - b) if lower_better else (b - a) for a, b in zip(base, cand)]
    return statistics.mean(diffs), statistics.stdev(diffs) / math.sqrt(len(diffs))


def _paired(default, cand) -> Optional[tuple[bool, str]]:
    """Fold-by-fold comparison (XGBoost): the loss must be lower by more than its standard error and, for a
    classifier, the accuracy (what the test set measures) higher by more than its standard error."""
    d_f, c_f = default.user_attrs.get("folds") or {}, cand.user_attrs.get("folds") or {}
    loss = _gain_se(d_f.get("loss") or [], c_f.get("loss") or [], lower_better=True)
    if loss is None:
        return None
    ok = loss[0] > 0 and loss[0] > MIN_GAIN_SE * loss[1]
    why = f"mean fold loss {loss[0]:+.3g} lower than the default's (standard error {loss[1]:.2g})"
    acc = _gain_se(d_f.get("accuracy") or [], c_f.get("accuracy") or [], lower_better=False)
    if acc is not None:
        ok = ok and acc[0] > 0 and acc[0] > MIN_GAIN_SE * acc[1]
        why += f", mean fold accuracy {acc[0]:+.3g} (standard error {acc[1]:.2g})"
    return ok, why


def _beats(default, cand, metric: str, maximize: bool) -> tuple[bool, str]:
    paired = _paired(default, cand)
    if paired is not None:
        return paired
    gain = (cand.value - default.value) if maximize else (default.value - cand.value)
    n = default.user_attrs.get("n_val")
    if metric == "val_accuracy" and n:
        p = min(max(float(default.value), 0.0), 1.0)
        se = max(math.sqrt(p * (1 - p) / n), 1.0 / n)
        return gain > MIN_GAIN_SE * se, f"{metric} {gain:+.4g} over the default (standard error {se:.2g}, n={n})"
    return gain > 0, f"{metric} {gain:+.4g} over the default"


def select_trial(trials: list, metric: str, direction: str):
    """(trial to refit, why, the best trial by validation score) among COMPLETE `trials`; (None, '', None)
    when none completed."""
    maximize = direction == "maximize"
    done = [t for t in trials if t.value is not None and math.isfinite(t.value)]
    if not done:
        return None, "", None
    default = next((t for t in done if t.user_attrs.get("source") == "default"), None)
    full = [t for t in done if t is default or t.user_attrs.get("stopped_reason") != "time_budget"] or done
    ranked = sorted(full, key=lambda t: _rank_key(t, maximize), reverse=True)
    top = ranked[0]
    if default is None:
        return top, "the best validation score (no default configuration ran)", top
    for cand in ranked:
        if cand is default:
            break
        ok, why = _beats(default, cand, metric, maximize)
        if ok:
            return cand, f"trial {cand.number} validated better than the default: {why}", top
    if top is default:
        return default, "no configuration validated better than the default (trial 0)", top
    _, why = _beats(default, top, metric, maximize)
    return default, (f"kept the default (trial 0): the best searched configuration (trial {top.number}) is within "
                     f"the validation noise ({why})"), top
