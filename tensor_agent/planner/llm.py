"""The LLM back-end of the planner: an OpenAI-compatible chat model fills in the plan.

The model is asked (system prompt ``tensor_agent.prompts`` ``planner.md``) to call one function,
``submit_plan``, whose JSON schema is the one of :class:`PlanDraft`; a reply whose message content
is the JSON object itself (structured output / JSON mode) is accepted too. The draft is validated
with pydantic and then normalised against the deterministic rules planner:

* ``addressed`` and the (possibly truncated) message text come from the rules plan; an
  unaddressed message never reaches the network;
* ``tools`` are recomputed from the intents (:func:`tensor_agent.schema.tools_for`);
* the contract's fixed rules are applied: a named family implies its modality, a known modality
  without a family gets one from the selection guide, compress / explain / evaluate bring
  VELOCITY / AXIOM / ECLIPSE; peers are sorted and de-duplicated, intents de-duplicated in order;
* constraints: the rules planner's (exact spans, units, bounds) win where they read the same
  text; the model's constraints are added when their quoted ``text`` is found in the message
  (that gives the span) outside what the rules read; unquotable or invalid ones are dropped.

Any failure (timeout, connection refused, HTTP error, non-JSON or schema-violating output, no
intents) returns the rules plan with a warning saying why; :func:`llm_plan` never raises for an
LLM problem, and it waits at most ``llm_timeout`` + 0.5 s. Importing this module is cheap:
``openai`` is imported only when a request is made.
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tensor_agent.catalogue import family_modality, select_family
from tensor_agent.planner.fields import DEPLOY_TARGETS, FRAMEWORKS, TECHNIQUES, TRACKERS
from tensor_agent.schema import (PEERS, Architecture, Constraint, Intent, Modality, Peer, Plan, TrackSpec, TrainSettings,
                                 tools_for)

if TYPE_CHECKING:  # pragma: no cover
    from tensor_agent.config import Settings

__all__ = [
    "CONSTRAINT_NAMES",
    "ConstraintDraft",
    "LLMPlannerError",
    "PlanDraft",
    "TOOL_NAME",
    "build_messages",
    "llm_plan",
    "parse_reply",
    "plan_tool",
]

#: Name of the single function the model is asked to call.
TOOL_NAME = "submit_plan"
#: Output bound of one planning request: a plan with a dozen constraints fits in ~300 tokens, and a
#: model that loops is cut off instead of holding a CPU server for minutes.
MAX_TOKENS = 400

ConstraintName = Literal[
    "device", "latency_ms", "size_mb", "max_params", "dataset_size", "labelled_examples",
    "num_classes", "accuracy_target", "optimizer", "schedule", "technique", "batch_size",
    "input_shape", "sequence_length", "epochs", "dataset", "sparsity", "learning_rate",
    "min_params", "min_size_mb", "min_latency_ms", "model_path", "data_path",
    "warmup_epochs", "dropout", "l1", "weight_decay", "patience", "grad_clip", "seed", "time_budget_s",
]
TechniqueName = Literal[TECHNIQUES]  # type: ignore[valid-type]
DeployTarget = Literal[DEPLOY_TARGETS]  # type: ignore[valid-type]
TrackerName = Literal[TRACKERS]  # type: ignore[valid-type]
TrackAction = Literal["register", "alias", "list", "rollback", "archive", "compare", "export"]
FrameworkName = Literal[FRAMEWORKS]  # type: ignore[valid-type]
CONSTRAINT_NAMES: tuple[str, ...] = ConstraintName.__args__  # type: ignore[attr-defined]

#: Allowed values of the categorical constraints.
_CATEGORICAL: dict[str, tuple[str, ...]] = {
    "device": ("mobile", "edge", "server", "gpu", "cpu"),
    "optimizer": ("sgd", "adam", "adamw", "lamb"),
    "schedule": ("constant", "step", "exponential", "cosine", "cosine_warm_restarts"),
    "technique": TECHNIQUES,
}
_INTEGER = ("max_params", "min_params", "dataset_size", "labelled_examples", "num_classes", "batch_size",
            "sequence_length", "epochs", "warmup_epochs", "patience", "seed")
_FLOAT = ("latency_ms", "size_mb", "min_latency_ms", "min_size_mb", "learning_rate", "l1", "weight_decay",
          "grad_clip", "time_budget_s")
_FRACTION = ("accuracy_target", "sparsity", "dropout")
#: constraint names that are training settings (checked against TrainSettings' ranges)
_SETTING_FIELD = {"learning_rate": "lr", "optimizer": "optimizer", "schedule": "schedule", "warmup_epochs": "warmup_epochs",
                  "dropout": "dropout", "l1": "l1", "weight_decay": "weight_decay", "patience": "patience",
                  "epochs": "epochs", "batch_size": "batch_size", "grad_clip": "grad_clip", "seed": "seed",
                  "time_budget_s": "time_budget_s"}

_NULLS = {"", "null", "none", "n/a", "unknown", "nil"}


class LLMPlannerError(Exception):
    """Why the LLM back-end could not produce a plan; ``reason`` goes into the fallback warning."""

    def __init__(self, reason: str, *, unavailable: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.unavailable = unavailable


# --------------------------------------------------------------------------------------------
# The schema the model fills in
# --------------------------------------------------------------------------------------------
class ConstraintDraft(BaseModel):
    """One constraint as the model reports it (the span is located afterwards)."""

    model_config = ConfigDict(extra="ignore")

    name: ConstraintName = Field(description="Constraint kind (see the system prompt).")
    value: Union[float, str, list[float]] = Field(
        description="Number in base units (ms, MB, s, count, fraction 0-1), a lower-case word, or a list "
                    "of numbers (input_shape).")
    text: str = Field(max_length=200, description="The exact substring of the message the value was read from.")

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v


def _lower_or_none(v: Any) -> Any:
    if isinstance(v, str):
        s = v.strip().lower()
        return None if s in _NULLS else s
    return v


class TrackDraft(BaseModel):
    """A registry / tracking request as the model reports it (every field typed, for constrained decoding)."""

    model_config = ConfigDict(extra="ignore")

    action: Optional[TrackAction] = Field(default=None, description="register, alias (set/move/promote), list "
                                                                    "(versions), rollback, archive, compare (runs) "
                                                                    "or export (to W&B/Neptune); null if unsaid.")
    alias: Optional[str] = Field(default=None, max_length=64, pattern=r"^[A-Za-z][\w-]{0,63}$",
                                 description="Alias named (champion, challenger, production), or null.")
    version: Optional[int] = Field(default=None, ge=1, le=1_000_000, description="Model version named, or null.")
    runs: Optional[int] = Field(default=None, ge=1, le=1000, description="How many recent runs to compare, or null.")

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, v: Any) -> Any:
        s = _lower_or_none(v)
        return {"roll_back": "rollback", "roll back": "rollback", "promote": "alias", "log": "export",
                "versions": "list"}.get(s, s) if isinstance(s, str) else s

    @field_validator("alias", mode="before")
    @classmethod
    def _alias(cls, v: Any) -> Any:  # an alias that is not a word is dropped, not a failed plan
        s = _lower_or_none(v)
        return s if isinstance(s, str) and re.fullmatch(r"[a-z][\w-]{0,63}", s) else None

    @field_validator("version", "runs", mode="before")
    @classmethod
    def _count(cls, v: Any) -> Any:
        if isinstance(v, str):  # "v2", "3"
            digits = v.strip().lower().lstrip("v#")
            return int(digits) if digits.isdigit() else None
        return v


class PlanDraft(BaseModel):
    """What the LLM planner returns through the ``submit_plan`` function."""

    model_config = ConfigDict(extra="ignore")

    intents: list[Intent] = Field(max_length=12, description="Requests in the message, primary (first in message "
                                                             "order) first.")
    modality: Optional[Modality] = Field(default=None, description="Data modality or null.")
    architecture: Optional[Architecture] = Field(default=None, description="Named or guide-selected family, or null.")
    peers: list[Peer] = Field(default_factory=list, max_length=4, description="Peer agents to consult.")
    constraints: list[ConstraintDraft] = Field(default_factory=list, max_length=24,
                                               description="Constraints stated in the message.")
    task: Optional[str] = Field(default=None, description="Task type, e.g. classification, regression, seq2seq, "
                                                          "generation, forecasting, node_classification; or null.")
    clarification: Optional[str] = Field(default=None, max_length=300, description="One question when the message "
                                                                                   "is too vague to act on; otherwise null.")
    techniques: list[TechniqueName] = Field(default_factory=list, max_length=8, description="Techniques named, in order.")
    deploy_targets: list[DeployTarget] = Field(default_factory=list, max_length=6, description="Serving targets named.")
    trackers: list[TrackerName] = Field(default_factory=list, max_length=3, description="Experiment trackers named.")
    framework: Optional[FrameworkName] = Field(default=None, description="Framework the user wants code in, or null.")
    register_name: Optional[str] = Field(default=None, max_length=100, description="Model-registry name given, or null.")
    track: Optional[TrackDraft] = Field(default=None, description="For a `track` intent: the registry/tracking "
                                                                  "action, alias, version and runs; else null.")

    @field_validator("techniques", "deploy_targets", "trackers", mode="before")
    @classmethod
    def _lower_list(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            v = [v]
        return [x.strip().lower().replace("-", "_") if isinstance(x, str) else x for x in v] if isinstance(v, list) else v

    @field_validator("framework", mode="before")
    @classmethod
    def _framework(cls, v: Any) -> Any:
        s = _lower_or_none(v)
        return {"tensorflow": "keras", "jax": "flax", "scikit-learn": "sklearn", "torch": "pytorch"}.get(s, s) \
            if isinstance(s, str) else s

    @field_validator("register_name", mode="before")
    @classmethod
    def _register(cls, v: Any) -> Any:
        return None if isinstance(v, str) and v.strip().lower() in _NULLS else v

    @field_validator("intents", mode="before")
    @classmethod
    def _intents(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            out = []
            for item in v:
                s = _lower_or_none(item)
                if isinstance(s, str):
                    s = s.replace("-", "_").replace(" ", "_")
                    s = {"finetune": "fine_tune", "estimate": "estimate_data"}.get(s, s)
                if s is not None and s not in out:
                    out.append(s)
            return out
        return v

    @field_validator("modality", "architecture", mode="before")
    @classmethod
    def _category(cls, v: Any) -> Any:
        return _lower_or_none(v)

    @field_validator("peers", mode="before")
    @classmethod
    def _peers(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):  # "@prism" -> PRISM; names outside the vocabulary (TENSOR itself) dropped
            names = {p.strip().lstrip("@").upper() for p in v if isinstance(p, str)}
            return sorted(names & set(PEERS))
        return v

    @field_validator("constraints", mode="before")
    @classmethod
    def _constraints(cls, v: Any) -> Any:
        return [] if v is None else v

    @field_validator("task", "clarification", mode="before")
    @classmethod
    def _optional_text(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() in _NULLS:
            return None
        return v.strip() if isinstance(v, str) else v


def _inline_refs(schema: dict) -> dict:
    """A copy of a pydantic JSON schema with ``$ref``s inlined and ``$defs``/titles dropped.

    Self-contained schemas are understood by more OpenAI-compatible servers (llama.cpp, vLLM).
    """
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = defs[node["$ref"].rsplit("/", 1)[-1]]
                return walk(target)
            return {k: walk(v) for k, v in node.items() if k not in ("$defs", "title")}
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node

    return walk(schema)


def plan_tool() -> dict:
    """The OpenAI ``tools`` entry describing ``submit_plan`` (parameters = PlanDraft's JSON schema)."""
    return copy.deepcopy(_plan_tool())


@lru_cache(maxsize=1)
def _plan_tool() -> dict:
    params = _inline_refs(PlanDraft.model_json_schema())
    params["required"] = ["intents", "modality", "architecture", "peers", "constraints", "task", "clarification"]
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "Submit the plan for the @TENSOR message: intents, modality, architecture, "
                           "peers, constraints, task, clarification and the named techniques, deploy targets, "
                           "trackers, framework, registration name and tracking request.",
            "parameters": params,
        },
    }


def build_messages(text: str) -> list[dict]:
    """The chat messages sent to the model: the planner system prompt and the user's message."""
    from tensor_agent.prompts import load_prompt

    return [
        {"role": "system", "content": load_prompt("planner")},
        {"role": "user", "content": text},
    ]


# --------------------------------------------------------------------------------------------
# Reading the reply
# --------------------------------------------------------------------------------------------
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)


def _loads_object(raw: str) -> dict:
    """Parse a JSON object from model output, tolerating a code fence or text around it."""
    raw = raw.strip()
    candidates = [raw]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(raw)]
    first, last = raw.find("{"), raw.rfind("}")
    if 0 <= first < last:
        candidates.append(raw[first:last + 1])
    for cand in candidates:
        try:
            obj = json.loads(cand)
        except (ValueError, TypeError):
            continue
        if isinstance(obj, dict):
            return obj
    snippet = raw[:60].replace("\n", " ")
    raise LLMPlannerError(f"invalid output: not a JSON object ({snippet!r})", unavailable=False)


def _unwrap(obj: dict) -> dict:
    """Accept ``{"name": "submit_plan", "arguments": {...}}`` style wrappers around the plan."""
    for key in ("arguments", "parameters", "plan"):
        inner = obj.get(key)
        if "intents" not in obj and isinstance(inner, (dict, str)):
            return _loads_object(inner) if isinstance(inner, str) else inner
    return obj


def parse_reply(completion: Any) -> tuple[PlanDraft, list[str]]:
    """Validate a chat completion into a :class:`PlanDraft`.

    Args:
        completion: An ``openai`` ``ChatCompletion`` (or anything with the same attributes).

    Returns:
        The draft and warnings about parts that were dropped (unknown constraint names).

    Raises:
        LLMPlannerError: No choice, no tool call and no JSON content, invalid JSON, or a schema violation.
    """
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise LLMPlannerError("invalid output: the response is not a chat completion (no choices)",
                              unavailable=False)
    message = choices[0].message
    raw: str | None = None
    calls = [c.function for c in getattr(message, "tool_calls", None) or [] if getattr(c, "function", None)]
    named = [fn for fn in calls if getattr(fn, "name", None) == TOOL_NAME]
    if named or len(calls) == 1:  # a lone call under another name (small models misspell it) is read too
        raw = (named or calls)[0].arguments or ""
    if raw is None:
        raw = getattr(message, "content", None)
    if not raw or not str(raw).strip():
        raise LLMPlannerError(f"invalid output: no {TOOL_NAME} call and no JSON content", unavailable=False)
    obj = _unwrap(_loads_object(str(raw)))

    warnings: list[str] = []
    cons = obj.get("constraints")
    if isinstance(cons, list):
        kept = []
        for c in cons:
            name = c.get("name") if isinstance(c, dict) else None
            if not (isinstance(name, str) and name.strip().lower() in CONSTRAINT_NAMES):
                warnings.append(f"LLM planner: ignored constraint with unknown name {name!r}")
                continue
            try:  # one malformed constraint does not cost the whole plan
                ConstraintDraft.model_validate(c)
            except ValidationError:
                warnings.append(f"LLM planner: ignored {name}={c.get('value')!r} (not a valid value)")
                continue
            kept.append(c)
        obj = {**obj, "constraints": kept}
    for key, vocab in (("techniques", TECHNIQUES), ("deploy_targets", DEPLOY_TARGETS), ("trackers", TRACKERS)):
        if isinstance(obj.get(key), list):  # names outside the vocabulary are dropped, not fatal
            obj = {**obj, key: [x for x in obj[key] if isinstance(x, str) and x.strip().lower().replace("-", "_") in vocab]}
    try:
        draft = PlanDraft.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "plan"
        raise LLMPlannerError(f"schema violation at {where}: {err.get('msg')}", unavailable=False) from None
    return draft, warnings


# --------------------------------------------------------------------------------------------
# Normalisation against the rules plan
# --------------------------------------------------------------------------------------------
_NUM = re.compile(r"[-+]?\d[\d,_]*\.?\d*(?:e[-+]?\d+)?|[-+]?\.\d+", re.I)
_SUFFIX = re.compile(r"^(?:(k|thousand)|(m|mn|million)|(b|bn|billion))(?![a-z])")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip().lower()
        m = _NUM.search(s)
        if not m:
            return None
        x = float(m.group(0).replace(",", "").replace("_", ""))
        rest = s[m.end():].strip()
        scale = _SUFFIX.match(rest)
        if scale:
            x *= 1e3 if scale.group(1) else 1e6 if scale.group(2) else 1e9
        if rest.startswith("%"):
            x /= 100.0
        return x
    return None


def _normalise_value(name: str, value: Any) -> Any:
    """Coerce a constraint value to the contract's type; ``None`` when it cannot be (or is out of range)."""
    out = _coerce_value(name, value)
    if out is not None and name in _SETTING_FIELD:
        try:
            TrainSettings(**{_SETTING_FIELD[name]: out})
        except ValidationError:
            return None
    return out


def _coerce_value(name: str, value: Any) -> Any:
    if name in _CATEGORICAL:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            return None
        v = value.strip().lower().replace("-", "_").replace(" ", "_")
        v = {"adam_w": "adamw", "int_8": "int8", "quantization_aware": "qat", "adapters": "adapter",
             "knowledge_distillation": "distillation", "cosine_annealing": "cosine",
             "warm_restarts": "cosine_warm_restarts", "phone": "mobile", "smartphone": "mobile"}.get(v, v)
        return v if v in _CATEGORICAL[name] else None
    if name in _INTEGER:
        x = _number(value)
        return int(round(x)) if x is not None and x >= 0 else None
    if name in _FRACTION:
        x = _number(value)
        if x is None or x < 0:
            return None
        return x / 100.0 if x > 1 else x
    if name in _FLOAT:
        x = _number(value)
        if x is None or x < 0:
            return None
        if isinstance(value, str):  # a unit left in the value: "0.2 s" -> 200 ms, "2 GB" -> 2048 MB
            unit = re.sub(r"^[^a-zµ]*", "", value.strip().lower())
            if name.endswith("latency_ms") and re.match(r"(s|sec|secs|seconds?)\b", unit):
                x *= 1000.0
            elif name.endswith("latency_ms") and re.match(r"(us|µs|microseconds?)\b", unit):
                x /= 1000.0
            elif name.endswith("size_mb") and re.match(r"(gb|gib|gigabytes?)\b", unit):
                x *= 1024.0
            elif name.endswith("size_mb") and re.match(r"(kb|kib|kilobytes?)\b", unit):
                x /= 1024.0
        return x
    if name == "input_shape":
        if isinstance(value, str):
            value = [int(n) for n in re.findall(r"\d+", value)]
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(n, (int, float)) and not isinstance(n, bool) and n > 0 for n in value):
            return [int(n) for n in value]
        return None
    if name in ("dataset", "model_path", "data_path"):
        return value.strip() if isinstance(value, str) and value.strip() else None
    return value


def _locate(needle: str, haystack: str) -> tuple[int, int] | None:
    """Span of the first occurrence of ``needle`` in ``haystack`` (exact, else case-insensitive)."""
    needle = needle.strip()
    if not needle:
        return None
    start = haystack.find(needle)
    if start >= 0:
        return start, start + len(needle)
    m = re.search(re.escape(needle), haystack, re.IGNORECASE)  # index-safe, unlike str.lower()
    return m.span() if m else None


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _merge_constraints(draft: PlanDraft, rules: Plan, text: str) -> tuple[list[Constraint], list[str]]:
    """The rules planner's constraints plus the model's ones that it missed.

    The rules extractor has exact spans, unit handling and bound detection ("at least 10M
    parameters" is a floor), so where it read a piece of text its reading wins; the model adds
    constraints quoted from text the rules did not read (paraphrases). A constraint whose quoted
    text is not in the message, or whose value is not valid, is dropped.
    """
    out: list[Constraint] = list(rules.constraints)
    warnings: list[str] = []
    for c in draft.constraints:
        value = _normalise_value(c.name, c.value)
        if value is None:
            warnings.append(f"LLM planner: ignored {c.name}={c.value!r} (not a valid value)")
            continue
        span = _locate(c.text, text)
        if span is None or any(_overlaps(span, k.span) for k in out):
            continue  # not quoted from the message, or text the rules planner has read already
        if any(k.name == c.name and k.value == value for k in out):
            continue
        out.append(Constraint(name=c.name, value=value, span=span, text=text[span[0]:span[1]]))
    out.sort(key=lambda c: (c.span[0], c.span[1]))
    return out, warnings


_UNKNOWN_MODEL = re.compile(r"^Unknown model '(?P<name>.+?)': I do not know it, so I used .*? instead\.$")
_NOT_A_FAMILY = re.compile(r"^'(?P<name>.+?)' is not a family I build; the nearest is '.*?'\.$")


def _adapt_warnings(warnings: list[str], architecture: str | None) -> list[str]:
    """Carry the rules planner's warnings over, re-pointing those that name its chosen family."""
    out = []
    for w in warnings:
        m = _UNKNOWN_MODEL.match(w)
        if m:
            used = f"the selection guide ({architecture})" if architecture else "no family"
            w = f"Unknown model '{m['name']}': I do not know it, so I used {used} instead."
        m = _NOT_A_FAMILY.match(w)
        if m:
            w = (f"'{m['name']}' is not a family I build; the nearest is '{architecture}'." if architecture
                 else f"'{m['name']}' is not a family I build.")
        out.append(w)
    return out


_BUDGETS = ("latency_ms", "size_mb", "max_params")
#: Peers the contract attaches to an intent whatever the wording.
_INTENT_PEERS = {"compress": "VELOCITY", "explain": "AXIOM", "evaluate": "ECLIPSE"}


def _complete(draft: PlanDraft, rules: Plan, constraints: list[Constraint]) -> tuple[Any, Any, list[str]]:
    """Apply the contract's rules the model may have skipped: a named family implies its modality,
    a known modality gets a family by the selection guide, and compress / explain / evaluate
    always bring VELOCITY / AXIOM / ECLIPSE."""
    from tensor_agent.planner.normalize import repair
    from tensor_agent.planner.rules import signals

    modality, architecture = draft.modality, draft.architecture
    if modality is None and architecture:
        modality = family_modality(architecture)
    if architecture is None and modality is not None:
        if rules.modality == modality and rules.architecture:
            architecture = rules.architecture  # the rules guide also reads hints (seq2seq, mobile, ...)
        else:  # the catalogue's selection guide, on what the message says
            seen: dict = {}
            for c in constraints:
                seen.setdefault(c.name, c.value)
            architecture = select_family(modality, signals(repair(rules.text), seen, modality))
    peers = {*draft.peers, *(_INTENT_PEERS[i] for i in draft.intents if i in _INTENT_PEERS)}
    return modality, architecture, sorted(peers)


def _typed_fields(draft: PlanDraft, rules: Plan, intents: list[str], constraints: list[Constraint]) -> dict:
    """The rules planner reads these exactly from the words; the model's reading fills what it missed."""
    from tensor_agent.planner.fields import tune_spec

    techniques = rules.techniques or [t for t in dict.fromkeys(c.value for c in constraints if c.name == "technique")] \
        or list(dict.fromkeys(draft.techniques))
    register = rules.register_name or (draft.register_name if draft.register_name and
                                       draft.register_name.lower() in rules.text.lower() else None)
    return dict(
        techniques=techniques, register_name=register,
        trackers=rules.trackers or list(dict.fromkeys(draft.trackers)),
        framework=rules.framework or draft.framework,
        deploy_targets=rules.deploy_targets or list(dict.fromkeys(draft.deploy_targets)),
        tune=rules.tune or (tune_spec(rules.text.lower(), constraints) if "tune" in intents else None),
        track=_track(draft, rules, intents, register),
        variant=rules.variant, pretrained=rules.pretrained,
    )


def _track(draft: PlanDraft, rules: Plan, intents: list[str], register: Optional[str]) -> Optional[TrackSpec]:
    """The rules planner's reading of a tracking request, with the model's filling what it left unsaid."""
    if "track" not in intents:
        return None
    if rules.track is not None:
        base = rules.track
    else:
        from tensor_agent.planner.fields import track_spec
        from tensor_agent.planner.normalize import repair

        base = track_spec(repair(rules.text), list(rules.trackers), register)
    d = draft.track
    if d is None:
        return base
    return TrackSpec(action=base.action or d.action, alias=base.alias or d.alias,
                     version=base.version or d.version, runs=base.runs or d.runs)


def _to_plan(draft: PlanDraft, rules: Plan, text: str, extra_warnings: list[str]) -> Plan:
    intents = list(dict.fromkeys(draft.intents))
    constraints, warnings = _merge_constraints(draft, rules, text)
    modality, architecture, peers = _complete(draft, rules, constraints)
    return Plan(
        addressed=True,
        intents=intents,
        modality=modality,
        architecture=architecture,
        tools=tools_for(intents),
        peers=peers,
        constraints=constraints,
        task=draft.task,
        clarification=draft.clarification,
        **_typed_fields(draft, rules, intents, constraints),
        warnings=list(dict.fromkeys([*_adapt_warnings(rules.warnings, architecture),
                                     *extra_warnings, *warnings])),
        backend="llm",
        text=rules.text or text,
    )


# --------------------------------------------------------------------------------------------
# The back-end
# --------------------------------------------------------------------------------------------
def _describe(exc: BaseException, settings: "Settings") -> LLMPlannerError:
    """Map a client exception to a short reason for the fallback warning."""
    import openai

    if isinstance(exc, LLMPlannerError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return LLMPlannerError(f"timeout after {settings.llm_timeout:.1f}s")
    if isinstance(exc, openai.APIConnectionError):
        where = settings.llm_base_url or "https://api.openai.com/v1"
        return LLMPlannerError(f"cannot connect to {where}")
    if isinstance(exc, openai.APIStatusError):
        detail = ""
        body = exc.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            body = body["error"]
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            detail = f": {body['message'][:80]}"
        where = settings.llm_base_url or "https://api.openai.com/v1"
        return LLMPlannerError(f"HTTP {exc.status_code} from {where}{detail}")
    if isinstance(exc, openai.APIResponseValidationError):
        return LLMPlannerError("invalid output: the response is not a chat completion", unavailable=False)
    if isinstance(exc, json.JSONDecodeError):
        return LLMPlannerError("invalid output: the response body is not JSON", unavailable=False)
    if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError)):
        return LLMPlannerError(f"invalid output: {type(exc).__name__}: {str(exc)[:80]}", unavailable=False)
    return LLMPlannerError(f"{type(exc).__name__}: {str(exc)[:80]}")


def _fallback_plan(rules: Plan, err: LLMPlannerError) -> Plan:
    if err.unavailable:
        msg = f"LLM planner unavailable ({err.reason}): used the offline rules planner"
    else:
        msg = f"LLM planner failed ({err.reason}): used the offline rules planner"
    return rules.model_copy(update={"backend": "rules", "warnings": [*rules.warnings, msg]})


@lru_cache(maxsize=8)
def _client(base_url: str | None, api_key: str, timeout: float) -> Any:
    """A cached OpenAI client per endpoint: building one costs tens of ms, and a kept client
    reuses its HTTP connection (no new TCP/TLS handshake per message in a chat or an eval run)."""
    import openai

    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)


def _request(text: str, settings: "Settings") -> Any:
    """One chat completion: tool calling first; JSON mode once if the server rejects tools (400/422)."""
    import time

    import openai

    start = time.monotonic()
    client = _client(settings.llm_base_url, settings.llm_api_key or "not-needed", float(settings.llm_timeout))
    messages = build_messages(text)
    try:
        return client.chat.completions.create(
            model=settings.llm_model,
            messages=messages,
            tools=[plan_tool()],
            tool_choice={"type": "function", "function": {"name": TOOL_NAME}},
            temperature=0,
            max_tokens=MAX_TOKENS,
        )
    except (openai.BadRequestError, openai.UnprocessableEntityError):
        # Servers or models without (named) tool calling: ask for the JSON object instead,
        # within what is left of the time budget.
        left = settings.llm_timeout - (time.monotonic() - start)
        if left < 0.25:
            raise
        return client.with_options(timeout=left).chat.completions.create(
            model=settings.llm_model,
            messages=messages,
            response_format={"type": "json_object"},
            temperature=0,
            max_tokens=MAX_TOKENS,
        )


#: Seconds the hard deadline waits beyond ``llm_timeout`` (the client's own timeout fires first).
_GRACE_S = 0.5


def _request_with_deadline(text: str, settings: "Settings") -> Any:
    """:func:`_request` under a hard wall-clock deadline.

    The client's timeout bounds each connect / read; an endpoint that keeps sending a byte now and
    then would never trip it. The request therefore runs in a daemon thread that is abandoned once
    ``llm_timeout`` plus a short grace has passed (it ends whenever the server stops or its own
    timeouts fire; being a daemon it never holds up the process exit).
    """
    import threading

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = _request(text, settings)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=work, name="tensor-llm-planner", daemon=True)
    worker.start()
    worker.join(max(float(settings.llm_timeout), 0.0) + _GRACE_S)
    if worker.is_alive():
        raise LLMPlannerError(f"timeout after {settings.llm_timeout:.1f}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def llm_plan(text: str | bytes | None, settings: "Settings", *, fallback: Callable[[Any], Plan]) -> Plan:
    """Plan ``text`` with the configured OpenAI-compatible model, falling back to ``fallback``.

    Args:
        text: The chat message (bytes and None are handed to ``fallback``, which decodes them).
        settings: ``llm_base_url``, ``llm_api_key``, ``llm_model`` and ``llm_timeout`` are used.
        fallback: The deterministic planner (``rules_plan``); it decides ``addressed`` and the
            message truncation, provides constraint spans the model could not quote, and is the
            answer whenever the LLM fails.

    Returns:
        A plan with ``backend="llm"``, or the fallback plan with ``backend="rules"`` and a warning
        saying why the LLM was not used. Errors raised by ``fallback`` itself (bad input) propagate;
        LLM problems never raise.
    """
    rules = fallback(text)
    if not rules.addressed:
        return rules
    message = rules.text if rules.text else text if isinstance(text, str) else ""
    if not message.strip():
        return rules
    try:
        completion = _request_with_deadline(message, settings)
        draft, warnings = parse_reply(completion)
        if not draft.intents:
            raise LLMPlannerError("no intents in the reply", unavailable=False)
        return _to_plan(draft, rules, message, warnings)
    except Exception as exc:  # noqa: BLE001 - the contract: LLM problems never raise
        try:
            err = _describe(exc, settings)
        except Exception:  # noqa: BLE001 - e.g. openai itself not importable
            err = LLMPlannerError(f"{type(exc).__name__}: {str(exc)[:80]}")
        return _fallback_plan(rules, err)
