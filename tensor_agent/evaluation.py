"""The planner eval harness: per-field accuracy on labelled cases, and the misses.

Case format (one JSON object per line):
    {"text", "addressed", "intents", "modality", "architecture" (list of acceptable families or null),
     "tools" (optional: derived from the intents with the catalogue's tools_for), "peers"}
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from tensor_agent.config import Settings
from tensor_agent.errors import InputError
from tensor_agent.schema import ARCHITECTURES, INTENTS, MODALITIES, PEERS, TOOL_ORDER, tools_for

FIELDS = ("addressed", "primary_intent", "modality", "architecture", "tools", "peers")


class Case(BaseModel):
    """One labelled message."""

    text: str = Field(description="The message.")
    addressed: bool = Field(description="Whether @tensor is mentioned.")
    intents: list[str] = Field(default_factory=list, description="Expected intents, primary first.")
    modality: Optional[str] = Field(default=None, description="Expected modality or null.")
    architecture: Optional[list[str]] = Field(default=None, description="Acceptable families, or null.")
    tools: Optional[list[str]] = Field(default=None, description="Expected tools, in order; when the file leaves "
                                                                  "them out, the catalogue's tools for the intents.")
    peers: list[str] = Field(default_factory=list, description="Expected peers.")

    @field_validator("architecture", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _derive_tools(self) -> "Case":
        if self.tools is None:
            self.tools = tools_for(self.intents) if self.addressed else []
        return self

    @field_validator("intents", "tools", "peers", "modality")
    @classmethod
    def _in_vocabulary(cls, v: Any, info) -> Any:
        known = _VOCABULARY[info.field_name]
        values = [v] if isinstance(v, str) else (v or [])
        bad = [x for x in values if x not in known]
        if bad:
            raise ValueError(f"unknown {info.field_name} {bad} (known: {', '.join(known)})")
        return v


_VOCABULARY = {"intents": INTENTS, "tools": TOOL_ORDER, "peers": PEERS, "modality": MODALITIES}


class Miss(BaseModel):
    line: int
    text: str
    field: str
    expected: Any
    got: Any


class EvalReport(BaseModel):
    """Accuracy per field, the misses, and timing."""

    cases: int
    accuracy: dict[str, float]
    correct: dict[str, int]
    misses: list[Miss]
    backend: str
    plan_ms_p50: float
    source: str

    def min_accuracy(self) -> float:
        return min(self.accuracy.values()) if self.accuracy else 0.0


def default_cases_path() -> Path:
    """The project's own cases: evals/cases.jsonl next to the package, or in the current directory."""
    for candidate in (Path(__file__).resolve().parents[1] / "evals" / "cases.jsonl", Path.cwd() / "evals" / "cases.jsonl"):
        if candidate.is_file():
            return candidate
    raise InputError("no cases file given and evals/cases.jsonl was not found",
                     hint="pass a JSONL file: tensor-agent eval CASES.jsonl")


def load_cases(path: str | Path) -> list[tuple[int, Case]]:
    """Parse a JSONL cases file; errors name the file, the line and the problem."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"cases file not found: {p}")
    try:
        raw = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror})") from None
    cases: list[tuple[int, Case]] = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cases.append((n, Case.model_validate(json.loads(line))))
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}:{n}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"]) or "record"
            raise InputError(f"{p}:{n}: field '{where}': {first['msg']}") from None
    if not cases:
        raise InputError(f"{p}: no cases in the file")
    return cases


def score(cases: list[tuple[int, Case]], settings: Settings, source: str = "") -> EvalReport:
    from tensor_agent.planner import make_plan

    correct = {f: 0 for f in FIELDS}
    misses: list[Miss] = []
    times: list[float] = []
    backend = "rules"
    if not settings.use_llm:  # warm: the rules planner compiles its cue patterns on first use
        from tensor_agent.planner import rules_plan

        for _, case in cases:
            rules_plan(case.text)
    for line, case in cases:
        t0 = time.perf_counter()
        plan = make_plan(case.text, settings)
        times.append((time.perf_counter() - t0) * 1000)
        backend = plan.backend
        got = {
            "addressed": plan.addressed,
            "primary_intent": plan.intents[0] if plan.intents else None,
            "modality": plan.modality,
            "architecture": plan.architecture,
            "tools": list(plan.tools),
            "peers": sorted(plan.peers),
        }
        expected = {
            "addressed": case.addressed,
            "primary_intent": case.intents[0] if case.intents else None,
            "modality": case.modality,
            "architecture": case.architecture,
            "tools": list(case.tools),
            "peers": sorted(case.peers),
        }
        for f in FIELDS:
            if f == "architecture":
                ok = (got[f] is None and not expected[f]) or (expected[f] is not None and got[f] in expected[f])
            else:
                ok = got[f] == expected[f]
            if ok:
                correct[f] += 1
            else:
                misses.append(Miss(line=line, text=case.text[:300], field=f, expected=expected[f], got=got[f]))
    n = len(cases)
    times.sort()
    return EvalReport(cases=n, accuracy={f: round(correct[f] / n, 4) for f in FIELDS}, correct=correct,
                      misses=misses, backend=backend, plan_ms_p50=round(times[len(times) // 2], 3), source=source)


def evaluate_file(path: str | Path, settings: Settings) -> EvalReport:
    return score(load_cases(path), settings, source=str(path))
