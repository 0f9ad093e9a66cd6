"""Which trial is refitted: the default configuration unless another one validates better beyond the noise.

The default configuration is trial 0 (enqueued; never pruned). A searched configuration replaces it only when
a one-sided test at level ALPHA (5%) says it validates better than the default:

- validation accuracy (torch classifiers): a z-test against the binomial standard error of the default's
  accuracy on the validation set, sqrt(p (1 - p) / n), at least one example (1 / n);
- XGBoost: the objective is the mean validation loss over k re-splits of train+val (the same splits for every
  trial), so the comparison is paired over the splits: the corrected resampled t-test (Nadeau & Bengio 2003:
  the variance of the fold differences times 1/k + n_val/n_train, because re-splits overlap) on the log-loss,
  and for a classifier the mean fold accuracy (what the test set measures) must be higher too;
- any other score: any improvement.

Trials cut by the search's deadline (stopped for the time budget) are not picked: they trained fewer epochs than
their refit would. Among the configurations that pass, the best validation score wins (ties: lower validation
loss, then the earlier trial). Pure Python over Optuna's FrozenTrials (scipy for the t quantile).
"""

from __future__ import annotations

import math
import statistics
from typing import Optional

#: one-sided level of the test a searched configuration must pass to replace the default
ALPHA = 0.05


def _z_crit() -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - ALPHA)


def _t_crit(dof: int) -> float:
    from scipy.stats import t

    return float(t.ppf(1 - ALPHA, dof))


def _rank_key(t, maximize: bool):
    loss = (t.user_attrs.get("val_metrics") or {}).get("loss")
    loss = float(loss) if loss is not None else math.inf
    return (t.value if maximize else -t.value, -loss, -t.number)


def _gain_se(base: list, cand: list, lower_better: bool, corr: float) -> Optional[tuple[float, float]]:
    """Mean fold-by-fold improvement of `cand` over `base` and its corrected standard error (paired)."""
    if len(base) < 2 or len(base) != len(cand):
        return None
    diffs = [(a - b) if lower_better else (b - a) for a, b in zip(base, cand)]
    return statistics.mean(diffs), math.sqrt(statistics.variance(diffs) * corr)


def _paired(default, cand) -> Optional[tuple[bool, str]]:
    """Corrected resampled t-test over the splits (XGBoost), one-sided at ALPHA, on the loss; a classifier's
    mean fold accuracy must be higher as well."""
    d_f, c_f = default.user_attrs.get("folds") or {}, cand.user_attrs.get("folds") or {}
    k = len(d_f.get("loss") or [])
    n_tr, n_va = d_f.get("n_train"), d_f.get("n_val")
    corr = 1.0 / k + (n_va / n_tr if n_tr and n_va else 0.0) if k else 1.0
    loss = _gain_se(d_f.get("loss") or [], c_f.get("loss") or [], True, corr)
    if loss is None:
        return None
    crit = _t_crit(k - 1)
    t_stat = loss[0] / loss[1] if loss[1] > 0 else (math.inf if loss[0] > 0 else 0.0)
    ok = loss[0] > 0 and t_stat > crit
    why = f"mean fold loss {loss[0]:+.3g} lower than the default's (corrected t {t_stat:.2f}, needs {crit:.2f})"
    acc = _gain_se(d_f.get("accuracy") or [], c_f.get("accuracy") or [], False, corr)
    if acc is not None:
        ok = ok and acc[0] > 0
        why += f", mean fold accuracy {acc[0]:+.3g}"
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
        z = _z_crit()
        return gain > z * se, (f"{metric} {gain:+.4g} over the default (needs more than {z:.2f} standard errors "
                               f"of {se:.2g}, n={n})")
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
