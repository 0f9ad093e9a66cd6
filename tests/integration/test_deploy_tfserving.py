"""TF Serving target: the SavedModel layout `<name>/1/saved_model.pb`, loaded with TensorFlow in its own Python
(TENSOR_TF_PYTHON), takes NCHW input as metadata.json says and matches the torch model on real digits.

TensorFlow does not share tensor-agent's environment (see tools/deploy/tfserving.py SETUP); the parity test is
skipped unless TENSOR_TF_PYTHON names a Python that has it. Without it the target must say why nothing was written."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tensor_agent.config import Settings
from tensor_agent.schema import Plan

pytestmark = pytest.mark.integration

LOAD_AND_RUN = """
import sys, json, numpy as np, tensorflow as tf
sig = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
out = sig(input=tf.constant(np.load(sys.argv[2])))["output"].numpy()
np.save(sys.argv[3], out)
"""


@pytest.fixture()
def tf_py() -> str:
    """TENSOR_TF_PYTHON, checked before anything trains (skips otherwise)."""
    py = os.environ.get("TENSOR_TF_PYTHON")
    if not py:
        pytest.skip("TENSOR_TF_PYTHON is not set: TensorFlow lives in its own environment "
                    "(see tensor_agent.tools.deploy.tfserving.SETUP)")
    if subprocess.run([py, "-c", "import tensorflow, onnx2tf"], capture_output=True, timeout=180).returncode != 0:
        pytest.skip(f"TENSOR_TF_PYTHON={py} cannot import tensorflow and onnx2tf")
    return py


@pytest.fixture()
def digits_cnn():
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.zoo.registry import create_model

    data = load_dataset("digits", seed=0)
    handle = create_model("cnn", input_spec=data.input_spec, num_classes=10)
    fit(handle.module, data, TrainConfig(epochs=1, batch_size=64))
    handle.dataset = "digits"
    return handle, data


def _ctx(home: Path, handle):
    from tensor_agent.tools.core.context import ToolContext

    ctx = ToolContext(settings=Settings.from_env(home), thread_id="tfserving-test", options={}, progress=False)
    ctx.set_model(handle)
    return ctx


def _plan() -> Plan:
    return Plan(addressed=True, intents=["deploy"], tools=["deploy_model"], deploy_targets=["tfserving"])


def test_savedmodel_loads_in_tensorflow_and_matches_the_model(tf_py, tmp_path, digits_cnn):
    import torch

    from tensor_agent.tools.deploy import deploy_model

    py = tf_py
    handle, data = digits_cnn
    report = deploy_model(_plan(), _ctx(tmp_path, handle))
    tfs = report.targets[0]
    assert tfs.ok, tfs.reason
    version_dir = Path(tfs.path)
    assert version_dir.name == "1" and (version_dir / "saved_model.pb").is_file()
    assert (version_dir / "variables" / "variables.index").is_file()
    name = version_dir.parent.name
    assert any(f"MODEL_NAME={name}" in c and "tensorflow/serving" in c for c in tfs.commands)
    assert any("max abs diff" in c for c in tfs.checks)
    meta = json.loads((version_dir / "assets.extra" / "metadata.json").read_text())
    assert meta["input_layout"] == "NCHW" and meta["inputs"][0]["shape"] == [1, 8, 8]
    assert meta["signature_inputs"]["input"][0] == "(None, 1, 8, 8)" and meta["parity_vs_onnxruntime"] <= 1e-4
    # a separate TensorFlow process loads the delivered SavedModel and runs real digits in NCHW
    x = data.test.tensors[0][:32]  # (32, 1, 8, 8)
    np.save(tmp_path / "x.npy", x.numpy().astype("float32"))
    proc = subprocess.run([py, "-c", LOAD_AND_RUN, str(version_dir), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    with torch.no_grad():
        want = handle.module.eval()(x).numpy()
    got = np.load(tmp_path / "y.npy")
    assert got.shape == (32, 10)
    assert np.abs(got - want).max() <= 1e-4


def test_without_tensorflow_the_answer_says_why(tmp_path, digits_cnn, monkeypatch):
    from tensor_agent.errors import UnsatisfiableError
    from tensor_agent.tools.deploy import deploy_model
    from tensor_agent.tools.deploy import tfserving

    monkeypatch.setenv("TENSOR_TF_PYTHON", str(tmp_path / "no-such-python"))
    handle, _ = digits_cnn
    with pytest.raises(UnsatisfiableError) as err:
        deploy_model(_plan(), _ctx(tmp_path, handle))
    msg = str(err.value)
    assert "tfserving" in msg and "cannot import tensorflow" in msg and "no SavedModel was written" in msg
    assert "tf_env=create" in msg and tfserving.SETUP in msg
    assert not list(tmp_path.glob("deploy/*/tfserving"))


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None, reason="this Python has TensorFlow")
def test_plain_reason_when_no_tensorflow_anywhere(tmp_path, monkeypatch):
    from tensor_agent.tools.deploy.tfserving import tf_python

    monkeypatch.delenv("TENSOR_TF_PYTHON", raising=False)
    py, why = tf_python(tmp_path, create=False)
    assert py is None and why == "TensorFlow is not installed here"
    assert not (tmp_path / "envs").exists()  # nothing is created without tf_env=create
