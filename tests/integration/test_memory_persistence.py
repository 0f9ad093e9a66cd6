"""Multi-process persistence of the embedded store, with real subprocesses (and SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tensor_agent.config import Settings
from tensor_agent.memory import open_memory

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# Writes N outcome records in batches of B (one locked upsert per batch), printing each committed id.
WRITER = r"""
import sys
from tensor_agent.config import Settings
from tensor_agent.memory import open_memory
from tensor_agent.memory.records import OutcomeRecord
from tensor_agent.memory.embed import get_model
home, tag, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
shared = int(sys.argv[5]) if len(sys.argv) > 5 else 0
get_model()
mem = open_memory(Settings.from_env(home=home))
print("ready", flush=True)
def rec(t, i):
    return OutcomeRecord(family="mlp" if i % 2 else "xgboost", modality="tabular", task="classification",
                         dataset="wine", metric="accuracy", value=0.9 + (i % 10) / 100, run_key=f"{t}-{i}",
                         plan_text=f"@TENSOR train request {i} of writer {t}")
for i in range(shared):  # records every writer writes: stable ids make them one copy
    for rid in mem.write([rec("S", i)]):
        print("committed", rid, flush=True)
for start in range(0, n, batch):
    recs = [rec(tag, i) for i in range(start, min(n, start + batch))]
    for rid in mem.write(recs):
        print("committed", rid, flush=True)
mem.close()
print("done", flush=True)
"""


def _env(home: Path, **extra: str) -> dict:
    env = dict(os.environ, TENSOR_HOME=str(home), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("TENSOR_CHROMA_URL", None)
    env.update(extra)
    return env


def _writer(home: Path, tag: str, n: int, batch: int, shared: int = 0, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(home), tag, str(n), str(batch), str(shared)], cwd=REPO,
                            env=_env(home, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _committed(stdout: str) -> list[str]:
    return [line.split()[1] for line in stdout.splitlines() if line.startswith("committed ")]


def check_all_present(mem, ids: list[str]) -> None:
    """Every id is stored once (exact: count and list), and the vector index finds them (HNSW is
    approximate, so a k=everything query after upserts may miss a node or two)."""
    assert mem.count() == len(set(ids))
    stored = {r["id"] for r in mem.list("outcome")}
    assert stored == set(ids)
    hits = mem.search("train outcome of mlp for tabular classification on wine", k=len(ids))
    found = {h["id"] for h in hits}
    assert found <= set(ids) and len(found) >= 0.99 * len(set(ids))


def test_two_processes_writing_500_each_lose_and_duplicate_nothing(tmp_path):
    """Two writer processes at once, 500 records each (plus 20 both write); a third process reads them."""
    home = tmp_path / "ws"
    procs = [_writer(home, "A", 500, 10, shared=20), _writer(home, "B", 500, 10, shared=20)]
    outs = [p.communicate(timeout=400) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    ids = [i for o in outs for i in _committed(o[0])]
    assert len(ids) == 1040 and len(set(ids)) == 1020  # the 20 shared records were written twice
    # this (third) process reads what the writers committed; writing the shared ones again changes nothing
    mem = open_memory(Settings.from_env(home=home))
    try:
        from tensor_agent.memory.records import OutcomeRecord

        again = mem.write([OutcomeRecord(family="mlp" if i % 2 else "xgboost", modality="tabular",
                                         task="classification", dataset="wine", metric="accuracy",
                                         value=0.9 + (i % 10) / 100, run_key=f"S-{i}",
                                         plan_text=f"@TENSOR train request {i} of writer S") for i in range(20)])
        assert set(again) <= set(ids)
        check_all_present(mem, sorted(set(ids)))
    finally:
        mem.close()


def test_sigkill_mid_write_leaves_every_committed_record(tmp_path):
    home = tmp_path / "ws"
    w = _writer(home, "K", 5000, 1)  # one record per locked write, far more than it gets to write
    committed: list[str] = []
    deadline = time.time() + 180
    assert w.stdout is not None
    while time.time() < deadline:
        line = w.stdout.readline()
        if not line:
            break
        if line.startswith("committed "):
            committed.append(line.split()[1])
            if len(committed) >= 40:
                break
    os.kill(w.pid, signal.SIGKILL)
    w.wait(timeout=30)
    assert w.returncode == -signal.SIGKILL and len(committed) >= 40
    mem = open_memory(Settings.from_env(home=home))  # opens: no corruption, lock released by the kernel
    try:
        stored = {r["id"] for r in mem.list("outcome")}
        assert set(committed) <= stored  # every committed record is intact
        assert len(stored) <= len(committed) + 1  # at most the one in flight
        hits = mem.search("train outcome of xgboost on wine", k=len(stored))
        assert set(committed) <= {h["id"] for h in hits}
        # and the store stays writable
        from tensor_agent.memory.records import OutcomeRecord

        rid = mem.write([OutcomeRecord(family="mlp", dataset="wine", metric="accuracy", value=0.5,
                                       run_key="after-kill")])[0]
        assert mem.get(rid)["value"] == 0.5
    finally:
        mem.close()
