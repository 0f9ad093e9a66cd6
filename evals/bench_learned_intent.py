"""How much the learned intent classifier adds on blind sets it was not trained on (leave-one-set-out).

For each held-out set: train the classifier (`planner.learned_train.train`) on every OTHER labelled set in
evals/, plan the held-out set with the rules planner with that classifier and without it (cue intents, design
fallback), and score both with `tensor-agent eval`'s scorer. The figure that matters is "with", per set and
pooled; the default sets are the blind holdouts (holdout_v4 and later), written by helpers who never saw the planner, on
which the rules' own answers are not tuned (the rules were tuned on cases, holdout, holdout_v2, holdout_v3
and dev_planner). The thresholds in `planner.learned` were chosen on these same sets, leave-one-set-out
(the same values win whichever set is left out).

Run: .venv/bin/python evals/bench_learned_intent.py [--held evals/holdout_v7.jsonl ...] [--json OUT]
(about 1 min per held-out set: each one trains the classifier afresh).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIELDS = ("primary_intent", "tools", "peers", "modality", "architecture")


def run(held: list[str]) -> dict:
    import numpy as np

    from tensor_agent.config import Settings
    from tensor_agent.evaluation import load_cases, score
    from tensor_agent.planner import learned, learned_train

    every = learned_train.default_sets()
    import tempfile

    settings = Settings.from_env(tempfile.mkdtemp(prefix="bench-learned-"), planner="rules")
    out = {}
    for h in held:
        t0 = time.perf_counter()
        train = [p for p in every if Path(p).name != Path(h).name]
        arrays = learned_train.train(*learned_train.load(train))
        model = learned.model_from_arrays({k: np.asarray(v).reshape(-1).tolist() if k != "weights" else v.tobytes()
                                           for k, v in arrays.items()})
        cases = load_cases(ROOT / h)
        addressed = [c for c in cases if c[1].addressed]
        row = {}
        for label, m in (("without", None), ("with", model)):
            learned._model = lambda m=m: m  # the planner reads the classifier through _model()
            rep_all, rep_addr = score(cases, settings), score(addressed, settings)
            row[label] = {"all": rep_all.accuracy, "addressed": rep_addr.accuracy, "p50_ms": rep_all.plan_ms_p50}
        row["cases"], row["addressed_cases"], row["seconds"] = len(cases), len(addressed), round(time.perf_counter() - t0, 1)
        out[h] = row
        print(f"{h}: " + "  ".join(f"{f[:7]} {row['without']['all'][f] * 100:.1f} -> {row['with']['all'][f] * 100:.1f}"
                                    for f in FIELDS), file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--held", nargs="*", default=sorted((str(p.relative_to(ROOT)) for p in (ROOT / "evals").glob("holdout_v*.jsonl")
                                                         if int(p.stem[9:]) >= 4), key=lambda p: int(Path(p).stem[9:])))
    ap.add_argument("--json", default=None, help="write the report here")
    args = ap.parse_args()
    report = run(args.held)
    pooled = {}
    for label in ("without", "with"):
        for scope, n_key in (("all", "cases"), ("addressed", "addressed_cases")):
            n = sum(r[n_key] for r in report.values())
            pooled[f"{label}_{scope}"] = {f: round(sum(r[label][scope][f] * r[n_key] for r in report.values()) / n, 4)
                                          for f in FIELDS}
    print(json.dumps({"pooled": pooled}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"sets": report, "pooled": pooled}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
