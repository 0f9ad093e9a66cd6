"""Generated code (the `implement` intent): one set of numbers.

For every family with code generation, importing the written file and building its model gives the same
parameter count and MACs as the designed module (counted the same way), and the file's example batch has
the designed shapes. Back-ends are a registry keyed by framework; a framework without a back-end is said.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.design import create_model, example_inputs_for, get_family, list_families
from tensor_agent.tools.design.codegen import CODEGEN_BACKENDS, get_backend, render_module, write_code, write_module

SMALL = {"gpt": {"shape": [16], "vocab_size": 97}, "t5": {"shape": [12], "vocab_size": 97, "target_len": 6},
         "bert": {"shape": [16], "vocab_size": 97}, "mamba": {"shape": [12], "vocab_size": 31},
         "resnet": {"shape": [3, 16, 16]}, "efficientnet": {"shape": [3, 16, 16]}, "convnext": {"shape": [1, 8, 8]},
         "vit": {"shape": [1, 8, 8]}, "cnn": {"shape": [1, 8, 8]}, "diffusion": {"shape": [1, 8, 8]}}
TORCH_FAMILIES = [f for f in ["xgboost", "mlp", "cnn", "resnet", "efficientnet", "convnext", "vit", "bert", "gpt",
                              "t5", "mamba", "diffusion", "gcn", "gat", "graphsage"] if f != "xgboost"]


def _import(path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _handle(family: str, **over):
    fam = get_family(family)
    return create_model(family, variant=fam.tiny_variant, input_spec=over.pop("input_spec", SMALL.get(family)), **over)


def _design(handle) -> dict:
    return {"family": handle.family, "variant": handle.extra["variant"], "hyperparameters": handle.extra["hparams"],
            "input_spec": handle.input_spec, "num_classes": handle.num_classes, "task": handle.task}


def test_pytorch_backend_covers_every_torch_family():
    assert "pytorch" in CODEGEN_BACKENDS and get_backend(None) is CODEGEN_BACKENDS["pytorch"]
    torch_fams = {f for f in list_families() if get_family(f).kind == "torch"}
    assert set(TORCH_FAMILIES) <= torch_fams <= get_backend("pytorch").families()


@pytest.mark.parametrize("family", TORCH_FAMILIES)
def test_written_file_builds_the_designed_network(family, tmp_path):
    """Parity over the registry: same parameters, same MACs, same input shapes; the file trains one step."""
    import torch

    from tensor_agent.tools.core.measure import count_macs

    handle = _handle(family)
    path = write_module(_design(handle), tmp_path, handle=handle)
    mod = _import(path)
    torch.manual_seed(0)
    model = mod.build_model().eval()
    handle.module.eval()
    inputs = example_inputs_for(handle, 1)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in handle.module.parameters())
    assert count_macs(model, inputs) == count_macs(handle.module, inputs) > 0
    batch, target = mod.example_batch(1)
    assert [tuple(t.shape) for t in batch] == [tuple(t.shape) for t in inputs]
    loss = mod.training_step(model, torch.optim.AdamW(model.parameters(), lr=1e-3), *mod.example_batch())
    assert loss == loss and loss > 0


def test_written_file_without_a_handle_rebuilds_the_same_design(tmp_path):
    handle = _handle("cnn", num_classes=7)
    mod = _import(write_module(_design(handle), tmp_path))  # no handle: the design is rebuilt from its fields
    assert sum(p.numel() for p in mod.build_model().parameters()) == sum(p.numel() for p in handle.module.parameters())
    assert "SmallCNN" in render_module(_design(handle)) and "ResNet" not in render_module(_design(handle))


def test_framework_without_backend_is_stated(tmp_path):
    handle = _handle("resnet")
    res = write_code(_design(handle), tmp_path, framework="MXNet", handle=handle)
    assert res.framework == "pytorch" and res.path.suffix == ".py"
    assert res.note and "MXNet" in res.note and "PyTorch" in res.note
    assert write_code(_design(handle), tmp_path, framework="pytorch", handle=handle).note is None


def test_family_without_codegen_is_a_clear_error():
    handle = create_model("xgboost", variant="tiny")
    with pytest.raises(UnsatisfiableError, match="no standalone implementation for family 'xgboost'"):
        render_module(_design(handle))
