"""The model store keeps no code in model files: round trips for every registry family, INT8 and pruned
models, migration of the old pickled format, and refusals with exit 2 naming the file."""

from __future__ import annotations

import json

import pytest

from tensor_agent.errors import InputError
from tensor_agent.tools.core.model_store import load_model, save_model
from tensor_agent.tools.core.zoo.registry import create_model, example_inputs_for, get_family, list_families


def _out(module, inputs):
    import torch

    with torch.no_grad():
        y = module(*inputs)
    return y if torch.is_tensor(y) else getattr(y, "sample", y)


def _tiny(family: str):
    fam = get_family(family)
    return create_model(family, variant=fam.tiny_variant or None)


@pytest.mark.parametrize("family", list_families())
def test_every_family_round_trips_with_identical_outputs(family, tmp_path):
    import torch

    torch.manual_seed(0)
    h = _tiny(family)
    if h.kind == "xgboost":
        import numpy as np

        x = np.random.default_rng(0).random((80, 4)).astype("float32")
        y = (x[:, 0] + x[:, 1] > 1).astype(int)
        h.module.fit(x, y)
        back = load_model(save_model(h, tmp_path / "m"))
        assert (back.module.predict_proba(x) == h.module.predict_proba(x)).all()
        assert (tmp_path / "m" / "model.json").is_file()
        return
    h.module.eval()
    path = save_model(h, tmp_path / "m")
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["handle.json", "weights.safetensors"], names  # no pickle anywhere
    back = load_model(path)
    x = example_inputs_for(h, 2)
    assert torch.equal(_out(back.module, x), _out(h.module, x))
    assert back.family == family and back.extra["variant"] == h.extra["variant"]


def test_dynamic_int8_round_trip(tmp_path):
    import torch
    from torch.ao.quantization import quantize_dynamic

    torch.manual_seed(0)
    h = create_model("mlp", variant="tiny", input_spec={"kind": "tabular", "shape": [6]}, num_classes=3)
    q = quantize_dynamic(h.module.eval(), {torch.nn.Linear}, dtype=torch.qint8)
    qh = type(h)(module=q, family="mlp", input_spec=h.input_spec, num_classes=3, extra=dict(h.extra))
    path = save_model(qh, tmp_path / "q")
    meta = json.loads((tmp_path / "q" / "handle.json").read_text())
    assert meta["stored"]["quantization"]["kind"] == "dynamic_int8" and meta["files"] == {"qweights": "weights.pt"}
    back = load_model(path)
    x = (torch.randn(5, 6),)
    assert torch.equal(_out(back.module, x), _out(q, x))


def test_fx_static_int8_round_trip(tmp_path):
    import torch
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.manual_seed(0)
    h = create_model("cnn", variant="micro", input_spec={"kind": "image", "shape": [1, 8, 8]}, num_classes=10)
    x = example_inputs_for(h, 4)
    engine = torch.backends.quantized.engine or "x86"
    prepared = prepare_fx(h.module.eval(), get_default_qconfig_mapping(engine), x)
    with torch.no_grad():
        for _ in range(4):
            prepared(torch.randn(8, 1, 8, 8))
    q = convert_fx(prepared)
    qh = type(h)(module=q, family="cnn", input_spec=h.input_spec, num_classes=10,
                 extra={**h.extra, "compression": ["static_int8"]})
    back = load_model(save_model(qh, tmp_path / "s"))
    assert torch.equal(_out(back.module, x), _out(q, x))


def test_structured_pruned_model_round_trips(tmp_path):
    import torch
    import torch_pruning as tp

    torch.manual_seed(0)
    h = create_model("cnn", variant="micro", input_spec={"kind": "image", "shape": [1, 8, 8]}, num_classes=10)
    x = example_inputs_for(h, 2)
    model = h.module.eval()
    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    pruner = tp.pruner.MagnitudePruner(model, x, importance=tp.importance.MagnitudeImportance(p=1),
                                       pruning_ratio=0.5, ignored_layers=[head])
    pruner.step()
    before = sum(p.numel() for p in h.module.parameters())
    back = load_model(save_model(h, tmp_path / "p"))
    assert sum(p.numel() for p in back.module.parameters()) == before
    assert torch.equal(_out(back.module, x), _out(model, x))


def _old_format(d, h):
    """A directory as the previous main wrote it: a pickled module + its state dict."""
    import torch

    d.mkdir(parents=True)
    torch.save(h.module, d / "model.pt")
    torch.save(h.module.state_dict(), d / "state_dict.pt")
    meta = {"family": h.family, "kind": "torch", "task": h.task, "input_spec": h.input_spec,
            "num_classes": h.num_classes, "extra": h.extra, "files": {"module": "model.pt", "state_dict": "state_dict.pt"}}
    (d / "handle.json").write_text(json.dumps(meta))
    return d


def test_old_format_is_migrated_inside_the_workspace_only(tmp_path, capsys):
    import torch

    from tensor_agent.tools.core.model_store import main as store_main

    torch.manual_seed(0)
    h = create_model("mlp", variant="tiny", input_spec={"kind": "tabular", "shape": [4]}, num_classes=3)
    h.module.eval()
    x = (torch.randn(3, 4),)
    ws = tmp_path / "ws"
    inside = _old_format(ws / "models" / "old", h)
    back = load_model(inside, workspace=ws)
    assert torch.equal(_out(back.module, x), _out(h.module, x))
    assert json.loads((inside / "handle.json").read_text())["format"] == 2
    assert sorted(p.name for p in inside.iterdir()) == ["handle.json", "weights.safetensors"]
    outside = _old_format(tmp_path / "elsewhere" / "old", h)
    with pytest.raises(InputError, match="model_store migrate") as exc:
        load_model(outside, workspace=ws)
    assert exc.value.exit_code == 2 and str(outside) in exc.value.message
    assert (outside / "model.pt").exists()  # refused, not touched
    assert store_main(["migrate", str(outside)]) == 0
    assert torch.equal(_out(load_model(outside, workspace=ws).module, x), _out(h.module, x))


@pytest.mark.parametrize("case, expected", [
    ("outside", "points outside the model directory"),
    ("absolute", "points outside the model directory"),
    ("role", "unknown file role"),
    ("suffix", "must be a .safetensors"),
    ("corrupt_json", "corrupt model metadata"),
    ("binary_json", "binary"),
    ("missing_file", "missing model file"),
    ("wrong_shapes", "do not fit the architecture"),
    ("bad_spec", "cannot rebuild the architecture"),
])
def test_refusals_name_the_file(tmp_path, case, expected):
    import torch

    h = create_model("mlp", variant="tiny", input_spec={"kind": "tabular", "shape": [4]}, num_classes=3)
    d = tmp_path / "m"
    save_model(h, d)
    meta_p = d / "handle.json"
    meta = json.loads(meta_p.read_text())
    if case == "outside":
        meta["files"]["weights"] = "../other.safetensors"
    elif case == "absolute":
        meta["files"]["weights"] = str(tmp_path / "x.safetensors")
    elif case == "role":
        meta["files"]["module"] = "model.pt"
    elif case == "suffix":
        meta["files"]["weights"] = "weights.pt"
    elif case == "missing_file":
        (d / "weights.safetensors").unlink()
    elif case == "wrong_shapes":
        from safetensors.torch import save_file

        save_file({"net.0.weight": torch.zeros(2, 2)}, str(d / "weights.safetensors"))
    elif case == "bad_spec":
        meta["spec"]["family"] = "no-such-family"
    if case == "corrupt_json":
        meta_p.write_text("{not json")
    elif case == "binary_json":
        meta_p.write_bytes(b"\x80\x04\x95" + bytes(range(200)))
    else:
        meta_p.write_text(json.dumps(meta))
    with pytest.raises(InputError, match=expected) as exc:
        load_model(d)
    assert exc.value.exit_code == 2 and str(d) in exc.value.message


def test_kept_after_failure_names_path_and_command(tmp_path):
    from tensor_agent.tools.core.model_store import kept_after_failure

    err = kept_after_failure(tmp_path / "m", "registration", RuntimeError("registry down"), "do-it-later")
    assert err.exit_code == 3 and str(tmp_path / "m") in err.message and "do-it-later" in err.hint


def test_sklearn_through_skops_and_untrusted_types_refused(tmp_path):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from tensor_agent.tools.core.context import ModelHandle

    x = np.random.default_rng(0).random((40, 3))
    y = (x[:, 0] > 0.5).astype(int)
    clf = LogisticRegression().fit(x, y)
    path = save_model(ModelHandle(module=clf, family="logreg", kind="sklearn", num_classes=2), tmp_path / "s")
    assert (tmp_path / "s" / "model.skops").is_file()
    assert (load_model(path).module.predict_proba(x) == clf.predict_proba(x)).all()
    import skops.io as sio

    from fractions import Fraction

    sio.dump({"clf": clf, "odd": Fraction(1, 3)}, tmp_path / "s" / "model.skops")  # a type outside the list
    with pytest.raises(InputError, match="not trusted"):
        load_model(path)
