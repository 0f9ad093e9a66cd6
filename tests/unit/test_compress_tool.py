"""The compress_model tool's bad-input paths (fast: no training)."""

from __future__ import annotations

import pytest

from tensor_agent.schema import Constraint, Plan

torch = pytest.importorskip("torch")


def _plan(text="@TENSOR compress my model", **constraints):
    cs = [Constraint(name=k, value=v, span=(0, 1), text=str(v)) for k, v in constraints.items()]
    return Plan(addressed=True, intents=["compress"], tools=["compress_model"], constraints=cs, text=text)


def _tiny_handle():
    from tensor_agent.tools.core.context import ModelHandle

    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                            torch.nn.Linear(4 * 64, 10)).eval()
    return ModelHandle(module=m, family="cnn", input_spec={"kind": "image", "shape": [1, 8, 8]}, num_classes=10)


def test_no_model_says_what_it_needs(ctx):
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.compress import compress_model

    with pytest.raises(UnsatisfiableError) as err:
        compress_model(_plan(), ctx)
    assert "train or load a model first" in str(err.value) and "model_path=" in str(err.value)


def test_missing_model_path_is_an_input_error(ctx, tmp_path):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress import compress_model

    ctx.options = {"model_path": str(tmp_path / "nope")}
    with pytest.raises(InputError, match="does not exist"):
        compress_model(_plan(), ctx)


def test_bad_model_uri_is_rejected(ctx):
    from tensor_agent.errors import InputError, UnsatisfiableError
    from tensor_agent.tools.compress import compress_model

    ctx.options = {"model_uri": "not a uri"}
    with pytest.raises(InputError, match="MLflow URI"):
        compress_model(_plan(), ctx)
    ctx.options = {"model_uri": "runs:/0123456789abcdef/model"}
    with pytest.raises(UnsatisfiableError, match="cannot fetch"):
        compress_model(_plan(), ctx)


def test_sparsity_of_1_5_is_a_clear_error(ctx):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress import compress_model

    ctx.set_model(_tiny_handle())
    with pytest.raises(InputError, match="sparsity.*1.5"):
        compress_model(_plan(technique=["pruning"], sparsity=1.5), ctx)


def test_non_torch_model_is_unsupported(ctx):
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.core.context import ModelHandle
    from tensor_agent.tools.compress import compress_model

    ctx.set_model(ModelHandle(module=object(), family="xgboost", kind="xgboost", input_spec={"shape": [4]}))
    with pytest.raises(UnsatisfiableError, match="xgboost"):
        compress_model(_plan(technique=["int8"]), ctx)


def test_technique_the_model_cannot_take(ctx):
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.core.context import ModelHandle
    from tensor_agent.tools.compress import compress_model

    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                            torch.nn.Flatten()).eval()
    ctx.set_model(ModelHandle(module=m, family="cnn", input_spec={"kind": "image", "shape": [1, 8, 8]}))
    ctx.options = {"runs": 2}
    with pytest.raises(UnsatisfiableError, match="dynamic INT8.*Linear"):
        compress_model(_plan(technique=["dynamic_int8"]), ctx)
    with pytest.raises(UnsatisfiableError, match="needs the model's training data"):
        compress_model(_plan(technique=["pruning"]), ctx)


def test_calibration_data_of_wrong_shape_through_the_tool(ctx):
    import numpy as np

    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress import compress_model

    ctx.set_model(_tiny_handle())
    ctx.options = {"calibration_data": np.zeros((16, 3, 32, 32), dtype="float32"), "runs": 2}
    with pytest.raises(InputError, match=r"calibration_data has shape \(16, 3, 32, 32\)"):
        compress_model(_plan(technique=["static_int8"]), ctx)


def test_unknown_technique_option(ctx):
    from tensor_agent.errors import InputError
    from tensor_agent.tools.compress import compress_model

    ctx.set_model(_tiny_handle())
    ctx.options = {"technique": "zip_it"}
    with pytest.raises(InputError, match="unknown compression technique 'zip_it'"):
        compress_model(_plan(), ctx)


def test_without_held_out_data_nothing_is_promoted(ctx):
    """Measured size/speed alone is not enough: accuracy cannot be verified, so the original stays."""
    import numpy as np

    from tensor_agent.tools.compress import compress_model

    h = _tiny_handle()
    ctx.set_model(h)
    ctx.options = {"calibration_data": np.random.rand(32, 1, 8, 8).astype("float32"), "runs": 3}
    rep = compress_model(_plan(technique=["static_int8"]), ctx)
    assert not rep.promoted and ctx.current_model() is h
    r = rep.results[0]
    assert r.after.size_bytes < r.before.size_bytes and r.after.metric is None
    assert any("not measured" in f for f in r.verdict.failures)
    assert "original stays" in rep.message
