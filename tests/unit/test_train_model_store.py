"""save_model / load_model round trips and atomic writes."""

from __future__ import annotations

import pytest

from tensor_agent.errors import InputError
from tensor_agent.tools.core.context import ModelHandle
from tensor_agent.tools.core.model_store import load_model, save_model


def _handle():
    import torch

    from tensor_agent.tools.core.zoo.registry import create_model

    torch.manual_seed(0)
    h = create_model("mlp", variant="tiny", input_spec={"kind": "tabular", "shape": [4]}, num_classes=3)
    h.dataset, h.metrics = "iris", {"accuracy": 0.9}
    h.extra.update({"x": [1, 2], "obj": object()})
    return h


def test_torch_round_trip(tmp_path):
    import torch

    h = _handle()
    path = save_model(h, tmp_path / "m1")
    assert h.path == path
    back = load_model(path)
    x = torch.randn(5, 4)
    h.module.eval()
    assert torch.equal(back.module(x), h.module(x))
    assert back.family == "mlp" and back.num_classes == 3 and back.metrics == {"accuracy": 0.9}
    assert back.extra["x"] == [1, 2] and "obj" not in back.extra  # non-JSON values are dropped


def test_parent_dir_gets_subdirectory(tmp_path):
    (tmp_path / "other").mkdir()
    p1 = save_model(_handle(), tmp_path)
    p2 = save_model(_handle(), tmp_path)
    assert p1 != p2 and all(str(tmp_path) in p for p in (p1, p2))


def test_xgboost_round_trip(tmp_path):
    xgb = pytest.importorskip("xgboost")
    import numpy as np

    X = np.random.default_rng(0).random((60, 3))
    y = (X[:, 0] > 0.5).astype(int)
    m = xgb.XGBClassifier(n_estimators=5).fit(X, y)
    path = save_model(ModelHandle(module=m, family="xgboost", kind="xgboost", num_classes=2), tmp_path / "x")
    back = load_model(path)
    assert (back.module.predict(X) == m.predict(X)).all()


def test_failed_save_leaves_nothing(tmp_path, monkeypatch):
    import torch

    def boom(*a, **k):
        raise RuntimeError("disk full")

    import safetensors.torch

    monkeypatch.setattr(safetensors.torch, "save_file", boom)
    with pytest.raises(RuntimeError):
        save_model(_handle(), tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_load_missing(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_model(tmp_path / "nothing")
