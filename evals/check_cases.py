"""Validate a planner case file (JSONL) against the plan vocabulary and print coverage.

Usage: .venv/bin/python evals/check_cases.py [evals/cases.jsonl]

Checks per line: the keys, the vocabularies (intents, modality, architecture, tools, peers),
that ``tools`` is the ordered union derived from ``intents``, that ``peers`` is sorted and
unique, that unaddressed cases are empty, that ``addressed`` agrees with the mention rule
(``@tensor`` in any case, not followed by a letter or digit, outside quoted ``> `` lines and code
blocks), and that texts are unique. ``tools`` may be left out (it is then derived from the intents).
Exits 1 when a problem is found.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tensor_agent.schema import ARCHITECTURES, INTENTS, MODALITIES, PEERS, TOOL_ORDER, tools_for  # noqa: E402

KEYS = {"text", "addressed", "intents", "modality", "architecture", "tools", "peers"}
MENTION = re.compile(r"(?<![\w@])@tensor(?![a-z0-9_])", re.IGNORECASE)
FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
QUOTE_LINE = re.compile(r"^[ \t]*>.*$", re.M)


def check(path: Path) -> int:
    problems: list[str] = []
    cov: dict[str, Counter] = {k: Counter() for k in
                               ("addressed", "primary", "intent_any", "modality", "architecture",
                                "tools", "tools_set", "peers", "peers_set", "n_intents")}
    texts: set[str] = set()
    n = 0
    for ln, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        n += 1
        try:
            c = json.loads(raw)
        except json.JSONDecodeError as e:
            problems.append(f"line {ln}: invalid JSON ({e})")
            continue
        bad = lambda msg: problems.append(f"line {ln}: {msg}: {c.get('text', '')[:70]!r}")  # noqa: E731
        c.setdefault("tools", tools_for(c.get("intents", [])))
        if set(c) != KEYS:
            bad(f"keys {sorted(c)} != {sorted(KEYS)}")
            continue
        t = c["text"]
        if t.strip().lower() in texts:
            bad("duplicate text")
        texts.add(t.strip().lower())
        if bool(MENTION.search(QUOTE_LINE.sub(" ", FENCE.sub(" ", t)))) != c["addressed"]:
            bad(f"addressed={c['addressed']} disagrees with the mention rule")
        if not c["addressed"]:
            if c["intents"] or c["modality"] or c["architecture"] or c["tools"] or c["peers"]:
                bad("unaddressed case must be empty")
        for i in c["intents"]:
            if i not in INTENTS:
                bad(f"unknown intent {i!r}")
        if len(set(c["intents"])) != len(c["intents"]):
            bad("repeated intent")
        if c["modality"] is not None and c["modality"] not in MODALITIES:
            bad(f"unknown modality {c['modality']!r}")
        arch = c["architecture"]
        if arch is not None:
            if not isinstance(arch, list) or not arch:
                bad("architecture must be a non-empty list or null")
                arch = []
            for a in arch:
                if a not in ARCHITECTURES:
                    bad(f"unknown architecture {a!r}")
        for t_ in c["tools"]:
            if t_ not in TOOL_ORDER:
                bad(f"unknown tool {t_!r}")
        if c["tools"] != tools_for(c["intents"]):
            bad(f"tools {c['tools']} != {tools_for(c['intents'])} derived from intents")
        for p in c["peers"]:
            if p not in PEERS:
                bad(f"unknown peer {p!r}")
        if c["peers"] != sorted(set(c["peers"])):
            bad("peers must be sorted and unique")
        cov["addressed"][str(c["addressed"])] += 1
        if not c["addressed"]:
            continue
        cov["primary"][c["intents"][0] if c["intents"] else "(none)"] += 1
        cov["n_intents"][str(len(c["intents"]))] += 1
        for i in c["intents"]:
            cov["intent_any"][i] += 1
        cov["modality"][c["modality"] or "(null)"] += 1
        for a in arch or ["(null)"]:
            cov["architecture"][a] += 1
        for t_ in c["tools"]:
            cov["tools"][t_] += 1
        cov["tools_set"]["+".join(c["tools"]) or "(none)"] += 1
        for p in c["peers"]:
            cov["peers"][p] += 1
        cov["peers_set"]["+".join(c["peers"]) or "(none)"] += 1

    print(f"{path}: {n} cases")
    for field, counter in cov.items():
        print(f"\n{field}:")
        for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {k:40s} {v}")
    design_share = cov["primary"]["design"] / max(n, 1)
    print(f"\nprimary 'design' share: {design_share:.0%}")
    missing = ([f"intent {i}" for i in INTENTS if cov["primary"][i] == 0]
               + [f"modality {m}" for m in MODALITIES if cov["modality"][m] == 0]
               + [f"architecture {a}" for a in ARCHITECTURES if cov["architecture"][a] == 0]
               + [f"tool {t}" for t in TOOL_ORDER if cov["tools"][t] == 0]
               + [f"peer {p}" for p in PEERS if cov["peers"][p] == 0])
    if missing:
        problems.append("uncovered values: " + ", ".join(missing))
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(check(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "evals" / "cases.jsonl"))
