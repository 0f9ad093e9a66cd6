"""Seed rows that learn (issue 12, point 6): fast checks; the 180 s runs are in evals/bench_seed_rows.py."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_seed_rows", ROOT / "evals" / "bench_seed_rows.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_long_recall_is_512_tokens_and_a_bag_of_tokens_stays_at_chance():
    import numpy as np

    from tensor_agent.tools.core.datasets import load_dataset

    data = load_dataset("long_recall", seed=3)
    x, y = data.train.tensors
    assert data.input_spec["shape"] == [512] and x.shape[1] == 512 and data.meta["chance"] <= 0.25
    marker = data.meta["marker"]
    pos = (x == marker).float().argmax(1)
    assert (x[range(len(x)), pos + 1] == y).all()  # the label is the value after the marker
    assert pos.min() < 50 and pos.max() > 450  # the marker can be anywhere: the whole length matters
    counts = np.stack([np.bincount(r, minlength=data.input_spec["vocab_size"]) for r in x[:200].numpy()])
    assert (counts == counts[0]).all()  # identical token counts in every row
    assert _bench().bag_of_tokens_accuracy(data) <= data.meta["chance"] + 0.05


def test_fused_scan_matches_the_library_recurrence_and_its_gradients():
    import torch
    from transformers import MambaConfig, MambaModel

    from tensor_agent.tools.core.zoo.families.scan import ChunkedScanMixer, SelectiveScanFn, use_chunked_scan

    torch.manual_seed(0)
    b, t, e, n = 2, 37, 3, 4
    x, bm, cm = torch.randn(b, t, e), torch.randn(b, t, n), torch.randn(b, t, n)
    dt, a = torch.rand(b, t, e) * 0.5, -torch.rand(e, n) * 3 - 0.1
    args = [v.double().requires_grad_() for v in (x, dt, a, bm, cm)]

    def steps(x, dt, a, bm, cm):  # the recurrence one step at a time
        h, ys = torch.zeros(b, e, n, dtype=x.dtype), []
        for i in range(t):
            h = torch.exp(dt[:, i, :, None] * a) * h + (dt[:, i] * x[:, i])[..., None] * bm[:, i, None, :]
            ys.append((h * cm[:, i, None, :]).sum(-1))
        return torch.stack(ys, 1)

    w = torch.randn(b, t, e, dtype=torch.double)
    fast, ref = SelectiveScanFn.apply(*args), steps(*args)
    assert torch.allclose(fast, ref, atol=1e-10)
    for gf, gr in zip(torch.autograd.grad((fast * w).sum(), args), torch.autograd.grad((ref * w).sum(), args)):
        assert torch.allclose(gf, gr, atol=1e-10)
    cfg = MambaConfig(vocab_size=20, hidden_size=16, num_hidden_layers=2, state_size=4, use_cache=False)
    lib = MambaModel(cfg)
    fast_model = use_chunked_scan(copy.deepcopy(lib))
    assert any(isinstance(m, ChunkedScanMixer) for m in fast_model.modules())
    ids = torch.randint(0, 20, (2, 70))
    outs = [m(input_ids=ids, use_cache=False).last_hidden_state for m in (lib, fast_model)]
    assert torch.allclose(outs[0], outs[1], atol=1e-4)
    for o in outs:
        o.square().mean().backward()
    for (name, p), q in zip(lib.named_parameters(), fast_model.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-4, rtol=1e-3), name


def test_mamba_family_uses_the_fused_scan_and_learns_a_short_recall():
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.zoo.families.scan import ChunkedScanMixer
    from tensor_agent.tools.core.zoo.registry import create_model

    data = load_dataset("long_recall", seed=1, seq_len=24)
    handle = create_model("mamba", variant="mamba-micro", input_spec=data.input_spec, num_classes=8,
                          task="classification")
    assert any(isinstance(m, ChunkedScanMixer) for m in handle.module.modules())
    res = fit(handle.module, data, _bench().recall_config(35, seed=1))  # 25 s of training
    assert res.test_metrics["accuracy"] > 0.5  # chance is 0.125


def test_graphsage_on_karate_beats_0_7():
    row = _bench().row_gnn(splits=(3,))
    assert row["graphsage_mean"] >= 0.7


def test_design_honours_the_stated_sequence_length():
    from tensor_agent.tools.core.zoo.search import _apply_shape_constraints

    spec = _apply_shape_constraints({"kind": "tokens", "vocab_size": 64}, "tokens", {"sequence_length": 16384})
    assert spec["shape"] == [16384]  # not the family's default of 256
