"""torchrun --nproc-per-node 2 (gloo, CPU) trains the digits CNN like one process: with dropout off the only
differences are floating-point summation order and the split of the last, uneven batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # two torch processes: ~30 s quiet


def _run(cmd, out, env):
    proc = subprocess.run([*cmd, "-m", "tensor_agent.tools.core.engine.ddp", "--epochs", "2", "--dropout", "0",
                           "--variant", "micro", "--out", str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-1500:]
    return json.loads(out.read_text())


def test_two_ranks_match_one_process(tmp_path, home):
    env = dict(os.environ, TENSOR_THREADS="1", OMP_NUM_THREADS="1")
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    one = _run([sys.executable], tmp_path / "one.json", env)
    two = _run([torchrun, "--nproc-per-node", "2", "--master-port", "29531"], tmp_path / "two.json", env)
    assert (one["world_size"], two["world_size"], two["backend"]) == (1, 2, "gloo")
    assert abs(one["test"]["accuracy"] - two["test"]["accuracy"]) <= 0.005
    assert two["test"]["loss"] == pytest.approx(one["test"]["loss"], rel=0.03)
