"""A small HTTP server for one model, written by tensor-agent's deployer (no tensor-agent needed to run it).

Routes:
    GET  /health     -> {"status": "ok"}
    GET  /metadata   -> the model's metadata.json (inputs, classes, format, limits)
    POST /predict    -> {"outputs": [[...], ...], "predictions": [...]}; body {"inputs": [...]} (one example or a
                        batch; several inputs as {"inputs": {"name": [...]}}), or {"texts": [...]} for text models
                        that ship a tokenizer.json

Run:  MODEL_DIR=. uvicorn app:app --host 0.0.0.0 --port 8080   (or: python app.py --port 8080)
Malformed input gets HTTP 400/413/422 with {"error": "..."} naming what is wrong.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MODEL_DIR = Path(os.environ.get("MODEL_DIR", Path(__file__).resolve().parent))
MAX_BODY = int(os.environ.get("MAX_BODY_BYTES", 8 * 1024 * 1024))
META = json.loads((MODEL_DIR / "metadata.json").read_text(encoding="utf-8"))
THREADS = int(os.environ.get("THREADS", "1"))


class BadInput(ValueError):
    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def _load_runner():
    fmt, path = META["format"], str(MODEL_DIR / META["model_file"])
    if fmt == "onnx":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = THREADS
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        names = [i.name for i in sess.get_inputs()]
        return lambda arrays: sess.run(None, dict(zip(names, arrays)))[0]
    if fmt == "xgboost-json":
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(path)
        booster.set_param({"nthread": THREADS})
        return lambda arrays: booster.inplace_predict(arrays[0])
    if fmt == "torchscript":
        import torch

        torch.set_num_threads(THREADS)
        module = torch.jit.load(path).eval()

        def run(arrays):
            with torch.no_grad():
                return module(*[torch.from_numpy(a) for a in arrays]).numpy()

        return run
    raise RuntimeError(f"unknown model format {fmt!r} in metadata.json")


RUN = _load_runner()
TOKENIZER = None
if META.get("tokenizer"):
    from tokenizers import Tokenizer

    TOKENIZER = Tokenizer.from_file(str(MODEL_DIR / META["tokenizer"]))
    TOKENIZER.enable_truncation(META["max_length"])
    TOKENIZER.enable_padding(length=META["max_length"])


def _array(value, spec: dict) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=spec["dtype"])
    except (TypeError, ValueError) as exc:
        raise BadInput(f"input '{spec['name']}' is not numeric ({exc})") from None
    shape = list(spec["shape"])
    if list(arr.shape) == shape:
        arr = arr[None]  # one example -> a batch of one
    if arr.ndim != len(shape) + 1 or list(arr.shape[1:]) != shape:
        raise BadInput(f"input '{spec['name']}' has shape {list(arr.shape)}; expected {shape} or [batch, {', '.join(map(str, shape))}]")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise BadInput(f"input '{spec['name']}' contains NaN or infinity")
    if arr.shape[0] > META["max_batch"]:
        raise BadInput(f"batch of {arr.shape[0]} is over the limit of {META['max_batch']}", status=413)
    return arr


def _inputs(body) -> list[np.ndarray]:
    specs = META["inputs"]
    if not isinstance(body, dict):
        raise BadInput('the body must be a JSON object such as {"inputs": [...]}', status=400)
    if "texts" in body:
        if TOKENIZER is None:
            raise BadInput("this model takes tensors, not texts: send {\"inputs\": ...}")
        texts = body["texts"]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise BadInput("'texts' must be a non-empty list of strings")
        ids = np.asarray([e.ids for e in TOKENIZER.encode_batch(texts)], dtype=specs[0]["dtype"])
        return [_array(ids, specs[0])]
    if "inputs" not in body:
        raise BadInput(f"missing 'inputs' (expected {', '.join(s['name'] for s in specs)})")
    raw = body["inputs"]
    if len(specs) == 1:
        return [_array(raw, specs[0])]
    if not isinstance(raw, dict) or set(raw) != {s["name"] for s in specs}:
        raise BadInput(f"'inputs' must be an object with keys {', '.join(s['name'] for s in specs)}")
    arrays = [_array(raw[s["name"]], s) for s in specs]
    if len({a.shape[0] for a in arrays}) != 1:
        raise BadInput("all inputs need the same batch size")
    return arrays


async def predict(request: Request) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
    try:
        body = json.loads(raw or b"null")
    except ValueError as exc:
        return JSONResponse({"error": f"the body is not valid JSON ({exc})"}, status_code=400)
    try:
        arrays = _inputs(body)
    except BadInput as exc:
        return JSONResponse({"error": str(exc)}, status_code=exc.status)
    out = np.asarray(RUN(arrays), dtype="float32")
    reply = {"outputs": out.tolist()}
    if META.get("task") == "classification" and out.ndim == 2 and out.shape[1] > 1:
        classes = META.get("classes") or [str(i) for i in range(out.shape[1])]
        reply["predictions"] = [classes[i] for i in out.argmax(1)]
    return JSONResponse(reply)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def metadata(request: Request) -> JSONResponse:
    return JSONResponse(META)


app = Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/health", health),
                        Route("/metadata", metadata)])

if __name__ == "__main__":
    import argparse

    import uvicorn

    ap = argparse.ArgumentParser(description="Serve one model over HTTP.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    a = ap.parse_args()
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning", access_log=False)
