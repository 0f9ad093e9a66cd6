"""The peer registry: stand-in agents by name, replaceable by the host.

A peer is anything that answers ``(plan, context) -> PeerReply``. The four stand-ins
(AXIOM, VELOCITY, PRISM, ECLIPSE) live in sibling modules and register themselves with
:func:`register_peer`. A host replaces any of them, in this order of precedence:

1. a config dict passed to :func:`get_peer` (``{"PRISM": my_callable_or_"pkg.mod:attr"}``);
2. the environment variable ``TENSOR_PEERS="PRISM=pkg.mod:attr,ECLIPSE=pkg.other:graph"``;
3. :func:`register_peer` called by host code (``register_peer("PRISM", my_agent)``);
4. the built-in stand-in.

A replacement may be a plain callable ``(plan, context) -> PeerReply | dict | str`` or a
compiled LangGraph graph (anything with ``.invoke``), which is invoked with
``{"messages": [HumanMessage(plan.text)], "plan": plan.model_dump(), "text": plan.text, "context": context}``
(a ``messages``-only graph receives the request as a HumanMessage; its last message is the reply).
Errors name the mechanism that installed the replacement (register_peer, TENSOR_PEERS, config). Whatever comes
back is normalised to a :class:`PeerReply`.

Nothing heavy is imported here (no langgraph, no torch).
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tensor_agent.catalogue import PEERS as PEER_SPECS
from tensor_agent.errors import BackendUnavailable, InputError
from tensor_agent.schema import PEERS, Plan

ENV_VAR = "TENSOR_PEERS"

#: peer name -> what it is consulted for (from the catalogue).
ROLES: dict[str, str] = {name: spec.role for name, spec in PEER_SPECS.items()}


class Section(BaseModel):
    """One titled block of a peer's reply."""

    title: str = Field(description="Heading of the block, e.g. 'Validation scheme'.")
    items: list[str] = Field(default_factory=list, description="Bullet points of the block.")


class PeerReply(BaseModel):
    """The structured answer of a peer agent."""

    model_config = ConfigDict(extra="allow")

    peer: str = Field(description="Peer name in caps: AXIOM, VELOCITY, PRISM or ECLIPSE.")
    role: str = Field(default="", description="What the peer is consulted for.")
    summary: str = Field(default="", description="One or two sentences answering the request.")
    sections: list[Section] = Field(default_factory=list, description="Structured body of the answer.")
    recommendations: list[str] = Field(default_factory=list, description="Concrete next steps, best first.")
    handoff_reason: Optional[str] = Field(default=None, description="Why @TENSOR handed off to this peer.")
    data: dict[str, Any] = Field(default_factory=dict, description="Machine-readable facts (scheme, metrics, ...).")
    source: str = Field(default="stand-in", description="'stand-in' or the host replacement that answered.")

    def section(self, title: str) -> Optional[Section]:
        """The first section whose title contains `title` (case-insensitive), or None."""
        for s in self.sections:
            if title.lower() in s.title.lower():
                return s
        return None

    def to_markdown(self) -> str:
        """A readable rendering of the reply."""
        lines = [f"**@{self.peer}** ({self.role}): {self.summary}".rstrip()]
        for s in self.sections:
            lines.append(f"\n*{s.title}*")
            lines += [f"- {i}" for i in s.items]
        if self.recommendations:
            lines.append("\n*Recommendations*")
            lines += [f"{n}. {r}" for n, r in enumerate(self.recommendations, 1)]
        return "\n".join(lines)


PeerFn = Callable[[Plan, dict], Any]
PeerLike = Union[PeerFn, Any, str]

_STANDINS: dict[str, PeerFn] = {}
_HOSTS: dict[str, Any] = {}
_STANDIN_MODULES = {name: spec.entrypoint.partition(":")[0] for name, spec in PEER_SPECS.items()}


def normalise_name(name: str) -> str:
    """'@prism ' -> 'PRISM'; raises InputError for names that are not peers."""
    if not isinstance(name, str):
        raise InputError(f"peer name must be a string, got {type(name).__name__}",
                         hint=f"known peers: {', '.join(PEERS)}")
    key = name.strip().lstrip("@").strip().upper()
    if key not in ROLES:
        raise InputError(f"unknown peer '{name}' (known: {', '.join(PEERS)})",
                         hint="peer names are AXIOM, ECLIPSE, PRISM, VELOCITY")
    return key


def register_peer(name: str, obj: Optional[PeerLike] = None, *, standin: bool = False):
    """Register `obj` as the peer `name` (usable as a decorator when `obj` is omitted).

    Args:
        name: Peer name (any case, an optional leading '@').
        obj: A callable ``(plan, context) -> PeerReply | dict | str``, a compiled LangGraph
            graph (has ``.invoke``) or an import spec ``"pkg.mod:attr"``.
        standin: Internal: register a built-in stand-in (lowest precedence).

    Returns:
        `obj` (so the decorator form leaves the function unchanged).
    """
    key = normalise_name(name)

    def _do(target: PeerLike) -> PeerLike:
        if not isinstance(target, str):
            _check_peer_object(target, f"register_peer({key!r}, ...)")
        (_STANDINS if standin else _HOSTS)[key] = target
        return target

    if obj is None:
        return _do
    return _do(obj)


def unregister_peer(name: str) -> None:
    """Drop a host replacement of `name` (the stand-in answers again)."""
    _HOSTS.pop(normalise_name(name), None)


def list_peers() -> list[str]:
    """The peer names, sorted."""
    return list(PEERS)


def _check_peer_object(obj: Any, where: str) -> None:
    if hasattr(obj, "invoke") or callable(obj):
        return
    raise InputError(f"{where}: {type(obj).__name__} object is neither callable nor a LangGraph graph",
                     hint="give a function (plan, context) -> PeerReply | dict | str, or a compiled graph")


def _import_spec(spec: str, where: str) -> Any:
    """Resolve 'pkg.mod:attr' (or 'pkg.mod.attr') to the object."""
    spec = spec.strip()
    if ":" in spec:
        mod_name, _, attr = spec.partition(":")
    else:
        mod_name, _, attr = spec.rpartition(".")
    if not mod_name or not attr:
        raise InputError(f"{where}: '{spec}' is not an import spec", hint="write it as package.module:attribute")
    try:
        module = importlib.import_module(mod_name)
    except Exception as exc:  # ImportError and anything the module raises while importing
        raise InputError(f"{where}: cannot import module '{mod_name}': {exc}",
                         hint="check the module is installed and on PYTHONPATH") from exc
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise InputError(f"{where}: module '{mod_name}' has no attribute '{attr}'",
                             hint="check the attribute name after ':'") from exc
    _check_peer_object(obj, where)
    return obj


def parse_peer_spec(spec: str) -> dict[str, str]:
    """Parse ``"PRISM=pkg.mod:attr,ECLIPSE=pkg.other:graph"`` into ``{"PRISM": "pkg.mod:attr", ...}``.

    Raises:
        InputError: naming TENSOR_PEERS and the bad entry.
    """
    out: dict[str, str] = {}
    for raw in spec.replace(";", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        name, eq, target = entry.partition("=")
        if not eq or not name.strip() or not target.strip():
            raise InputError(f"{ENV_VAR}: bad entry '{entry}'",
                             hint="use NAME=package.module:attribute, comma-separated, e.g. PRISM=mypkg.agents:prism")
        try:
            key = normalise_name(name)
        except InputError as exc:
            raise InputError(f"{ENV_VAR}: {exc.message}", hint=exc.hint) from exc
        out[key] = target.strip()
    return out


def _resolve(key: str, config: Optional[Mapping[str, Any]]) -> tuple[Any, str]:
    """The object answering for `key` and a label saying where it came from."""
    if config:
        for name, target in config.items():
            if normalise_name(name) == key:
                if isinstance(target, str):
                    return _import_spec(target, f"peer config {key}"), f"config:{target}"
                _check_peer_object(target, f"peer config {key}")
                return target, f"config:{_label(target)}"
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        specs = parse_peer_spec(env)
        if key in specs:
            return _import_spec(specs[key], f"{ENV_VAR} {key}"), f"env:{specs[key]}"
    if key in _HOSTS:
        target = _HOSTS[key]
        if isinstance(target, str):
            return _import_spec(target, f"register_peer {key}"), f"host:{target}"
        return target, f"host:{_label(target)}"
    if key not in _STANDINS:
        importlib.import_module(_STANDIN_MODULES[key])
    return _STANDINS[key], "stand-in"


def _label(obj: Any) -> str:
    mod = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or getattr(obj, "name", None) or type(obj).__name__
    return f"{mod}:{name}"


def coerce_plan(plan: Any) -> Plan:
    """Accept a Plan, a dict (``plan.model_dump()``) or a message string."""
    if isinstance(plan, Plan):
        return plan
    if isinstance(plan, Mapping):
        try:
            return Plan.model_validate(dict(plan))
        except ValidationError as exc:
            raise InputError(f"peer input: invalid plan ({exc.error_count()} errors: {exc.errors()[0]['msg']})",
                             hint="pass a tensor_agent.schema.Plan or its model_dump()") from exc
    if isinstance(plan, str):
        return Plan(addressed=True, text=plan)
    raise InputError(f"peer input: expected a Plan, got {type(plan).__name__}",
                     hint="pass a tensor_agent.schema.Plan")


def coerce_context(context: Any) -> dict:
    """A dict view of the context (a dict, None, or a ToolContext-like object)."""
    if context is None:
        return {}
    if isinstance(context, Mapping):
        return dict(context)
    out: dict[str, Any] = {}
    for attr in ("results", "options", "artifacts", "thread_id"):
        if hasattr(context, attr):
            out[attr] = getattr(context, attr)
    return out


def to_reply(raw: Any, key: str, *, source: str, reason: Optional[str] = None) -> PeerReply:
    """Normalise what a peer returned (PeerReply, dict, str, graph state, message) to a PeerReply."""
    if isinstance(raw, PeerReply):
        reply = raw.model_copy()
    elif isinstance(raw, str):
        reply = PeerReply(peer=key, summary=raw.strip())
    elif isinstance(raw, Mapping):
        data = dict(raw)
        for inner in ("reply", "peer_reply", "result", "output", "answer"):
            if inner in data and isinstance(data[inner], (PeerReply, Mapping, str)):
                return to_reply(data[inner], key, source=source, reason=reason)
        if "summary" not in data and data.get("messages"):
            last = data["messages"][-1]
            content = getattr(last, "content", None)
            if content is None and isinstance(last, Mapping):
                content = last.get("content")
            return to_reply(str(content if content is not None else last), key, source=source, reason=reason)
        data.setdefault("peer", key)
        if isinstance(data.get("sections"), Mapping):  # {"title": [items]} shorthand
            data["sections"] = [{"title": t, "items": list(v) if not isinstance(v, str) else [v]}
                                for t, v in data["sections"].items()]
        try:
            reply = PeerReply.model_validate(data)
        except ValidationError as exc:
            raise InputError(f"peer {key} ({describe_source(source)}) returned an invalid reply: {exc.errors()[0]['msg']} "
                             f"at {'.'.join(map(str, exc.errors()[0]['loc']))}",
                             hint="return a PeerReply, a dict with its fields, or a string") from exc
    elif hasattr(raw, "content"):  # a langchain message
        reply = PeerReply(peer=key, summary=str(raw.content))
    else:
        raise InputError(f"peer {key} ({describe_source(source)}) returned {type(raw).__name__}",
                         hint="return a PeerReply, a dict with its fields, or a string")
    reply.peer = key
    if not reply.role:
        reply.role = ROLES[key]
    if reply.handoff_reason is None and reason:
        reply.handoff_reason = reason
    if source != "stand-in":
        reply.source = source
    return reply


def graph_input(plan: Plan, context: dict, reason: Optional[str] = None) -> dict:
    """The input a replacement graph gets: the request as a HumanMessage (for `messages` graphs) plus
    ``plan``, ``text`` and ``context`` (for graphs with those keys; a graph ignores keys it lacks)."""
    from langchain_core.messages import HumanMessage  # only when a graph is the peer

    meta = {"plan": plan.model_dump(mode="json"), "handoff_reason": reason} if reason else {}
    return {"messages": [HumanMessage(content=plan.text, additional_kwargs={"tensor": meta} if meta else {})],
            "plan": plan.model_dump(mode="json"), "text": plan.text, "context": context}


_MECHANISMS = {"host": "register_peer", "env": ENV_VAR, "config": "get_peer(config=...)"}


def describe_source(source: str) -> str:
    """'host:pkg.mod:fn' -> 'replaced with register_peer: pkg.mod:fn' (names the mechanism used)."""
    kind, _, target = source.partition(":")
    if kind not in _MECHANISMS:
        return source
    return f"replaced with {_MECHANISMS[kind]}: {target}"


def undo_hint(name: str, source: str) -> str:
    kind = source.partition(":")[0]
    if kind == "host":
        return f"fix the replacement, or call unregister_peer({name!r}) to use the stand-in"
    if kind == "env":
        return f"fix the replacement, or remove {name}=... from {ENV_VAR} to use the stand-in"
    return f"fix the replacement in the config passed to get_peer for {name}"


class _PeerRunner:
    """A callable wrapping whatever answers for a peer; always returns a PeerReply."""

    def __init__(self, key: str, target: Any, source: str):
        self.name = key
        self.target = target
        self.source = source
        self.is_graph = hasattr(target, "invoke")

    def __repr__(self) -> str:
        return f"<peer {self.name} from {self.source}>"

    def __call__(self, plan: Any, context: Any = None) -> PeerReply:
        plan = coerce_plan(plan)
        ctx = coerce_context(context)
        reason = ctx.get("reason") or (ctx.get("handoff_reasons") or {}).get(self.name)
        try:
            if self.is_graph:
                raw = self.target.invoke(graph_input(plan, ctx, reason))
            else:
                raw = self.target(plan, ctx)
        except (InputError, BackendUnavailable):
            raise
        except Exception as exc:
            if self.source == "stand-in":
                raise
            raise BackendUnavailable(f"peer {self.name} ({describe_source(self.source)}) failed: "
                                     f"{type(exc).__name__}: {exc}", hint=undo_hint(self.name, self.source)) from exc
        return to_reply(raw, self.name, source=self.source, reason=reason)


def get_peer(name: str, settings: Any = None, *, config: Optional[Mapping[str, Any]] = None) -> _PeerRunner:
    """The callable answering for peer `name`: ``fn(plan, context) -> PeerReply``.

    Args:
        name: AXIOM, VELOCITY, PRISM or ECLIPSE (any case, optional '@').
        settings: The agent's Settings (unused for now; kept for the agreed signature).
        config: Optional ``{peer: callable | graph | "pkg.mod:attr"}`` replacements, taking
            precedence over ``TENSOR_PEERS`` and :func:`register_peer`.

    Raises:
        InputError: unknown peer name, or a bad replacement spec (naming TENSOR_PEERS).
    """
    key = normalise_name(name)
    target, source = _resolve(key, config)
    return _PeerRunner(key, target, source)


def run_peer(name: str, plan: Any, context: Any = None, *, settings: Any = None,
             config: Optional[Mapping[str, Any]] = None) -> PeerReply:
    """Shortcut: ``get_peer(name, settings, config=config)(plan, context)``."""
    return get_peer(name, settings, config=config)(plan, context)
