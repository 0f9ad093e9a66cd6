"""The learned intent classifier: its weights file is plain arrays read without numpy or pickle, it is asked
only when no cue fired, and its answer is taken only when confident."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tensor_agent.planner import learned, rules_plan


def test_weights_file_is_plain_arrays_and_the_reader_matches_numpy():
    assert learned.MODEL_PATH.is_file(), "train it: python -m tensor_agent.planner.learned_train"
    keys, weights, bias, labels = learned._model()
    with np.load(learned.MODEL_PATH, allow_pickle=False) as z:  # no object arrays in the file
        assert list(keys) == z["keys"].tolist()
        assert np.allclose(np.asarray(weights, dtype="float32"), z["weights"].reshape(-1))
        assert np.allclose(bias, z["bias"]) and labels == z["labels"].tolist()
    assert list(keys) == sorted(keys)  # predict() bisects
    assert "design" in labels and "none" in labels


def test_prediction_agrees_with_a_numpy_computation():
    low = "put the sentiment model in a container and give me the run command"
    label, prob = learned.predict(low)
    with np.load(learned.MODEL_PATH, allow_pickle=False) as z:
        keys, w, b, names = z["keys"], z["weights"], z["bias"], z["labels"].tolist()
    logits = b.astype("float64").copy()
    for h, v in learned.hashed(low).items():
        i = np.searchsorted(keys, h)
        if i < len(keys) and keys[i] == h:
            logits += v * w[i]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    assert label == names[int(p.argmax())] and prob == pytest.approx(float(p.max()), rel=1e-5)


def test_planning_with_the_classifier_does_not_import_numpy():
    code = ("import sys; from tensor_agent.planner import rules_plan; "
            "p = rules_plan('@TENSOR put the sentiment model in a container and give me the run command'); "
            "print(p.intents, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False"), out


def test_classifier_only_replaces_the_fallback_when_confident(monkeypatch):
    monkeypatch.setattr(learned, "predict", lambda low: ("deploy", 0.9))
    assert rules_plan("@TENSOR the sentiment model, a container, the run command").intents == ["deploy"]
    # a cue fired: the classifier is not asked
    assert rules_plan("@TENSOR design a CNN for digit images").intents == ["design"]
    monkeypatch.setattr(learned, "predict", lambda low: ("deploy", learned.THRESHOLD - 0.01))
    assert rules_plan("@TENSOR the sentiment model, a container, the run command").intents == ["design"]
    monkeypatch.setattr(learned, "predict", lambda low: ("none", 0.99))
    assert rules_plan("@TENSOR the sentiment model, a container, the run command").intents == ["design"]


def test_reader_refuses_object_arrays(tmp_path):
    raw = tmp_path / "x.npy"
    np.save(raw, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        learned._read_npy(raw.read_bytes())


def test_a_message_no_cue_reads_gets_the_classifier_request_but_never_a_bare_design(monkeypatch):
    text = "@TENSOR the KL term of a VAE, what is it really up to"
    monkeypatch.setattr(learned, "predict", lambda low: ("explain", 0.9))
    plan = rules_plan(text)
    assert plan.intents == ["explain"] and plan.peers == ["AXIOM"]
    monkeypatch.setattr(learned, "predict", lambda low: ("design", 0.9))
    assert rules_plan(text).intents == []
    monkeypatch.setattr(learned, "predict", lambda low: ("explain", learned.THRESHOLD_EMPTY - 0.01))
    assert rules_plan(text).intents == []
