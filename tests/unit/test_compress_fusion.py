"""The transformer recipe of ONNX Runtime INT8 (eager-attention export, graph fusion, dynamic INT8)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("transformers")


def _tiny_bert():
    from tensor_agent.tools.core.zoo.registry import create_model

    torch.manual_seed(0)
    h = create_model("bert", variant="bert-micro", input_spec={"kind": "tokens", "shape": [16], "vocab_size": 500},
                     num_classes=3)
    return h.module.eval()


def _inputs():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 500, (8, 16), generator=g)
    mask = torch.ones_like(ids)
    mask[:4, 10:] = 0  # padded rows: the mask path must survive the fusion
    return ids, mask


def test_bert_onnx_int8_uses_eager_export_and_fusion_and_keeps_parity(tmp_path):
    from tensor_agent.tools.compress.quantize import onnx_int8

    m = _tiny_bert()
    impl = m.encoder.config._attn_implementation
    ids, mask = _inputs()
    c = onnx_int8(m, (ids, mask), tmp_path / "q", mode="dynamic", input_names=["input_ids", "attention_mask"])
    assert m.encoder.config._attn_implementation == impl  # the caller's model is untouched
    fusion = c.details["graph_fusion"]
    assert fusion["attention_export"] == "eager" and fusion["fused_ops"].get("FastGelu") == 2
    assert c.details["fp32_parity_max_abs_diff"] <= 1e-4
    assert fusion["fused_fp32_parity_max_abs_diff"] <= fusion["tolerance"]
    assert "onnx_fp32_fused" in c.artifacts and c.runner.onnx_path == c.artifacts["onnx_int8"]
    with torch.no_grad():
        want = m(ids, mask)
    got = c.runner(ids, mask)
    assert got.shape == want.shape and float((got - want).abs().max()) < 0.1


def test_fuse_off_and_non_transformers_take_the_plain_export(tmp_path):
    from tensor_agent.tools.compress.onnx_fusion import transformer_config
    from tensor_agent.tools.compress.quantize import onnx_int8

    m = _tiny_bert()
    ids, mask = _inputs()
    c = onnx_int8(m, (ids, mask), tmp_path / "q", mode="dynamic", fuse=False)
    assert "graph_fusion" not in c.details and "onnx_fp32_fused" not in c.artifacts
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)).eval()
    assert transformer_config(mlp) is None and transformer_config(m) is not None
