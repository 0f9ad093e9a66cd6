"""The @TENSOR graph: parse -> recall -> route -> tools / peer handoffs -> remember -> respond.

Reads top to bottom like the LangGraph react-agent template: small nodes `(state, config, runtime)`,
routers returning the next node, and `graph = builder.compile(name="TENSOR")` at the bottom
(listed in langgraph.json). `TensorAgent` compiles the same builder with a SQLite checkpointer
so conversations persist per thread.

The graph speaks messages, so a host can add it as a node or a subgraph:

    {"messages": [HumanMessage("design a CNN for 8x8 digits")]}   # or {"text": "@TENSOR ..."}
    -> {"messages": [..., AIMessage(name="TENSOR", content=<answer>, additional_kwargs={"tensor": <Result>})],
        "tensor": <Result as JSON>}

A request that arrives as a message was routed to @TENSOR by its host, so it counts as addressed
(a `text` request still needs the @TENSOR mention). The context may be omitted (settings from the
environment), a `Context` or a plain dict; the thread is `config["configurable"]["thread_id"]`.
Stream mode "custom" carries progress events `{"event": "progress", "node", "status", ...}`.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from tensor_agent.catalogue import PEERS, TOOL_ORDER, tools_for
from tensor_agent.errors import BackendUnavailable, TensorError
from tensor_agent.planner import make_plan
from tensor_agent.respond import compose_message
from tensor_agent.schema import Plan, Result
from tensor_agent.state import Context, InputState, OutputState, State, coerce_context

#: Graph nodes of the tools and peers, in the catalogue's order.
TOOL_NODES: tuple[str, ...] = tuple(TOOL_ORDER)
PEER_NODES: tuple[str, ...] = tuple(PEERS)
#: Tools whose outcomes the memory records (the ones serving design, train and compress requests).
REMEMBERED_TOOLS: tuple[str, ...] = tuple(tools_for(("design", "train", "compress")))
AGENT_NAME = "TENSOR"
_ROUTES = (*TOOL_NODES, "handoff", "remember")


def _plan(state: State) -> Plan:
    return Plan.model_validate(state["plan"])


def _ctx(runtime: Runtime | None, config: RunnableConfig | None) -> Context:
    """The run's Context: none, a Context or a dict, plus the config's thread id."""
    return coerce_context(getattr(runtime, "context", None), config)


def _emit(event: dict) -> None:
    """A progress event on stream mode "custom" (a no-op when nobody streams it)."""
    try:
        writer = get_stream_writer()
    except RuntimeError:  # outside a run
        return
    writer({"event": "progress", **event})


def _tool_context(state: State, ctx: Context):
    from tensor_agent.tools.core.context import ToolContext

    options = dict(ctx.options)
    if not getattr(ctx, "remember", True):  # --no-memory: tools do not open the memory either
        options.setdefault("use_memory", False)
    tctx = ToolContext(settings=ctx.settings, thread_id=ctx.thread_id, options=options,
                       artifacts=dict(state.get("artifacts") or {}), progress=ctx.progress,
                       results=dict(state.get("results") or {}))
    tctx.on_progress = lambda info: _emit({"node": info.get("stage", "tool"), "status": "running", **info})
    return tctx


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, TensorError):
        return str(exc)
    return f"internal error ({type(exc).__name__}): {exc}"


def _failure(name: str, exc: BaseException) -> dict:
    """State update for a failed tool/peer: the message and its documented exit code."""
    code = exc.exit_code if isinstance(exc, TensorError) else 1
    out = {"errors": {name: _describe_failure(exc)}, "codes": {name: code}}
    payload = getattr(exc, "payload", None)  # e.g. the nearest design of an infeasible budget
    if isinstance(payload, dict):
        out["results"] = {name: payload}
    return out


def _content_text(content: Any) -> str:
    """A message's text (string content or the text blocks of a content list)."""
    if isinstance(content, str):
        return content
    parts = [b.get("text", "") if isinstance(b, dict) else str(b) for b in content or []]
    return "\n".join(p for p in parts if p)


def _request(state: State) -> tuple[str, list]:
    """The request of this turn and the messages to add: `text` if given, else the last human message."""
    text = state.get("text")
    if isinstance(text, (bytes, bytearray)):
        from tensor_agent.planner.normalize import decode

        text, _ = decode(text)
    if text:
        return text, [HumanMessage(content=text)]
    for msg in reversed(state.get("messages") or []):
        if getattr(msg, "type", None) == "human":
            body = _content_text(msg.content).strip()
            if body and "@tensor" not in body.lower():
                body = f"@TENSOR {body}"  # routed to @TENSOR by the host: addressed
            return body, []
    return "", []


# --- nodes ---------------------------------------------------------------------------------
def parse(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict:
    """Turn the request into a plan (reconciled with the options); reset the per-turn fields."""
    from tensor_agent.contract import resolve

    ctx = _ctx(runtime, config)
    text, new_messages = _request(state)
    plan = resolve(make_plan(text, ctx.settings), ctx.options)
    _emit({"node": "parse", "status": "done", "intents": list(plan.intents), "tools": list(plan.tools)})
    return {"plan": plan.model_dump(mode="json"), "pending": list(plan.tools), "peer_queue": list(plan.peers),
            "results": None, "errors": None, "codes": None, "peers": None, "handoff_reasons": None, "recall": {},
            "message": "", "text": text, "thread_id": ctx.thread_id, "messages": new_messages}


def recall(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict:
    """Ask the vector memory what worked before (only for recall requests: memory is slow to open)."""
    plan = _plan(state)
    if "recall" not in plan.intents:
        return {}
    try:
        from tensor_agent.memory import open_memory

        return {"recall": open_memory(_ctx(runtime, config).settings).recall(plan)}
    except Exception as exc:  # noqa: BLE001 - a memory failure must not sink the turn
        return {"recall": {}, **_failure("memory", exc)}


def route(state: State) -> str:
    """Next tool in order, then the peer handoffs, then memory."""
    if state.get("pending"):
        return state["pending"][0]
    if state.get("peer_queue"):
        return "handoff"
    return "remember"


def _load_tool(name: str):
    from tensor_agent.tools import get_tool

    try:
        return get_tool(name)
    except ImportError as exc:
        raise BackendUnavailable(f"tool {name} is not available in this installation ({exc})",
                                 hint="install the package that provides it, or ask for another tool") from exc


def _call_tool(name: str, state: State, ctx) -> Any:
    """The tool's JSON payload: from the CLI's tool worker when one runs (same function, same inputs), else here."""
    from tensor_agent import toolworker

    worker = toolworker.active(ctx.settings)
    payload = worker.run(name, state["plan"], ctx) if worker is not None else None
    if payload is None:  # no worker, or it is gone: run the tool in this process
        out = _load_tool(name)(_plan(state), ctx)
        payload = out.model_dump(mode="json") if hasattr(out, "model_dump") else out
    return payload


def _run_tool(name: str, state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict:
    ctx = _tool_context(state, _ctx(runtime, config))
    rest = [t for t in state.get("pending", []) if t != name]
    started = time.perf_counter()
    _emit({"node": name, "status": "start"})
    try:
        payload = _call_tool(name, state, ctx)
        if isinstance(payload, dict):
            payload.setdefault("wall_s", round(time.perf_counter() - started, 3))
        _emit({"node": name, "status": "done", "wall_s": round(time.perf_counter() - started, 3)})
        return {"results": {name: payload}, "pending": rest, "artifacts": ctx.artifacts}
    except Exception as exc:  # noqa: BLE001 - every failure becomes a clear message in the result
        _emit({"node": name, "status": "failed", "error": _describe_failure(exc)})
        return {**_failure(name, exc), "pending": rest, "artifacts": ctx.artifacts}


def tool_node(name: str):
    """The graph node that runs tool `name` (one per tool, same behaviour)."""

    def node(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict:
        return _run_tool(name, state, config, runtime)

    node.__name__ = node.__qualname__ = name
    return node


def handoff(state: State) -> Command:
    """Hand off to the next peer with its `transfer_to_<peer>` tool (langgraph-swarm style)."""
    from tensor_agent.peers.handoff import handoff_tools

    peer, rest = state["peer_queue"][0], state["peer_queue"][1:]
    reason = f"@TENSOR consults @{peer} on: {(state.get('text') or '')[:200]}"
    command: Command = handoff_tools()[peer].invoke({"reason": reason})
    update = dict(command.update or {})
    update["peer_queue"] = rest
    return Command(goto=command.goto, update=update)


def _run_peer(name: str, state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict:
    from tensor_agent.peers import get_peer

    ctx = _ctx(runtime, config)
    context = {"results": state.get("results") or {}, "artifacts": state.get("artifacts") or {},
               "options": ctx.options, "reason": (state.get("handoff_reasons") or {}).get(name),
               "thread_id": ctx.thread_id, "workspace": str(ctx.settings.home)}
    _emit({"node": name, "status": "start"})
    try:
        reply = get_peer(name, ctx.settings)(_plan(state), context)
        payload = reply.model_dump(mode="json") if hasattr(reply, "model_dump") else reply
        return {"peers": {name: payload}}
    except Exception as exc:  # noqa: BLE001
        return _failure(name, exc)


def peer_node(name: str):
    """The graph node of peer `name`: asks the registered agent (stand-in or host replacement)."""

    def node(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict:
        return _run_peer(name, state, config, runtime)

    node.__name__ = node.__qualname__ = name.lower()
    return node


def remember(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict:
    """Record designs and experiment outcomes of this turn in the vector memory."""
    ctx = _ctx(runtime, config)
    results = state.get("results") or {}
    attempted = set(results) | set(state.get("errors") or {})
    if not ctx.remember or not (set(REMEMBERED_TOOLS) & attempted):
        return {}
    try:
        from tensor_agent.memory import open_memory

        ids = open_memory(ctx.settings).remember_turn(_plan(state), results, errors=state.get("errors") or {},
                                                      codes=state.get("codes") or {})
        return {"artifacts": {"memory_ids": ids}}
    except Exception as exc:  # noqa: BLE001 - memory problems are reported, the answer still goes out
        return _failure("memory", exc)


def _result(state: State, message: str) -> Result:
    plan = state.get("plan") or Plan(addressed=False).model_dump(mode="json")
    return Result(plan=Plan.model_validate(plan), results=state.get("results") or {},
                  peers=state.get("peers") or {}, recall=state.get("recall") or {}, message=message,
                  errors=state.get("errors") or {}, codes=state.get("codes") or {},
                  thread_id=state.get("thread_id"))


def respond(state: State) -> dict:
    """Write the readable answer as an AIMessage named TENSOR (structured Result attached); close the turn."""
    message = compose_message(state)
    plan = state.get("plan") or {}
    turn = {"text": (state.get("text") or "")[:500], "intents": plan.get("intents", []),
            "tools": sorted((state.get("results") or {}).keys()), "errors": sorted((state.get("errors") or {}).keys())}
    tensor = _result(state, message).model_dump(mode="json")
    reply = AIMessage(content=message, name=AGENT_NAME, additional_kwargs={"tensor": tensor})
    return {"message": message, "history": [turn], "tensor": tensor, "messages": [reply], "text": ""}


def after_parse(state: State) -> str:
    plan = state.get("plan") or {}
    return "recall" if plan.get("addressed") and plan.get("intents") else "respond"


# --- wiring --------------------------------------------------------------------------------
def build() -> StateGraph:
    """The uncompiled graph (typed input, output and context schemas)."""
    b = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    b.add_node("parse", parse)
    b.add_node("recall", recall)
    for name in TOOL_NODES:
        b.add_node(name, tool_node(name))
    b.add_node("handoff", handoff, destinations=PEER_NODES)
    for peer in PEER_NODES:
        b.add_node(peer, peer_node(peer))
    b.add_node("remember", remember)
    b.add_node("respond", respond)

    b.add_edge(START, "parse")
    b.add_conditional_edges("parse", after_parse, ["recall", "respond"])
    for source in ("recall", *TOOL_NODES, *PEER_NODES):
        b.add_conditional_edges(source, route, list(_ROUTES))
    b.add_edge("remember", "respond")
    b.add_edge("respond", END)
    return b


builder = build()
graph = builder.compile(name=AGENT_NAME)


def compile_with_checkpointer(checkpointer: Any):
    """The same graph with a checkpointer (TensorAgent uses SQLite under the workspace)."""
    return builder.compile(checkpointer=checkpointer, name=AGENT_NAME)


def result_of(output: dict) -> Result:
    """The structured Result of a graph output (``graph.invoke(...)`` returns ``{"messages", "tensor"}``)."""
    return Result.model_validate(output["tensor"])
