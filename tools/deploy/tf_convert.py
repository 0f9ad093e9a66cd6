"""ONNX -> TF Serving SavedModel, run as a script by a Python that has TensorFlow and onnx2tf.

Usage: python tf_convert.py MODEL.onnx OUT_DIR SAMPLE.npy EXPECTED.npy INPUT_NAME
It imports nothing from tensor-agent (the TensorFlow environment is a separate one). Steps:
onnx2tf converts the ONNX graph into a raw SavedModel (input kept in the ONNX layout, e.g. NCHW), a
`serving_default` signature taking `INPUT_NAME` with the ONNX shape and returning `output` is saved to
OUT_DIR (the `<name>/<version>` folder TF Serving loads), the saved copy is loaded back with
`tf.saved_model.load`, run on SAMPLE and compared with EXPECTED (ONNX Runtime's output). The last line of
stdout is one JSON object: max_abs_diff, signature input/output specs, TensorFlow and onnx2tf versions.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile


def _raw_savedmodel(onnx_path: str, work: str, input_name: str) -> str:
    import onnx2tf

    raw = os.path.join(work, "raw")
    # keep the ONNX input layout (NCHW): onnx2tf inserts the NCHW->NHWC transpose inside the graph
    onnx2tf.convert(input_onnx_file_path=onnx_path, output_folder_path=raw, non_verbose=True,
                    keep_shape_absolutely_input_names=[input_name], output_signaturedefs=True,
                    copy_onnx_input_output_names_to_tflite=True)
    return raw


def _serving_module(raw_dir: str, shape: list, input_name: str):
    import tensorflow as tf

    inner = tf.saved_model.load(raw_dir)
    fn = inner.signatures["serving_default"]
    arg = next(iter(fn.structured_input_signature[1]))  # the raw signature's only input name
    out_key = sorted(fn.structured_outputs)[0]

    class Serve(tf.Module):
        def __init__(self):
            super().__init__()
            self.inner = inner

        @tf.function(input_signature=[tf.TensorSpec([None, *shape], tf.float32, name=input_name)])
        def serve(self, x):  # x: (B, *shape) in the ONNX layout, as metadata.json says
            return {"output": fn(**{arg: x})[out_key]}

    return Serve()


def main(argv: list[str]) -> int:
    onnx_path, out_dir, sample_path, expected_path, input_name = argv[1:6]
    import numpy as np
    import tensorflow as tf

    sample = np.load(sample_path)          # (B, C, H, W) float32
    expected = np.load(expected_path)      # (B, num_outputs) from ONNX Runtime
    with tempfile.TemporaryDirectory() as work:
        raw = _raw_savedmodel(onnx_path, work, input_name)
        module = _serving_module(raw, list(sample.shape[1:]), input_name)
        if os.path.isdir(out_dir):
            shutil.rmtree(out_dir)
        tf.saved_model.save(module, out_dir, signatures={"serving_default": module.serve})
    loaded = tf.saved_model.load(out_dir)  # what TF Serving reads: the saved copy, not the in-memory module
    sig = loaded.signatures["serving_default"]
    got = sig(**{input_name: tf.constant(sample)})["output"].numpy()
    import onnx2tf

    report = {"max_abs_diff": float(np.abs(got - expected).max()), "output_shape": list(got.shape),
              "inputs": {k: [str(v.shape), v.dtype.name] for k, v in sig.structured_input_signature[1].items()},
              "outputs": {k: [str(v.shape), v.dtype.name] for k, v in sig.structured_outputs.items()},
              "tensorflow": tf.__version__, "onnx2tf": getattr(onnx2tf, "__version__", "?")}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
