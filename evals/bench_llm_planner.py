"""Benchmark of the LLM planner back-end over real HTTP (local scripted OpenAI-compatible server).

Usage: .venv/bin/python evals/bench_llm_planner.py [CASES.jsonl] [--n 30] [--timeout 1.0]

Prints one table:
  * import of tensor_agent.planner.llm (fresh interpreter): seconds, and whether openai/torch load;
  * llm_plan round trip against the local server (tool-call reply): p50 / p90 ms, which is the
    planner's own overhead (client, HTTP, validation, normalisation) on top of the model's time;
  * fallback wall time with the endpoint down (connection refused), with a server slower than
    the timeout (should be about the timeout) and with one trickling its answer byte by byte
    (cut by the hard deadline, timeout + 0.5 s);
  * oracle replay: every case of the eval set is answered by the server with its gold labels;
    the share of plans whose intents / modality / architecture / tools / peers come back exactly
    shows that normalisation never damages a correct model answer (expected 100%).

No network beyond 127.0.0.1 and no API key are needed.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tensor_agent.config import Settings  # noqa: E402


def _load_server():
    spec = importlib.util.spec_from_file_location("bench_llm_server", ROOT / "tests" / "llm_server.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _fallback():
    from tensor_agent.planner.rules import rules_plan

    return rules_plan, "rules_plan"


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="?", default=str(ROOT / "evals" / "cases.jsonl"))
    ap.add_argument("--n", type=int, default=30, help="round trips for the latency figures")
    ap.add_argument("--timeout", type=float, default=1.0, help="client timeout for the slow-server case")
    args = ap.parse_args()

    from tensor_agent.planner.llm import llm_plan

    srv_mod = _load_server()
    fallback, fb_name = _fallback()
    rows: list[tuple[str, str]] = []

    code = ("import time; t=time.perf_counter(); import sys, tensor_agent.planner.llm; "
            "print(round(time.perf_counter()-t, 3), 'openai' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.split()
    rows.append(("import tensor_agent.planner.llm", f"{out[0]} s (openai loaded: {out[1]}, torch: {out[2]})"))

    draft = {"intents": ["design"], "modality": "image", "architecture": "cnn", "peers": [],
             "constraints": [{"name": "num_classes", "value": 10, "text": "10 classes"}],
             "task": "classification", "clarification": None}
    text = "@TENSOR design CNN architecture for image classification with 10 classes"
    with tempfile.TemporaryDirectory() as tmp, srv_mod.ScriptedLLMServer() as server:
        settings = Settings(home=Path(tmp), planner="llm", llm_base_url=server.base_url, llm_timeout=10.0,
                            llm_model="scripted")
        llm_plan(text, settings, fallback=fallback)  # warm: openai import, prompt load
        times = []
        for _ in range(args.n):
            server.push_tool_call(draft)
            t0 = time.perf_counter()
            plan = llm_plan(text, settings, fallback=fallback)
            times.append((time.perf_counter() - t0) * 1000)
            assert plan.backend == "llm", plan.warnings
        rows.append((f"llm_plan round trip, local server (n={args.n})",
                     f"p50 {statistics.median(times):.1f} ms, p90 {_pct(times, 0.9):.1f} ms"))
        rules_t = []
        for _ in range(args.n):
            t0 = time.perf_counter()
            fallback(text)
            rules_t.append((time.perf_counter() - t0) * 1000)
        rows.append((f"fallback planner alone ({fb_name})", f"p50 {statistics.median(rules_t):.2f} ms"))

        down = dataclasses.replace(settings, llm_base_url=f"http://127.0.0.1:{srv_mod.free_port()}/v1")
        down_t = []
        for _ in range(5):
            t0 = time.perf_counter()
            plan = llm_plan(text, down, fallback=fallback)
            down_t.append((time.perf_counter() - t0) * 1000)
            assert plan.backend == "rules"
        rows.append(("fallback, endpoint down (n=5)", f"p50 {statistics.median(down_t):.1f} ms; "
                                                        f"warning: {plan.warnings[-1]!r}"))

        slow = dataclasses.replace(settings, llm_timeout=args.timeout)
        slow_t = []
        for _ in range(3):
            server.push_slow(args.timeout + 30)
            t0 = time.perf_counter()
            plan = llm_plan(text, slow, fallback=fallback)
            slow_t.append(time.perf_counter() - t0)
            assert plan.backend == "rules"
        rows.append((f"fallback, server slower than timeout={args.timeout:g}s (n=3)",
                     f"max {max(slow_t):.2f} s; warning: {plan.warnings[-1]!r}"))

        trickle_t = []
        for _ in range(2):
            server.push_trickle(args.timeout + 30)
            t0 = time.perf_counter()
            plan = llm_plan(text, slow, fallback=fallback)
            trickle_t.append(time.perf_counter() - t0)
            assert plan.backend == "rules"
        rows.append((f"fallback, server trickling bytes, timeout={args.timeout:g}s (n=2)",
                     f"max {max(trickle_t):.2f} s (hard deadline = timeout + 0.5 s)"))

        cases_path = Path(args.cases)
        if cases_path.is_file():
            cases = [json.loads(x) for x in cases_path.read_text(encoding="utf-8").splitlines() if x.strip()]
            cases = [c for c in cases if c.get("addressed") and c.get("intents")]
            ok = {k: 0 for k in ("intents", "modality", "architecture", "tools", "peers")}
            for c in cases:
                arch = c.get("architecture")
                gold_arch = arch[0] if isinstance(arch, list) and arch else arch
                server.push_tool_call({"intents": c["intents"], "modality": c.get("modality"),
                                       "architecture": gold_arch, "peers": list(reversed(c.get("peers", []))),
                                       "constraints": [], "task": None, "clarification": None})
                plan = llm_plan(c["text"], settings, fallback=fallback)
                ok["intents"] += plan.intents == c["intents"] and plan.backend == "llm"
                ok["modality"] += plan.modality == c.get("modality")
                ok["architecture"] += plan.architecture == gold_arch
                ok["tools"] += plan.tools == c["tools"]
                ok["peers"] += plan.peers == c["peers"]
            n = len(cases)
            rows.append((f"oracle replay of {cases_path.name} ({n} addressed cases)",
                         ", ".join(f"{k} {100 * v / n:.1f}%" for k, v in ok.items())))

    width = max(len(a) for a, _ in rows)
    print(f"{'measure':<{width}}  result")
    print("-" * (width + 60))
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
