"""The memory's own MiniLM encoder (memory/minilm.py) gives sentence-transformers' vectors."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.integration

TEXTS = ["@TENSOR design CNN architecture for image classification", "train xgboost on my churn csv",
         "design " * 200, "(empty)", "what has worked best for tabular tasks?", "Ünïcödé tëxt, émojis 🚀"]


def test_vectors_match_sentence_transformers(monkeypatch):
    monkeypatch.setenv("TENSOR_EMBED_PRECISION", "fp32")
    from sentence_transformers import SentenceTransformer

    from tensor_agent.memory.embed import MAX_TOKENS, embed, model_path

    ours = np.asarray(embed(TEXTS))
    ref_model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
    ref_model.max_seq_length = MAX_TOKENS
    ref = ref_model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    cos = (ours * ref).sum(1)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    assert cos.min() >= 0.99999, cos
