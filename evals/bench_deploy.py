"""Serving benchmark: the Docker context's app started locally (127.0.0.1) vs in-process ONNX Runtime.

Prints p50/p99 latency and requests/s at concurrency 1 and 8 for the digits CNN (batch 1), and the HTTP
overhead over in-process ONNX Runtime (goal: <= 3 ms p50 at batch 1).

    python evals/bench_deploy.py [--requests 400] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _post(url: str, data: bytes) -> float:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
    return (time.perf_counter() - t0) * 1000


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("TENSOR_THREADS", "1")
    import numpy as np
    import onnxruntime as ort

    from tensor_agent.config import Settings
    from tensor_agent.schema import Plan
    from tensor_agent.tools.core.context import ToolContext
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import fit
    from tensor_agent.tools.core.zoo.registry import create_model
    from tensor_agent.tools.deploy import deploy_model

    data = load_dataset("digits", seed=0)
    handle = create_model("cnn", input_spec=data.input_spec, num_classes=10)
    fit(handle.module, data, TrainConfig(epochs=args.epochs))
    ctx = ToolContext(settings=Settings.from_env(tempfile.mkdtemp()), thread_id="bench", options={}, progress=False)
    ctx.set_model(handle)
    report = deploy_model(Plan(addressed=True, intents=["deploy"], deploy_targets=["local"]), ctx)
    local = report.targets[0]
    try:
        x = data.test.tensors[0][:1].numpy()
        body = json.dumps({"inputs": x.tolist()}).encode()
        url = local.url + "/predict"
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(Path(local.path) / "model.onnx"), so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        for _ in range(30):
            sess.run(None, {name: x})
            _post(url, body)
        inproc = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            sess.run(None, {name: x.astype(np.float32)})
            inproc.append((time.perf_counter() - t0) * 1000)
        print(f"in-process ONNX Runtime, batch 1: p50 {_pct(inproc, .5):.3f} ms, p99 {_pct(inproc, .99):.3f} ms")
        p50_http = None
        for conc in (1, 8):
            t0 = time.perf_counter()
            with ThreadPoolExecutor(conc) as pool:
                lat = list(pool.map(lambda _: _post(url, body), range(args.requests)))
            wall = time.perf_counter() - t0
            print(f"HTTP /predict, batch 1, concurrency {conc}: p50 {_pct(lat, .5):.2f} ms, p99 {_pct(lat, .99):.2f} ms, "
                  f"{args.requests / wall:.0f} requests/s")
            if conc == 1:
                p50_http = _pct(lat, .5)
        overhead = p50_http - statistics.median(inproc)
        print(f"HTTP overhead over in-process ONNX Runtime (p50, batch 1): {overhead:.2f} ms (goal <= 3 ms: "
              f"{'met' if overhead <= 3 else 'NOT met'})")
    finally:
        os.kill(local.pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
