"""Target `tfserving`: a SavedModel layout (`<name>/<version>/saved_model.pb`) that TF Serving loads.

TensorFlow is not installed with tensor-agent (it is a second deep-learning runtime of ~600 MB beside
torch). When `tensorflow` and `onnx2tf` can be imported (`pip install tensorflow-cpu onnx2tf`, or a
separate environment named by TENSOR_TF_PYTHON), the ONNX export is converted; otherwise the target
says so plainly and writes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tensor_agent.tools.deploy.common import image_name
from tensor_agent.tools.deploy.registry import TargetResult, register_target

CONVERT = ("import sys, onnx2tf; onnx2tf.convert(input_onnx_file_path=sys.argv[1], output_folder_path=sys.argv[2], "
           "non_verbose=True, output_signaturedefs=True)")


def _python() -> str | None:
    py = os.environ.get("TENSOR_TF_PYTHON") or sys.executable
    probe = subprocess.run([py, "-c", "import tensorflow, onnx2tf"], capture_output=True, timeout=120)
    return py if probe.returncode == 0 else None


@register_target("tfserving")
def tfserving_target(bundle, ctx, options: dict) -> TargetResult:
    name = image_name(bundle)
    if bundle.format != "onnx":
        return TargetResult(target="tfserving", ok=False,
                            reason=f"TF Serving needs a SavedModel; this model is served as {bundle.format}, "
                                   "which has no TensorFlow conversion")
    py = _python()
    if py is None:
        return TargetResult(target="tfserving", ok=False,
                            reason="TensorFlow is not installed here, so no SavedModel was written. Install "
                                   "`tensorflow-cpu onnx2tf` (or point TENSOR_TF_PYTHON at a Python that has them) "
                                   "and ask again; the ONNX model in the Docker context serves the same network.")
    out = Path(options["out_dir"]) / "tfserving" / name / "1"
    proc = subprocess.run([py, "-c", CONVERT, str(bundle.dir / bundle.model_file), str(out)], capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0 or not (out / "saved_model.pb").exists():
        return TargetResult(target="tfserving", ok=False, reason=f"onnx2tf failed: {proc.stderr.strip()[-300:]}")
    base = out.parent.parent
    return TargetResult(target="tfserving", ok=True, path=str(out), files=[str(out / "saved_model.pb")],
                        commands=[f"docker run --rm -p 8501:8501 -v {base}:/models -e MODEL_NAME={name} tensorflow/serving",
                                  f"curl -s -X POST http://127.0.0.1:8501/v1/models/{name}:predict -d '{{\"instances\": ...}}'"],
                        checks=["saved_model.pb written by onnx2tf from the parity-checked ONNX export"])
