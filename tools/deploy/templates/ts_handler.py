"""TorchServe handler written by tensor-agent: serves the model next to it (ONNX Runtime, XGBoost or TorchScript).

TorchServe calls `initialize(context)`, then per batch `preprocess(requests) -> inference -> postprocess`.
Each request body is {"inputs": [...]} (one example or a batch) or {"texts": [...]} for text models.
Works without the `ts` package too (for tests), reading `model_dir` from the context it is given.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

try:  # inside TorchServe
    from ts.torch_handler.base_handler import BaseHandler
except ImportError:  # pragma: no cover - outside TorchServe
    BaseHandler = object


class TensorHandler(BaseHandler):
    def __init__(self):
        self.initialized = False
        self.meta: dict = {}
        self.run = None
        self.tokenizer = None

    def initialize(self, context):
        model_dir = Path(context.system_properties.get("model_dir"))
        self.meta = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        path = str(model_dir / self.meta["model_file"])
        fmt = self.meta["format"]
        if fmt == "onnx":
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.log_severity_level = 3
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            names = [i.name for i in sess.get_inputs()]
            self.run = lambda arrays: sess.run(None, dict(zip(names, arrays)))[0]
        elif fmt == "xgboost-json":
            import xgboost as xgb

            booster = xgb.Booster()
            booster.load_model(path)
            self.run = lambda arrays: booster.inplace_predict(arrays[0])
        else:
            import torch

            module = torch.jit.load(path).eval()
            self.run = lambda arrays: module(*[torch.from_numpy(a) for a in arrays]).detach().numpy()
        if self.meta.get("tokenizer"):
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(model_dir / self.meta["tokenizer"]))
            self.tokenizer.enable_truncation(self.meta["max_length"])
            self.tokenizer.enable_padding(length=self.meta["max_length"])
        self.initialized = True

    def _one(self, body) -> list[np.ndarray]:
        if isinstance(body, (bytes, bytearray)):
            body = json.loads(body)
        specs = self.meta["inputs"]
        if isinstance(body, dict) and "texts" in body and self.tokenizer is not None:
            ids = [e.ids for e in self.tokenizer.encode_batch(list(body["texts"]))]
            return [np.asarray(ids, dtype=specs[0]["dtype"])]
        raw = body["inputs"] if isinstance(body, dict) else body
        raws = [raw] if len(specs) == 1 else [raw[s["name"]] for s in specs]
        out = []
        for value, spec in zip(raws, specs):
            arr = np.asarray(value, dtype=spec["dtype"])
            if list(arr.shape) == list(spec["shape"]):
                arr = arr[None]
            if list(arr.shape[1:]) != list(spec["shape"]):
                raise ValueError(f"input {spec['name']} has shape {list(arr.shape)}, expected [batch, *{spec['shape']}]")
            out.append(arr)
        return out

    def preprocess(self, requests):
        """One list of arrays per request, and the batch sizes to split the outputs again."""
        per = [self._one(r.get("body", r.get("data")) if isinstance(r, dict) else r) for r in requests]
        sizes = [p[0].shape[0] for p in per]
        arrays = [np.concatenate([p[i] for p in per]) for i in range(len(per[0]))]
        return arrays, sizes

    def inference(self, data):
        arrays, sizes = data
        return np.asarray(self.run(arrays), dtype="float32"), sizes

    def postprocess(self, data):
        out, sizes = data
        replies, start = [], 0
        for n in sizes:
            chunk = out[start:start + n]
            start += n
            reply = {"outputs": chunk.tolist()}
            if self.meta.get("task") == "classification" and chunk.ndim == 2 and chunk.shape[1] > 1:
                classes = self.meta.get("classes") or [str(i) for i in range(chunk.shape[1])]
                reply["predictions"] = [classes[i] for i in chunk.argmax(1)]
            replies.append(reply)
        return replies

    def handle(self, data, context):
        if not self.initialized:
            self.initialize(context)
        return self.postprocess(self.inference(self.preprocess(data)))


_service = TensorHandler()


def handle(data, context):
    """Module-level entry point TorchServe also accepts."""
    if data is None:
        return None
    return _service.handle(data, context)
