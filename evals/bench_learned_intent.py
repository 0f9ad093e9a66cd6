"""Does the learned intent classifier help where the rules fall back, on cases it was not trained on?

For each held-out set: train the classifier on the OTHER sets, then score the rules planner's primary intent
on the held-out set twice: with the plain fallback (no cue fired -> design) and with the classifier's answer
at `learned.THRESHOLD`. `--planner-root DIR` scores an older planner (e.g. `git archive COMMIT tensor_agent |
tar -x -C DIR`), which shows the help on misses that today's rules already fix.

Run: .venv/bin/python evals/bench_learned_intent.py [--planner-root DIR] [--threshold 0.45]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ["evals/cases.jsonl", "evals/holdout.jsonl", "evals/holdout_v2.jsonl", "evals/dev_planner.jsonl"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--planner-root", default=None, help="directory holding an older tensor_agent package")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--only", default=None, help="score only this held-out set")
    ap.add_argument("--none-threshold", type=float, default=None,
                    help="probability needed when no intent was found at all (default: learned.THRESHOLD_EMPTY)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every changed case")
    args = ap.parse_args()
    sys.path.insert(0, args.planner_root or str(ROOT))
    import importlib.util

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"tensor_agent.planner.{name}", ROOT / "tensor_agent" / "planner" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"tensor_agent.planner.{name}"] = mod
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        return mod

    import tensor_agent.planner.rules as rules

    learned = load("learned")  # today's classifier, whichever planner is scored
    lt = load("learned_train")
    learned.fallback_intent = lambda low, default, exclude=(): default  # the planner's own fallbacks: plain
    learned.intent_when_empty = lambda low, exclude=(): None
    none_threshold = args.none_threshold if args.none_threshold is not None else learned.THRESHOLD_EMPTY
    threshold = args.threshold if args.threshold is not None else learned.THRESHOLD

    seen: dict = {}
    orig = rules._order_intents

    def order(low):  # record whether any cue fired
        out = orig(low)
        seen.setdefault("cues", out)
        return out

    rules._order_intents = order
    print(f"planner: {Path(rules.__file__).parent}  threshold {threshold}")
    for held in SETS:
        if args.only and held != args.only:
            continue
        train_texts, train_labels = lt.load([s for s in SETS if s != held])
        keys, weights, bias, names = lt.train(train_texts, train_labels)
        labels = [str(x) for x in names]
        flat = weights.reshape(-1).tolist()
        learned._model = lambda: (keys.tolist(), flat, bias.tolist(), labels)  # noqa: E731
        n = plain = combined = fallbacks = changed = 0
        for line in (ROOT / held).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            c = json.loads(line)
            if not c["addressed"]:
                continue
            seen.clear()
            plan = rules.rules_plan(c["text"])
            gold = c["intents"][0] if c["intents"] else None
            got = plan.intents[0] if plan.intents else None
            n += 1
            plain += got == gold
            mine = got
            if seen.get("cues") == [] and plan.intents and plan.intents[0] == "design":
                fallbacks += 1
                label, prob = learned.predict(lt.request_low(c["text"]))
                if label not in (None, "none", "design") and prob >= threshold:
                    mine = label
                    changed += 1
            elif got is None:
                label, prob = learned.predict(lt.request_low(c["text"]))
                if label not in (None, "none", "design") and prob >= none_threshold:
                    mine = label
                    changed += 1
            if args.verbose and mine != got:
                print("   ", got, "->", mine, label, round(prob, 2), "gold", gold, "|", c["text"][:80].replace("\n", " "))
            combined += mine == gold
        print(f"{held:28s} n={n:4d} fallbacks={fallbacks:3d} changed={changed:3d}  primary: rules {100 * plain / n:5.1f}%"
              f"  rules+classifier {100 * combined / n:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
