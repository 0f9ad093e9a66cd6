"""Unit tests of the compressor's parts: quantizers, pruning, export parity, judging, bad input."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)).eval()


def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(32, 10)).eval()


def test_dynamic_int8_shrinks_linear_weights_4x_and_keeps_outputs_close():
    from tensor_agent.tools.core.runtime import param_stats, serialized_size
    from tensor_agent.tools.compress.quantize import dynamic_int8

    m = _mlp()
    c = dynamic_int8(m)
    assert c.details["linear_weight_ratio"] >= 3.5
    assert serialized_size(c.module)[0] * 3 < serialized_size(m)[0]
    assert param_stats(c.module)["params"] == param_stats(m)["params"]
    x = torch.randn(8, 64)
    ref, got = m(x), c.module(x)
    assert (ref.argmax(-1) == got.argmax(-1)).float().mean() >= 0.75
    assert (ref - got).abs().max() < 0.1


def test_dynamic_int8_rejects_a_model_without_linear_layers():
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.compress.quantize import dynamic_int8

    with pytest.raises(UnsatisfiableError, match="Linear"):
        dynamic_int8(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()))


def test_techniques_reject_non_torch_and_already_quantized_models():
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.compress.quantize import dynamic_int8, static_int8

    with pytest.raises(UnsatisfiableError, match="PyTorch model"):
        dynamic_int8(object())
    q = dynamic_int8(_mlp()).module
    with pytest.raises(UnsatisfiableError, match="already INT8"):
        static_int8(q, (torch.randn(2, 64),), (torch.randn(8, 64),))


def test_static_int8_calibrates_and_runs_int8_convs():
    from tensor_agent.tools.core.runtime import serialized_size
    from tensor_agent.tools.compress.quantize import static_int8

    m = _cnn()
    x = torch.rand(16, 1, 8, 8)
    c = static_int8(m, (x,), (torch.rand(64, 1, 8, 8),))
    kinds = {type(mod).__name__ for mod in c.module.modules()}
    assert any("Conv" in k for k in kinds) and c.details["calibration_examples"] == 64
    assert "quantized" in " ".join(type(mod).__module__ for mod in c.module.modules())
    assert serialized_size(c.module)[0] < serialized_size(m)[0]
    assert c.module(x).shape == (16, 10)


def test_calibration_data_of_the_wrong_shape_is_a_clear_input_error():
    import numpy as np

    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress.data import check_calibration

    ex = (torch.rand(4, 1, 8, 8),)
    with pytest.raises(InputError, match=r"shape \(10, 64\).*\(N, 1, 8, 8\)"):
        check_calibration(np.zeros((10, 64), dtype="float32"), ex)
    with pytest.raises(InputError, match="calibration_data"):
        check_calibration("not data", ex)
    ok = check_calibration(np.zeros((10, 1, 8, 8)), ex)
    assert ok[0].shape == (10, 1, 8, 8) and ok[0].dtype == torch.float32


@pytest.mark.parametrize("bad", [1.5, 1.0, 0.0, -0.2, "lots", float("nan")])
def test_sparsity_outside_0_1_is_rejected(bad):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress.prune import check_sparsity

    with pytest.raises(InputError, match="sparsity"):
        check_sparsity(bad)


def test_global_masks_hit_the_target_sparsity_and_keep_old_zeros():
    from tensor_agent.tools.compress.prune import _global_masks, prunable_layers

    m = _mlp()
    masks = _global_masks(m, 0.5)
    total = sum(v.numel() for v in masks.values())
    kept = sum(int(v.sum()) for v in masks.values())
    assert abs(1 - kept / total - 0.5) < 0.01
    masks2 = _global_masks(m, 0.8, masks)
    assert all(bool(((masks2[i] > 0) <= (masks[i] > 0)).all()) for i in masks)
    assert len(masks) == len(prunable_layers(m))


def test_param_stats_counts_sparsity_of_conv_and_linear_weights():
    from tensor_agent.tools.core.runtime import param_stats

    m = _mlp()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.Linear):
                mod.weight[:, ::2] = 0
    st = param_stats(m)
    assert 0.49 < st["sparsity"] < 0.51
    assert st["nonzero_params"] < st["params"]


def test_latency_measurement_is_a_median_with_fixed_threads():
    from tensor_agent.tools.core.runtime import time_interleaved

    m = _mlp()
    x = torch.randn(32, 64)
    before = torch.get_num_threads()
    out = time_interleaved({"a": lambda: m(x), "b": lambda: m(x[:1])}, runs=5, warmup=1, threads=1)
    assert torch.get_num_threads() == before
    assert out["a"]["runs"] == 5 and out["a"]["median"] > 0 and out["a"]["p90"] >= out["a"]["median"] * 0.5


FAST_FAMILIES = ["mlp", "cnn", "vit", "bert", "t5", "diffusion", "gcn", "gat", "graphsage"]


@pytest.mark.parametrize("family", FAST_FAMILIES)
def test_onnx_export_of_designer_families_matches_torch(family, tmp_path):
    pytest.importorskip("onnxruntime")
    registry = pytest.importorskip("tensor_agent.tools.core.zoo.registry")
    from tensor_agent.tools.compress.export import export_onnx, onnx_parity

    if family not in registry.list_families():
        pytest.skip(f"designer has no family {family}")
    fam = registry.get_family(family)
    h = registry.create_model(family, variant=fam.tiny_variant)
    ex = registry.example_inputs_for(h, 2)
    res = export_onnx(h.module.eval(), ex, tmp_path / f"{family}.onnx")
    assert onnx_parity(h.module, res.path, ex) <= 1e-4


def test_onnx_int8_and_torchscript_and_archive(tmp_path):
    import zipfile

    pytest.importorskip("onnxruntime")
    from tensor_agent.tools.compress.export import OnnxRuntimeModule, export_torchscript, torchserve_archive
    from tensor_agent.tools.compress.quantize import onnx_int8

    m = _mlp()
    x = torch.randn(8, 64)
    c = onnx_int8(m, (x,), tmp_path / "q", mode="dynamic")
    assert c.details["fp32_parity_max_abs_diff"] <= 1e-4
    assert c.runner.static_stats((x,))["size_bytes"] * 3 < c.details["fp32_onnx_bytes"]
    assert (c.runner(x).argmax(-1) == m(x).argmax(-1)).float().mean() >= 0.75
    wrapped = OnnxRuntimeModule(c.runner.onnx_path)
    import pickle

    again = pickle.loads(pickle.dumps(wrapped))
    assert torch.allclose(again(x), c.runner(x))
    ts = export_torchscript(m, (x,), tmp_path / "ts" / "model")
    assert ts.parity_ok and ts.max_abs_diff <= 1e-5
    files = torchserve_archive(m, (x,), tmp_path / "serve", name="mlp")
    names = zipfile.ZipFile(files["archive"]).namelist()
    assert {"model.pt", "handler.py", "MAR-INF/MANIFEST.json"} <= set(names)


def test_judge_flags_accuracy_drop_and_missing_speedup():
    from tensor_agent.tools.compress.compress import Goals, judge
    from tensor_agent.tools.compress.report import ModelStats

    def st(size, lat, acc):
        return ModelStats(backend="x", size_bytes=size, params=10, nonzero_params=10, sparsity=0.0,
                          latency_ms_median=lat, batch_size=32, threads=1, metric_name="accuracy", metric=acc)

    ok = judge(st(400, 10, 0.95), st(100, 5, 0.945), Goals(speed=True), "dynamic_int8", {})
    assert ok.met and not ok.failures
    slow = judge(st(400, 10, 0.95), st(100, 11, 0.95), Goals(speed=True), "dynamic_int8", {})
    assert not slow.met and "speed-up" in slow.failures[0]
    drop = judge(st(400, 10, 0.95), st(100, 5, 0.93), Goals(), "static_int8", {})
    assert not drop.met and "drop 2.00 points" in drop.failures[0]
    unmeasured = judge(st(400, 10, None), st(100, 5, None), Goals(), "dynamic_int8", {})
    assert not unmeasured.met
    sparse = judge(st(400, 10, 0.95), st(400, 10, 0.95), Goals(), "pruning", {"target_sparsity": 0.8})
    assert not sparse.met and "sparsity" in sparse.failures[0]


def test_unknown_technique_lists_the_known_ones():
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress.pipeline import get_technique, order_techniques

    with pytest.raises(InputError, match="known: .*dynamic_int8"):
        get_technique("turbo_magic")
    assert order_techniques(["int8", "pruning", "distillation", "onnx"]) == ["distillation", "pruning", "int8", "onnx"]
    assert order_techniques(["quantization", "kd"]) == ["distillation", "int8"]
