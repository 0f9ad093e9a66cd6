"""The learned intent classifier: its weights file is plain arrays read without numpy or pickle, its packed
arithmetic agrees with a float computation, and the planner takes its answer only as `learned.adjust` says."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tensor_agent.planner import learned, rules_plan
from tensor_agent.planner.learned import Reading

INTENTS = ("design", "implement", "train", "fine_tune", "tune", "compress", "deploy", "track", "estimate_data",
           "evaluate", "explain", "recall")


def _npz() -> dict:
    with np.load(learned.MODEL_PATH, allow_pickle=False) as z:  # no object arrays in the file
        return {k: z[k] for k in z.files}


def test_weights_file_is_plain_arrays_and_the_reader_matches_numpy():
    assert learned.MODEL_PATH.is_file(), "train it: python -m tensor_agent.planner.learned_train"
    m, z = learned._model(), _npz()
    assert list(m.rows) == z["rows"].tolist() and len(m.rows) == learned.BUCKETS
    assert m.weights == z["weights"].tobytes() and z["weights"].shape == (int(z["rows"].max()) + 1, len(z["bias"]))
    assert np.allclose(m.scale, z["scale"]) and np.allclose(m.bias, z["bias"])
    assert m.primary == z["primary"].tolist() and m.present == z["present"].tolist()
    assert "design" in m.primary and "none" in m.primary and set(m.present) <= set(INTENTS)


@pytest.mark.parametrize("low", ["put the sentiment model in a container and give me the run command",
                                 "just optimize the dropout of the wine mlp", "x", ""])
def test_packed_reading_agrees_with_a_float_computation(low):
    z = _npz()
    w = (z["weights"].astype("float64") - 128.0) * z["scale"]  # [rows, outputs]
    logits = z["bias"].astype("float64").copy()
    for h, v in learned.hashed(low).items():
        if z["rows"][h] >= 0:
            logits += v * w[z["rows"][h]]
    k = len(z["primary"])
    p = np.exp(logits[:k] - logits[:k].max())
    p /= p.sum()
    r = learned.read(low)
    assert r.primary == z["primary"][int(p.argmax())] and r.confidence == pytest.approx(float(p.max()), abs=1e-3)
    for name, x in zip(z["present"], logits[k:]):
        assert r.present[name] == pytest.approx(1 / (1 + np.exp(-x)), abs=1e-3)


def test_planning_with_the_classifier_does_not_import_numpy():
    code = ("import sys; from tensor_agent.planner import rules_plan; "
            "p = rules_plan('@TENSOR put the sentiment model in a container and give me the run command'); "
            "print(p.intents, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False"), out


def _reads(monkeypatch, primary: str, confidence: float, **present: float) -> None:
    probs = {i: present.get(i, 0.5) for i in INTENTS}
    monkeypatch.setattr(learned, "read", lambda low: Reading(primary, confidence, probs))


def test_a_cue_answer_is_replaced_only_at_the_override_threshold(monkeypatch):
    text = "@TENSOR design a CNN for digit images"
    _reads(monkeypatch, "deploy", learned.OVERRIDE - 0.01)
    assert rules_plan(text).intents == ["design"]
    _reads(monkeypatch, "deploy", learned.OVERRIDE, design=learned.KEEP_AFTER_OVERRIDE - 0.01)
    assert rules_plan(text).intents == ["deploy"]
    _reads(monkeypatch, "deploy", learned.OVERRIDE, design=learned.KEEP_AFTER_OVERRIDE)
    plan = rules_plan(text)
    assert plan.intents == ["deploy", "design"] and plan.tools == ["design_architecture", "deploy_model"]


def test_the_fallback_takes_the_classifier_at_the_lower_threshold(monkeypatch):
    text = "@TENSOR the sentiment model, a container, the run command"
    _reads(monkeypatch, "deploy", learned.FALLBACK, design=0.1)
    assert rules_plan(text).intents == ["deploy"]  # the design fallback is not kept unless the classifier sees it
    _reads(monkeypatch, "deploy", learned.FALLBACK - 0.01)
    assert rules_plan(text).intents == ["design"]  # text model, no cue: the design fallback
    _reads(monkeypatch, "none", 0.99)
    assert rules_plan(text).intents == ["design"]


def test_a_negated_intent_is_never_brought_back_and_one_set_aside_needs_more(monkeypatch):
    _reads(monkeypatch, "train", 0.99, train=0.99)
    assert "train" not in rules_plan("@TENSOR design a ViT for the scans but don't train it").intents
    text = "@TENSOR our int8-quantized GPT: log its perplexity to MLflow"  # a participle: compress set aside
    _reads(monkeypatch, "compress", learned.SET_ASIDE - 0.01, track=0.9)
    assert rules_plan(text).intents == ["track"]
    _reads(monkeypatch, "compress", learned.SET_ASIDE, track=0.9)
    assert rules_plan(text).intents == ["compress", "track"]


def test_an_intent_the_rules_missed_is_added_when_the_classifier_sees_it(monkeypatch):
    text = "@TENSOR design a CNN for digit images"
    _reads(monkeypatch, "design", 0.9, deploy=learned.ADD)
    assert rules_plan(text).intents == ["design", "deploy"]
    _reads(monkeypatch, "design", 0.9, deploy=learned.ADD - 0.01)
    assert rules_plan(text).intents == ["design"]


def test_two_requests_the_rules_found_keep_their_order_unless_the_first_is_stray(monkeypatch):
    _reads(monkeypatch, "implement", 0.99, explain=0.0)  # answered in words: the rules' order stands
    plan = rules_plan("@TENSOR explain how graph attention weights neighbours, then implement a gat for our fraud graph")
    assert plan.intents == ["explain", "implement"]
    text = "@TENSOR train the churn xgboost and then quantize it"
    _reads(monkeypatch, "compress", 0.99, train=learned.KEEP_AFTER_OVERRIDE)
    assert rules_plan(text).intents == ["train", "compress"]
    _reads(monkeypatch, "compress", 0.99, train=learned.KEEP_AFTER_OVERRIDE - 0.01)  # a tool the classifier does not see
    assert rules_plan(text).intents == ["compress"]


def test_secondary_tool_intents_need_the_classifier_to_see_them(monkeypatch):
    text = "@TENSOR train the churn xgboost and then quantize it"
    _reads(monkeypatch, "train", 0.9, compress=learned.KEEP_SECONDARY - 0.01)
    assert rules_plan(text).intents == ["train"]
    _reads(monkeypatch, "train", 0.9, compress=learned.KEEP_SECONDARY)
    assert rules_plan(text).intents == ["train", "compress"]
    # answered-in-words intents stay as the rules found them (their peer would be lost)
    _reads(monkeypatch, "fine_tune", 0.9, evaluate=0.0)
    plan = rules_plan("@TENSOR fine-tune the ViT and report recall broken down per class")
    assert plan.intents == ["fine_tune", "evaluate"] and plan.peers == ["ECLIPSE"]


def test_nothing_found_gets_the_classifier_request_but_never_a_bare_design(monkeypatch):
    text = "@TENSOR the KL term of a VAE, what is it really up to"
    _reads(monkeypatch, "explain", 0.9)
    plan = rules_plan(text)
    assert plan.intents == ["explain"] and plan.peers == ["AXIOM"]
    _reads(monkeypatch, "design", 0.9)
    assert rules_plan(text).intents == []
    _reads(monkeypatch, "explain", learned.FALLBACK - 0.01)
    assert rules_plan(text).intents == []


@pytest.mark.parametrize("text,primary", [  # the real model, on wordings no cue table was written for
    ("@TENSOR the dropout of the wine mlp is a guess. find a better value, 25 attempts", "tune"),
    ("@TENSOR expose the iris xgboost behind a REST endpoint", "deploy"),
    ("@TENSOR historically, which of convnext and vit won on our defect photos?", "recall"),
    ("@TENSOR thanks, that is all for today", None),
])
def test_the_trained_model_reads_uncued_wordings(text, primary):
    plan = rules_plan(text)
    assert (plan.intents[0] if plan.intents else None) == primary


def test_reader_refuses_object_arrays(tmp_path):
    raw = tmp_path / "x.npy"
    np.save(raw, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        learned._read_npy(raw.read_bytes())


def test_training_writes_what_the_reader_reads(monkeypatch):
    from tensor_agent.planner import learned_train

    texts, intents = learned_train.load(["evals/holdout_v6.jsonl"])
    arrays = learned_train.train(texts, intents)
    m = learned.model_from_arrays({k: (v.tobytes() if k == "weights" else v.reshape(-1).tolist()) for k, v in arrays.items()})
    assert len(m.rows) == learned.BUCKETS and set(m.primary) == {i[0] if i else "none" for i in intents}
    monkeypatch.setattr(learned, "_model", lambda: m)
    right = sum(learned.read(t).primary == (i[0] if i else "none") for t, i in zip(texts, intents))
    assert right >= 0.95 * len(texts)  # it learned its own cases


@pytest.mark.parametrize("content,text,intents", [
    (None, "@TENSOR the sentiment model, a container, the run command", ["design"]),  # no file: the design fallback
    (b"not a zip file", "@TENSOR design a CNN for digit images", ["design"]),
    (b"PK\x03\x04broken", "@TENSOR design a CNN for digit images", ["design"]),
], ids=["missing", "not-a-zip", "broken-zip"])
def test_without_a_usable_weights_file_the_rules_plan_alone(monkeypatch, tmp_path, content, text, intents):
    path = tmp_path / "intent_model.npz"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setattr(learned, "MODEL_PATH", path)
    learned._model.cache_clear()
    try:
        assert learned.read("anything") is None
        assert rules_plan(text).intents == intents
    finally:
        learned._model.cache_clear()
