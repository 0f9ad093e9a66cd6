"""Vector memory of @TENSOR: past designs and experiment outcomes in Chroma, and per-task fitness.

    from tensor_agent.memory import open_memory
    mem = open_memory(settings)                     # embedded Chroma, or a server (TENSOR_CHROMA_URL)
    d = mem.remember_design(plan, design_dict)      # stable, content-derived ids (upserts)
    mem.remember_outcome(train_report_dict, design_id=d)
    mem.fitness("tabular", "classification")        # [FamilyFitness] best first
    mem.recommend("tabular", "classification", "xgboost", ["mlp"])  # Recommendation
    mem.recall(plan); mem.search("cnn for digits")

Importing this package is cheap: chromadb and the embedding model (plain transformers) load on first use.
"""

from __future__ import annotations

from .core import Memory, open_memory
from .fitness import FamilyFitness, Recommendation
from .records import DesignRecord, OutcomeRecord

__all__ = ["open_memory", "Memory", "FamilyFitness", "Recommendation", "DesignRecord", "OutcomeRecord"]
