"""SIGKILL during compression: the original model is byte-identical and the next start leaves no orphan."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tensor_agent.schema import Plan

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.integration

CHILD = r"""
import os, sys
from tensor_agent.config import Settings
from tensor_agent.schema import Plan
from tensor_agent.tools.core.context import ToolContext
from tensor_agent.tools.compress import compress_model
import torch
torch.set_num_threads(1)
ctx = ToolContext(settings=Settings.from_env(), thread_id="k", progress=False,
                  options={"model_path": sys.argv[1], "finetune_epochs": 200, "runs": 3, "dataset": "digits"})
compress_model(Plan(addressed=True, intents=["compress"], tools=["compress_model"], techniques=["pruning", "int8"],
                    text="x"), ctx)
"""


def _digest(d: Path) -> dict:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*"))
            if p.is_file()}


def _temps(home: Path) -> list[Path]:
    return [p for p in home.rglob(".tmp-compress-*")]


def test_sigkill_mid_compression_keeps_the_original_and_leaves_no_orphan(ctx, home):
    from tensor_agent.tools.compress import compress_model
    from tensor_agent.tools.core.model_store import save_model
    from tensor_agent.tools.core.zoo.registry import create_model

    h = create_model("cnn", variant="tiny", input_spec={"shape": [1, 8, 8]}, num_classes=10)
    h.dataset = "digits"
    orig = Path(save_model(h, ctx.settings.models_dir, name="orig"))
    before = _digest(orig)
    env = dict(os.environ, TENSOR_HOME=str(home), TQDM_DISABLE="1")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(orig)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 180
        while not _temps(home) and time.time() < deadline and child.poll() is None:
            time.sleep(0.2)
        time.sleep(3.0)  # well inside the 200-epoch fine-tune
        assert child.poll() is None, child.stderr.read()[-2000:]
        assert _temps(home), "the compression never started writing"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    assert _digest(orig) == before
    assert _temps(home)  # the killed run left its temp directory ...
    ctx.options = {"model_path": str(orig), "runs": 3, "dataset": "digits"}
    rep = compress_model(Plan(addressed=True, intents=["compress"], tools=["compress_model"],
                              techniques=["dynamic_int8"], text="x"), ctx)
    assert rep.results and not _temps(home)  # ... and the next start removed it
    assert _digest(orig) == before
