"""Benchmark the planning path: CLI `ask --dry-run --json` wall time and warm `plan()` latency.

Targets (issue 2): CLI median <= 2 s on these machines (no torch on that path), plan() p50 <= 5 ms warm.
Run:  .venv/bin/python evals/bench_plan.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MESSAGES = [
    "@TENSOR design CNN architecture for image classification",
    "@TENSOR optimize model for inference on mobile devices",
    "@PRISM @TENSOR clean my churn table, then design and train a model for it",
    "@tensor what validation scheme should I use for my model?",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("tensor-agent")
    env = dict(os.environ, TENSOR_HOME=tempfile.mkdtemp(), TENSOR_PLANNER="rules")
    walls = []
    for i in range(args.runs):
        t0 = time.perf_counter()
        out = subprocess.run([str(exe), "ask", MESSAGES[i % len(MESSAGES)], "--dry-run", "--json"],
                             capture_output=True, text=True, env=env, check=True)
        walls.append(time.perf_counter() - t0)
        json.loads(out.stdout)
    probe = subprocess.run([sys.executable, "-c", "import sys, tensor_agent.cli as c; c.main(['ask', '@TENSOR design a CNN', '--dry-run', '--json']);"
                            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', 'LANGGRAPH' if 'langgraph' in sys.modules else 'NO-LANGGRAPH')"],
                           capture_output=True, text=True, env=env)
    from tensor_agent import TensorAgent

    agent = TensorAgent(env["TENSOR_HOME"])
    for m in MESSAGES:  # warm up
        agent.plan(m)
    lat = []
    for _ in range(200):
        for m in MESSAGES:
            t0 = time.perf_counter()
            agent.plan(m)
            lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    big = "@TENSOR design a CNN " + "x" * 1_000_000
    t0 = time.perf_counter()
    agent.plan(big)
    big_ms = (time.perf_counter() - t0) * 1000
    print(f"{'metric':42} {'value':>10}  target")
    print(f"{'ask --dry-run --json median wall (s)':42} {statistics.median(walls):>10.3f}  <= 2.0")
    print(f"{'ask --dry-run --json max wall (s)':42} {max(walls):>10.3f}")
    print(f"{'plan() p50 warm (ms)':42} {lat[len(lat) // 2]:>10.3f}  <= 5.0")
    print(f"{'plan() p99 warm (ms)':42} {lat[int(len(lat) * 0.99)]:>10.3f}")
    print(f"{'plan() on a 1 MB message (ms)':42} {big_ms:>10.1f}")
    print(f"{'modules on the dry-run path':42} {probe.stdout.strip().splitlines()[-1]:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
