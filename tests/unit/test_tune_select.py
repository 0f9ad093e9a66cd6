"""The refitted trial is the default configuration unless another one validates better beyond the noise."""

from __future__ import annotations

import optuna
import pytest

from tensor_agent.tools.tune.select import select_trial


def _t(number, value, **attrs):
    t = optuna.trial.create_trial(value=value, params={}, distributions={}, user_attrs=attrs)
    t.number = number
    return t


def test_accuracy_gain_within_one_standard_error_keeps_the_default():
    d = _t(0, 0.9778, source="default", n_val=180)          # SE sqrt(.9778*.0222/180) = 0.011
    cands = [d, _t(1, 0.9833, n_val=180), _t(2, 0.9722, n_val=180)]  # +1 example: noise
    chosen, why, top = select_trial(cands, "val_accuracy", "maximize")
    assert chosen is d and top.number == 1 and why.startswith("kept the default") and "standard error" in why


def test_accuracy_gain_beyond_the_noise_is_taken():
    d = _t(0, 0.95, source="default", n_val=180)             # SE 0.016
    chosen, why, _ = select_trial([d, _t(1, 0.9667, n_val=180), _t(2, 0.9889, n_val=180)], "val_accuracy", "maximize")
    assert chosen.number == 2 and "validated better than the default" in why


def test_ties_go_to_lower_val_loss_then_the_earlier_trial_and_deadline_cut_trials_are_skipped():
    d = _t(0, 0.5, source="default", n_val=10)
    a = _t(1, 0.9, n_val=10, val_metrics={"loss": 0.4})
    b = _t(2, 0.9, n_val=10, val_metrics={"loss": 0.2})
    cut = _t(3, 1.0, n_val=10, stopped_reason="time_budget")
    chosen, _, top = select_trial([d, a, b, cut], "val_accuracy", "maximize")
    assert chosen is b and top is b


def test_xgboost_paired_folds():
    d = _t(0, 0.10, source="default", folds={"loss": [0.10, 0.12, 0.08, 0.11, 0.09], "accuracy": [0.95] * 5})
    noisy = _t(1, 0.095, folds={"loss": [0.06, 0.15, 0.05, 0.14, 0.075], "accuracy": [0.96] * 5})
    steady = _t(2, 0.098, folds={"loss": [0.098, 0.118, 0.078, 0.108, 0.088], "accuracy": [0.96, 0.97, 0.96, 0.965, 0.96]})
    same_acc = _t(4, 0.097, folds={"loss": [0.097, 0.117, 0.077, 0.107, 0.087], "accuracy": [0.95] * 5})
    worse_acc = _t(3, 0.05, folds={"loss": [0.05] * 5, "accuracy": [0.94] * 5})
    chosen, why, top = select_trial([d, noisy, steady, worse_acc, same_acc], "val_loss", "minimize")
    assert top is worse_acc and chosen is steady and "fold accuracy" in why  # lower loss alone is not enough
    chosen, why, _ = select_trial([d, noisy], "val_loss", "minimize")
    assert chosen is d and why.startswith("kept the default")


def test_no_default_or_nothing_complete():
    a, b = _t(0, 0.2), _t(1, 0.1)
    assert select_trial([a, b], "val_loss", "minimize")[0] is b
    assert select_trial([], "val_loss", "minimize") == (None, "", None)


def test_pruners_per_family_kind():
    from tensor_agent.tools.tune.objective import TaskSpec
    from tensor_agent.tools.tune.runner import make_pruner, pruner_name

    def spec(family):
        return TaskSpec(family=family, dataset="digits", metric="val_accuracy", direction="maximize")

    assert isinstance(make_pruner(spec("cnn")), optuna.pruners.SuccessiveHalvingPruner)
    assert isinstance(make_pruner(spec("xgboost")), optuna.pruners.MedianPruner)
    assert isinstance(make_pruner(spec("cnn"), enabled=False), optuna.pruners.NopPruner)
    assert pruner_name(spec("cnn")) == "successive-halving pruning" and pruner_name(spec("xgboost")) == "median pruning"


def test_successive_halving_prunes_a_weak_trial_at_the_first_rung():
    """Four trials reached epoch 1 at 0.9; a fifth at 0.5 is not in the best quarter there."""
    from tensor_agent.tools.tune.objective import TaskSpec
    from tensor_agent.tools.tune.runner import make_pruner

    study = optuna.create_study(direction="maximize", pruner=make_pruner(
        TaskSpec(family="cnn", dataset="digits", metric="val_accuracy", direction="maximize")))
    for v in (0.9, 0.91, 0.92, 0.93):
        t = study.ask()
        t.report(v, 1)
        assert not t.should_prune()
        study.tell(t, v)
    weak = study.ask()
    weak.report(0.5, 1)
    assert weak.should_prune()


def test_resplits_overlap_so_the_t_test_is_corrected():
    """Fold gains with t = 3.0 uncorrected (passes 2.13) but 1.83 after Nadeau-Bengio's 1/k + n_val/n_train."""
    base = [0.10, 0.12, 0.08, 0.11, 0.09]
    gain = [0.04, 0.0, 0.03, 0.01, 0.03]
    acc_d, acc_c = [0.95] * 5, [0.96] * 5

    def pair(n_train, n_val):
        d = _t(0, 0.1, source="default", folds={"loss": base, "accuracy": acc_d, "n_train": n_train, "n_val": n_val})
        c = _t(1, 0.078, folds={"loss": [b - g for b, g in zip(base, gain)], "accuracy": acc_c,
                                "n_train": n_train, "n_val": n_val})
        return select_trial([d, c], "val_loss", "minimize")

    chosen, why, _ = pair(341, 114)
    assert chosen.number == 0 and "corrected t 1.8" in why
    chosen, why, _ = pair(None, None)  # no sizes known: only 1/k, t = 3.0
    assert chosen.number == 1 and "corrected t 2.99" in why
