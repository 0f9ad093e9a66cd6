"""Exact vector search of the memory (memory/index.py): same answers as brute force, filters applied before
the search; the embedder imports neither sentence-transformers nor transformers. The store-level test
(writes of this and other processes) is tests/integration/test_memory_index.py."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tensor_agent.memory.index import ExactIndex


def test_exact_index_matches_brute_force_and_filters_first():
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(500, 16)).astype(np.float32)
    metas = [{"kind": "outcome" if i % 2 else "design", "modality": ("image", "tabular")[i % 3 == 0]} for i in range(500)]
    idx = ExactIndex()
    idx.load({"ids": [f"id{i}" for i in range(500)], "embeddings": vecs, "metadatas": metas, "documents": None}, 7)
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    for q in rng.normal(size=(20, 16)):
        sims = unit @ (q / np.linalg.norm(q))
        assert [r for r, _ in idx.query(q, 10)] == list(np.argsort(-sims)[:10])
        allowed = np.array([m["kind"] == "outcome" and m["modality"] == "image" for m in metas])
        want = [i for i in np.argsort(-sims) if allowed[i]][:10]
        got = idx.query(q, 10, {"kind": "outcome", "modality": "image"})
        assert [r for r, _ in got] == want and all(allowed[r] for r, _ in got)
    assert idx.query(rng.normal(size=16), 5, {"modality": "graph"}) == []


def test_embedding_needs_neither_sentence_transformers_nor_transformers():
    code = ("import sys; from tensor_agent.memory.embed import embed; v = embed(['design a cnn for digits']); "
            "print(len(v[0]), round(sum(x * x for x in v[0]), 4), "
            "any(m in sys.modules for m in ('sentence_transformers', 'transformers', 'sklearn', 'timm', 'torchvision')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["384", "1.0", "False"]
