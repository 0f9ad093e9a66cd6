"""Target `tfserving`: a SavedModel layout (`<name>/<version>/saved_model.pb`) that TF Serving loads.

TensorFlow is not installed with tensor-agent: it is a second deep-learning runtime beside torch (measured
here: tensorflow 2.21 + onnx2tf and its helpers = ~2 GB, 3-4 min to install), so it lives in a separate
Python. Which one, in this order: TENSOR_TF_PYTHON; the environment this target created before under
$TENSOR_HOME/envs/tfserving; the running Python if it has TensorFlow; or, with the option `tf_env=create`, a new
venv there (the packages in TF_PACKAGES; one-line manual setup in SETUP). Without any of them the target says
so plainly and writes nothing.

The TensorFlow side (tf_convert.py, run in that Python) converts the parity-checked ONNX export with onnx2tf,
saves a `serving_default` signature that takes the input in the layout metadata.json states (NCHW for
images: the NCHW->NHWC transpose is inside the graph), loads the saved copy back with tf.saved_model.load
and compares it with ONNX Runtime on a fresh batch (max abs diff <= 1e-4, else nothing is delivered).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Optional

from tensor_agent.tools.deploy.common import image_name
from tensor_agent.tools.deploy.registry import TargetResult, register_target

PARITY_TOL = 1e-4
CONVERTER = Path(__file__).resolve().parent / "tf_convert.py"
#: what the TensorFlow side needs (onnx2tf imports all of these); `tensorflow`, not `tensorflow-cpu`: tf_keras
#: depends on `tensorflow` and would install it a second time beside tensorflow-cpu
TF_PACKAGES = ["tensorflow==2.21.0", "tf_keras==2.21.0", "onnx2tf==1.28.8", "onnx", "onnx_graphsurgeon",
               "sng4onnx", "sne4onnx", "psutil", "ai_edge_litert"]
SETUP = ("python3 -m venv ~/tfenv && ~/tfenv/bin/pip install " + " ".join(TF_PACKAGES)
         + " && export TENSOR_TF_PYTHON=~/tfenv/bin/python")
_QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "TF_ENABLE_ONEDNN_OPTS": "0"}


def _has_tf(py: str) -> bool:
    try:
        probe = subprocess.run([py, "-c", "import tensorflow, onnx2tf"], capture_output=True, timeout=180,
                               env={**os.environ, **_QUIET})
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _create_env(env_dir: Path, progress: bool) -> Optional[str]:
    """A new venv with TF_PACKAGES under `env_dir` (minutes); its python, or None when pip failed."""
    if progress:
        print(f"[tfserving] creating the TensorFlow environment {env_dir} (~2 GB, a few minutes) ...",
              file=sys.stderr, flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = str(env_dir / "bin" / "python")
    proc = subprocess.run([py, "-m", "pip", "install", "-q", *TF_PACKAGES], capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode != 0:
        shutil.rmtree(env_dir, ignore_errors=True)
        return None
    return py


def tf_python(home: Path, create: bool = False, progress: bool = False) -> tuple[Optional[str], str]:
    """(python with TensorFlow and onnx2tf or None, where it came from / why there is none)."""
    env_dir = Path(home) / "envs" / "tfserving"
    named = os.environ.get("TENSOR_TF_PYTHON")
    if named:
        ok = _has_tf(named)
        return (named, "TENSOR_TF_PYTHON") if ok else (None, f"TENSOR_TF_PYTHON={named} cannot import tensorflow and onnx2tf")
    own = env_dir / "bin" / "python"
    if own.exists() and _has_tf(str(own)):
        return str(own), f"the environment {env_dir}"
    if _has_tf(sys.executable):
        return sys.executable, "this Python"
    if create:
        py = _create_env(env_dir, progress)
        return (py, f"the environment {env_dir} (created now)") if py else (None, f"pip could not create {env_dir}")
    return None, "TensorFlow is not installed here"


def _sample(bundle):
    """(fresh float32 inputs as numpy, ONNX Runtime's outputs on them)."""
    import numpy as np
    import onnxruntime as ort

    from tensor_agent.tools.core.zoo.registry import example_inputs_for

    x = example_inputs_for(bundle.handle, 4)[0]
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    sess = ort.InferenceSession(str(bundle.dir / bundle.model_file), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})[0]
    return x.astype(np.float32), want


def _layout(bundle) -> str:
    return "NCHW" if len(bundle.metadata["inputs"][0]["shape"]) == 3 else "the ONNX layout"


def _not_built(reason: str) -> TargetResult:
    return TargetResult(target="tfserving", ok=False, reason=reason)


def _convert(py: str, bundle, version_dir: Path) -> dict:
    """Run tf_convert.py in `py`; its JSON report, or {'error': ...}."""
    import numpy as np

    x, want = _sample(bundle)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", x)
        np.save(Path(tmp) / "want.npy", want)
        cmd = [py, str(CONVERTER), str(bundle.dir / bundle.model_file), str(version_dir), str(Path(tmp) / "x.npy"),
               str(Path(tmp) / "want.npy"), bundle.metadata["inputs"][0]["name"]]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ, **_QUIET},
                                  cwd=tmp)
        except subprocess.TimeoutExpired:
            return {"error": "the conversion ran past 900 s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"onnx2tf/TensorFlow failed: {tail[-300:]}"}
    return json.loads(lines[-1])


def _write_extras(bundle, version_dir: Path, base: Path, name: str, info: dict) -> list[Path]:
    """assets.extra/metadata.json (layout, signature) and a request.json for curl."""
    extra = version_dir / "assets.extra"
    extra.mkdir(exist_ok=True)
    layout = _layout(bundle)
    meta = {**bundle.metadata, "format": "tf-savedmodel", "model_name": name, "version": 1,
            "signature": "serving_default", "signature_inputs": info["inputs"], "signature_outputs": info["outputs"],
            "input_layout": layout, "tensorflow": info["tensorflow"], "onnx2tf": info["onnx2tf"],
            "parity_vs_onnxruntime": info["max_abs_diff"]}
    (extra / "metadata.json").write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
    request = base.parent / "request.json"
    request.write_text(json.dumps({"signature_name": "serving_default", "instances": bundle.example}), encoding="utf-8")
    return [extra / "metadata.json", request]


@register_target("tfserving")
def tfserving_target(bundle, ctx, options: dict) -> TargetResult:
    name = image_name(bundle)
    if bundle.format != "onnx":
        return _not_built(f"TF Serving needs a SavedModel; this model is served as {bundle.format}, which has no "
                          "TensorFlow conversion")
    inputs = bundle.metadata.get("inputs") or []
    if len(inputs) != 1 or inputs[0].get("dtype") != "float32" or bundle.metadata.get("tokenizer"):
        return _not_built("the TF Serving conversion here takes models with one float32 input (images, tables); "
                          "serve this one with the docker or torchserve target")
    py, origin = tf_python(ctx.settings.home, create=options.get("tf_env") == "create", progress=ctx.progress)
    if py is None:
        return _not_built(f"{origin}, so no SavedModel was written. TensorFlow lives in its own environment "
                          f"(~2 GB): ask again with tf_env=create, or run `{SETUP}`; the ONNX model in the "
                          "Docker context serves the same network.")
    base = Path(options["out_dir"]) / "tfserving" / name
    version_dir = base / "1"
    info = _convert(py, bundle, version_dir)
    if "error" in info or not (version_dir / "saved_model.pb").exists():
        shutil.rmtree(base, ignore_errors=True)
        return _not_built(info.get("error", "no saved_model.pb was written"))
    if info["max_abs_diff"] > PARITY_TOL:
        shutil.rmtree(base, ignore_errors=True)
        return _not_built(f"the SavedModel does not reproduce the model (max abs diff {info['max_abs_diff']:.3g} "
                          f"> {PARITY_TOL:g} vs ONNX Runtime); nothing was delivered. INT8 ONNX (quantized) models "
                          "convert only approximately: deploy the float model to TF Serving")
    extras = _write_extras(bundle, version_dir, base, name, info)
    files = sorted(str(p) for p in version_dir.rglob("*") if p.is_file()) + [str(extras[1])]
    return TargetResult(
        target="tfserving", ok=True, path=str(version_dir), files=files,
        commands=[f"docker run --rm -p 8501:8501 -v {base}:/models/{name} -e MODEL_NAME={name} tensorflow/serving",
                  f"curl -s -X POST http://127.0.0.1:8501/v1/models/{name}:predict -d @{extras[1]}"],
        checks=[f"tf.saved_model.load of {version_dir} (TensorFlow {info['tensorflow']}, {origin}) on a fresh batch "
                f"matches ONNX Runtime: max abs diff {info['max_abs_diff']:.2g} <= {PARITY_TOL:g}",
                f"signature serving_default takes {info['inputs']} ({_layout(bundle)}, as metadata.json says) "
                f"and returns {info['outputs']}"])
