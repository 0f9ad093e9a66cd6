"""The planner's fast cue patterns find exactly what `re` finds, and their stored gates are current."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tensor_agent.planner import lexicon as lx
from tensor_agent.planner._gates import GATES
from tensor_agent.planner.fastre import FastPattern, _all_cue_patterns, literal_gate
from tensor_agent.planner.normalize import repair

ROOT = Path(__file__).resolve().parents[2]


def _texts() -> list[str]:
    out = []
    for name in ("cases.jsonl", "holdout.jsonl"):
        out += [repair(json.loads(line)["text"]) for line in (ROOT / "evals" / name).read_text().splitlines() if line.strip()]
    return out


def test_gates_are_current():
    """Regenerate with `python -m tensor_agent.planner.fastre` after editing a cue."""
    current = {p: g for p in _all_cue_patterns() if (g := literal_gate(p))}
    assert current == GATES


def test_fast_patterns_match_exactly_like_re():
    texts = _texts()
    pats = [p for t in (lx.INTENT_CUES, lx.MODALITY_CUES) for ps in t.values() for p in ps] + [p for _, p in lx.ARCH_CUES]
    for p in pats:
        full = re.compile(p.pattern)
        for t in texts:
            assert [m.span() for m in full.finditer(t)] == [m.span() for m in p.finditer(t)], p.pattern


@pytest.mark.parametrize("pattern,text,spans", [
    (r"\bk8s\b", "xk8s k8s", [(5, 8)]),
    (r"(?<!fine-)\btune\b", "fine-tune and tune", [(14, 18)]),
    (r"\bprun(?:e|ing)\b", "pruning, prune", [(0, 7), (9, 14)]),
])
def test_word_boundaries_and_lookbehinds_still_hold(pattern, text, spans):
    assert [m.span() for m in FastPattern(pattern).finditer(text)] == spans


@pytest.mark.parametrize("pattern,gate", [
    (r"\bquantiz\w*", ["quantiz"]), (r"\b(?:docker|k8s)\b", ["docker", "k8s"]), (r"\w+ing", ["ing"]), (r"(?:\w+|x)y?", None),
])
def test_literal_gate(pattern, gate):
    assert literal_gate(pattern) == gate
