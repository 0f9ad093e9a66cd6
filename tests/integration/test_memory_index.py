"""The memory's exact search on a real embedded Chroma store: exact answers, patched by this process's writes,
rebuilt after another process's write."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tensor_agent.memory import open_memory
from tensor_agent.memory.records import OutcomeRecord

pytestmark = pytest.mark.integration


def _records(n: int) -> list[OutcomeRecord]:
    fams = [("xgboost", "tabular"), ("mlp", "tabular"), ("cnn", "image"), ("vit", "image"), ("gcn", "graph")]
    return [OutcomeRecord(family=f, modality=m, task="classification", dataset=f"ds{i % 3}", metric="accuracy",
                          value=0.5 + i / (2 * n), run_key=f"r{i}", plan_text=f"train {f} for {m} run {i}")
            for i, (f, m) in enumerate(fams[i % 5] for i in range(n))]


def test_memory_search_is_exact_and_follows_writes(settings):
    mem = open_memory(settings)
    try:
        mem.write(_records(40))
        hits = mem.search("train cnn for image", k=5, kind="outcome", modality="image")
        assert len(hits) == 5 and all(h["modality"] == "image" for h in hits)
        idx = mem._store.exact
        assert idx is not None and len(idx) == 40                      # a small store is indexed at once
        assert all(h["document"] == mem.get(h["id"])["document"] for h in hits)  # rebuilt = stored document
        # the same answer as Chroma's own (HNSW) query on this small store
        chroma = mem._chroma_query(idx.mat[idx.ids.index(hits[0]["id"])], 5, {"kind": "outcome", "modality": "image"})
        assert chroma[0][0] == hits[0]["id"]
        # this process's write patches the index in place (no rebuild) ...
        new = OutcomeRecord(family="resnet", modality="image", dataset="shapes", metric="accuracy", value=0.9,
                            plan_text="train resnet on shapes")
        mem.write([new])
        assert mem._store.exact is idx and len(idx) == 41
        assert mem.search("train resnet on shapes", k=1)[0]["id"] == new.id
        assert mem.forget(new.id) and len(idx) == 40
        # ... another process's write moves the generation: the next query rebuilds from Chroma
        code = ("import sys; from tensor_agent.config import Settings; from tensor_agent.memory import open_memory; "
                "from tensor_agent.memory.records import OutcomeRecord as O; m = open_memory(Settings.from_env(home=sys.argv[1])); "
                "m.write([O(family='gat', modality='graph', dataset='karate', plan_text='gat on karate from elsewhere')]); m.close()")
        subprocess.run([sys.executable, "-c", code, str(settings.home)], check=True, capture_output=True, timeout=120)
        top = mem.search("gat on karate from elsewhere", k=1)[0]
        assert top["family"] == "gat" and mem._store.exact is not idx and len(mem._store.exact) == 41
    finally:
        mem.close()


