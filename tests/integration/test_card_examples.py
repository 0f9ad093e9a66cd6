"""The card's five examples through the CLI, as a user runs them: no library noise on stderr without
--verbose, every line of the answer fits 80 columns, and each exits with a documented code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXAMPLES = [
    ("@TENSOR design CNN architecture for image classification", [], 0),
    ("@TENSOR implement transformer for sequence-to-sequence task", [], 0),
    ("@TENSOR optimize model for inference on mobile devices", [], 3),  # no model yet: said plainly
    ("@TENSOR fine-tune BERT for domain-specific NLP task", ["--set", "epochs=1", "--set", "time_budget_s=40"], 0),
    ("@TENSOR design diffusion model for image generation", [], 0),
]
NOISE = re.compile(r"\bINFO\b|Warning|WARNING|Loading weights|it/s\]|FutureWarning|DeprecationWarning|Traceback")


@pytest.mark.parametrize("text,extra,code", EXAMPLES, ids=[e[0].split()[1] + "-" + e[0].split()[2] for e in EXAMPLES])
def test_card_example_is_quiet_and_fits_80_columns(text, extra, code, tmp_path):
    exe = Path(sys.executable).with_name("tensor-agent")
    env = {**os.environ, "TENSOR_HOME": str(tmp_path / "home"), "COLUMNS": "80", "TENSOR_THREADS": "1"}
    env.pop("TENSOR_VERBOSE", None)
    proc = subprocess.run([str(exe), "ask", text, *extra], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    noisy = [line for line in proc.stderr.splitlines() if NOISE.search(line)]
    assert not noisy, noisy[:10]
    wide = [line for line in proc.stdout.splitlines() if len(line) > 80]
    assert not wide, wide[:5]
    assert proc.stdout.strip()
    if code:
        assert proc.stderr.startswith("error:") or "error:" in proc.stderr
