"""Benchmark of the architecture designer: per family, build time, parameters, size, FLOPs and latency.

Usage:  .venv/bin/python evals/bench_design.py [--variant tiny|default] [--batch 1] [--threads 1] [--runs 20]
        .venv/bin/python evals/bench_design.py --search      # also time the constraint searches
        .venv/bin/python evals/bench_design.py --macs        # hook MAC counter vs FlopCounterMode, cold

Latency is the median of `--runs` forward passes on this machine's CPU (shared machines are noisy: the
table states the batch size and threads used).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", choices=["tiny", "default"], default="default")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--families", default="", help="comma-separated subset")
    ap.add_argument("--search", action="store_true", help="also time constraint searches")
    ap.add_argument("--macs", action="store_true", help="compare the MAC counters (fresh processes) and exit")
    args = ap.parse_args(argv)
    if args.macs:
        return compare_mac_counters()

    import torch  # noqa: F401 - imported here so build times exclude the torch import

    from tensor_agent.tools.design import create_model, get_family, list_families
    from tensor_agent.tools.core.zoo.search import measure_handle

    fams = [f for f in args.families.split(",") if f] or list_families()
    header = f"{'family':<13}{'variant':<24}{'cold_s':>7}{'build_s':>8}{'params':>13}{'size_MB':>9}{'MFLOPs':>11}" \
             f"{'latency_ms':>12}{'peak_MB':>9}  output"
    print(f"# batch={args.batch} threads={args.threads} runs={args.runs} variant={args.variant}")
    print(header)
    print("-" * len(header))
    for name in fams:
        fam = get_family(name)
        variant = fam.tiny_variant if args.variant == "tiny" else fam.default_variant
        t0 = time.perf_counter()
        create_model(name, variant=variant)  # cold: includes the family's library import
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        handle = create_model(name, variant=variant)
        build_s = time.perf_counter() - t0
        m = measure_handle(handle, batch_size=args.batch, threads=args.threads, runs=args.runs, full=True)
        mflops = "-" if m.flops is None else f"{m.flops / 1e6:,.1f}"
        print(f"{name:<13}{variant:<24}{cold_s:>7.2f}{build_s:>8.2f}{m.params:>13,}{m.size_mb:>9.2f}{mflops:>11}"
              f"{m.latency_ms_median:>12.2f}{m.peak_mem_mb:>9.1f}  {m.output_shape}")
        sys.stdout.flush()
    if args.search:
        from tensor_agent.tools.design import design_for

        print()
        print(f"{'search':<58}{'seconds':>8}  result")
        cases = [
            ("image, <=2M params, <=10 ms (CPU)", None, "image", {"max_params": 2_000_000, "latency_ms": 10}),
            ("image, mobile", None, "image", {"device": "mobile"}),
            ("image 224x224, <=5 MB, mobile", None, "image",
             {"input_shape": [224, 224], "size_mb": 5, "device": "mobile"}),
            ("image, <=1000 params (infeasible)", None, "image", {"max_params": 1000}),
            ("text bert, <=5M params", "bert", "text", {"max_params": 5_000_000}),
            ("graph, default", None, "graph", {}),
        ]
        for label, family, modality, cons in cases:
            t0 = time.perf_counter()
            d, _ = design_for(family, modality=modality, constraints=cons)
            dt = time.perf_counter() - t0
            status = "ok" if d.feasible else "INFEASIBLE: " + "; ".join(d.violations)
            print(f"{label:<58}{dt:>8.2f}  {d.family}/{d.variant} {d.params:,} params, "
                  f"{d.size_mb:.2f} MB, {d.latency_ms:.2f} ms ({status})")
    return 0


_MACS_CODE = """
import sys, time, torch
from tensor_agent.tools.design import create_model, example_inputs_for
h = create_model('cnn', variant='small', input_spec={'shape': [3, 32, 32]}); h.module.eval()
x = example_inputs_for(h, 1)
with torch.inference_mode():
    h.module(*x)  # the first forward (kernel set-up) is not the counter's cost
t = time.perf_counter()
if sys.argv[1] == 'hooks':
    from tensor_agent.tools.core.measure import count_macs
    macs = count_macs(h.module, x)
else:
    from torch.utils.flop_counter import FlopCounterMode
    with torch.inference_mode(), FlopCounterMode(display=False) as c:
        h.module(*x)
    macs = c.get_total_flops() // 2
print(macs, time.perf_counter() - t, 'torch._dynamo' in sys.modules)
"""


def compare_mac_counters() -> int:
    """First MAC count in a fresh process: forward hooks + torch-function mode vs FlopCounterMode."""
    import subprocess

    print(f"{'counter':<16}{'MACs':>14}{'first count s':>15}  torch._dynamo imported")
    for how in ("hooks", "flopcounter"):
        out = subprocess.run([sys.executable, "-c", _MACS_CODE, how], capture_output=True, text=True,
                             check=True).stdout.split()
        print(f"{how:<16}{int(out[0]):>14,}{float(out[1]):>15.3f}  {out[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
