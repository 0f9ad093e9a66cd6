"""Cold-process answer times of the card's five examples (issue 11/17).

Each run is a fresh `tensor-agent ask "<message>"` subprocess on a fresh TENSOR_HOME with memory on
(as `make run` does), so imports, model builds, memory opening and the remember step all count.
The `make run` example (a design request, `--dry-run` off) is repeated and its median is compared
with the targets: <= 8 s (issue 11) and <= 6 s (issue 17).

    .venv/bin/python evals/bench_answers.py                 # five examples once, the design example x5
    .venv/bin/python evals/bench_answers.py --repeats 3 --skip-training
    .venv/bin/python evals/bench_answers.py --importtime    # top imports of the design example
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin" / "tensor-agent"
DESIGN = "@TENSOR design CNN architecture for image classification"
EXAMPLES = [
    DESIGN,
    "@TENSOR implement transformer for sequence-to-sequence task",
    "@TENSOR optimize model for inference on mobile devices",
    "@TENSOR fine-tune BERT for domain-specific NLP task",
    "@TENSOR design diffusion model for image generation",
]
TRAINS = {"@TENSOR fine-tune BERT for domain-specific NLP task"}
TARGET_11, TARGET_17 = 8.0, 6.0


def _env(home: str) -> dict:
    env = dict(os.environ, TENSOR_HOME=home, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", ANONYMIZED_TELEMETRY="False")
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


LAST_CPU = [0.0]


def run_once(message: str, *, timeout: float, extra: list[str] | None = None,
             env: dict | None = None) -> tuple[float, int, str]:
    """(wall seconds, exit code, last stderr line) of one cold `tensor-agent ask` on a fresh workspace.

    LAST_CPU[0] gets the CPU seconds (user + sys) the process and its children used: on a shared, loaded
    machine this is what the wall time would be on a quiet one (the answer path is single-threaded)."""
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as home:
        c0 = _child_cpu()
        t0 = time.perf_counter()
        try:
            p = subprocess.run([str(BIN), "ask", message, *(extra or [])], env={**_env(home), **(env or {})},
                               capture_output=True,
                               text=True, timeout=timeout)
            rc, err = p.returncode, (p.stderr.strip().splitlines() or [""])[-1]
        except subprocess.TimeoutExpired:
            rc, err = 124, f"timed out after {timeout:g} s"
        wall = time.perf_counter() - t0
        LAST_CPU[0] = _child_cpu() - c0
        return wall, rc, err


def importtime(message: str, top: int = 15) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as home:
        p = subprocess.run([sys.executable, "-X", "importtime", "-m", "tensor_agent.cli", "ask", message],
                           env=_env(home), capture_output=True, text=True)
    rows = []
    for line in p.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cum, name = line.split("|")
            if not name.startswith("  ") and cum.strip().isdigit():
                rows.append((int(cum) / 1e6, name.strip()))
    print(f"top-level imports of {message!r} (cumulative s):")
    for s, name in sorted(rows, reverse=True)[:top]:
        print(f"  {s:6.2f}  {name}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs of the design example (median reported)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    ap.add_argument("--skip-training", action="store_true", help="leave out the example that trains (BERT)")
    ap.add_argument("--importtime", action="store_true", help="print the design example's top imports and exit")
    args = ap.parse_args(argv)
    if args.importtime:
        importtime(DESIGN)
        return 0
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"cold-process answers, fresh TENSOR_HOME, memory on (load average {load:.2f}, {os.cpu_count()} CPUs)")
    print(f"{'example':58s} {'wall s':>7s} {'CPU s':>6s} {'exit':>4s}")
    for msg in EXAMPLES:
        if args.skip_training and msg in TRAINS:
            print(f"{msg[:58]:58s} {'skipped':>7s}")
            continue
        wall, rc, err = run_once(msg, timeout=args.timeout)
        print(f"{msg[:58]:58s} {wall:7.2f} {LAST_CPU[0]:6.2f} {rc:4d}" + (f"  ({err[:60]})" if rc else ""))
    walls, cpus, serial = [], [], []
    for _ in range(max(1, args.repeats)):  # interleaved: the tool worker on (the default) and off
        wall, rc, _err = run_once(DESIGN, timeout=args.timeout)
        walls.append(wall)
        cpus.append(LAST_CPU[0])
        serial.append(run_once(DESIGN, timeout=args.timeout, env={"TENSOR_TOOL_WORKER": "0"})[0])
    med, cpu = statistics.median(walls), statistics.median(cpus)
    nm_w = [run_once(DESIGN, timeout=args.timeout, extra=["--no-memory"])[0]
            for _ in range(max(1, min(3, args.repeats)))]
    print(f"\ndesign example (--dry-run off), {len(walls)} cold runs: median wall {med:.2f} s "
          f"(min {min(walls):.2f}, max {max(walls):.2f}); CPU of all its processes {cpu:.2f} s")
    for name, target in (("issue 11", TARGET_11), ("issue 17", TARGET_17)):
        print(f"  vs {name} target <= {target:g} s: {'met' if med <= target else 'NOT met'}")
    print(f"  same runs, tools in the CLI process (TENSOR_TOOL_WORKER=0), interleaved: median wall "
          f"{statistics.median(serial):.2f} s")
    print(f"  with --no-memory: median wall {statistics.median(nm_w):.2f} s")
    try:
        print(f"  load average after the runs: {os.getloadavg()[0]:.2f}")
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
