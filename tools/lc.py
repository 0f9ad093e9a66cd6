"""@TENSOR's tools as langchain-core tools, for ToolNode, create_react_agent and any tool-calling host.

One tool per catalogue tool (`tensor_agent.catalogue.TOOLS`, in run order): estimate_data,
design_architecture, tune_model, train_model, compress_model, deploy_model, track_experiment.

- The model fills only what it sees in the schema: the user's `request` plus a few typed
  overrides (fully typed pydantic models, a description per field).
- The runtime comes from LangGraph, never from the model or a hidden caller argument: the
  `ToolRuntime` that ToolNode injects gives the thread (`config["configurable"]["thread_id"]`,
  default "default"), the context (a `tensor_agent.state.Context` or a dict with its keys; any other
  host context is ignored) and the stream writer (progress events). Settings default to the
  environment (TENSOR_HOME, ...). Called directly (`tool.invoke({...})`) the same defaults apply.
- The conversation's model lives per thread: in process, and by path in
  `<workspace>/threads/lc-<thread>.json`, so "design" then "train" then "quantize" act on one model
  and two threads never share one.
- Failures come back as a clear tool message (`ToolMessage(status="error")` under ToolNode, the
  message string when called directly), never an exception that ends the host's run.

    from langgraph.prebuilt import create_react_agent
    from tensor_agent.tools.lc import TOOLS
    agent = create_react_agent(model, TOOLS)
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field, create_model

from tensor_agent.catalogue import TOOL_ORDER, TOOLS as TOOL_SPECS
from tensor_agent.errors import BackendUnavailable, TensorError



class _Common(BaseModel):
    """Arguments every tool takes (what the model fills)."""

    request: str = Field(description="The user's request in their own words, e.g. 'design a CNN for 8x8 digit images'.")
    modality: Optional[str] = Field(default=None, description="Override the data modality: tabular, image, text, "
                                    "sequence, text_generation, image_generation or graph.")
    architecture: Optional[str] = Field(default=None, description="Override the family, e.g. cnn, resnet, bert, gcn.")


_TYPES: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str, "path": str, "any": str}
#: clearer words for the model than the option table's short descriptions
_WORDS = {"accuracy_target": "Target accuracy between 0 and 1.", "epochs": "Number of epochs (1-10000).",
          "dataset": "Built-in dataset name, e.g. digits, iris, wine, breast_cancer, karate, text.",
          "technique": "int8, static_int8, qat, pruning, structured_pruning, lottery_ticket, distillation or onnx.",
          "device": "Target device: mobile, edge, cpu, server or gpu.",
          "max_params": "Largest acceptable parameter count.", "latency_ms": "Largest acceptable median latency in ms."}


def argument_fields(name: str) -> dict[str, tuple[Any, Any]]:
    """The typed overrides of tool `name`: its catalogue `arguments`, typed by the contract's option table."""
    from tensor_agent.contract import OPTIONS

    out: dict[str, tuple[Any, Any]] = {}
    for key in TOOL_SPECS[name].arguments:
        opt = OPTIONS[key]
        words = _WORDS.get(key) or f"{opt.description[:1].upper()}{opt.description[1:]}."
        if opt.choices:
            words += f" One of: {', '.join(opt.choices)}."
        out[key] = (Optional[_TYPES[opt.kind]], Field(default=None, description=words))
    return out


def args_model(name: str) -> type[BaseModel]:
    """The pydantic argument model of tool `name` (request + modality + architecture + its overrides)."""
    model = create_model(f"{''.join(p.title() for p in name.split('_'))}Args", __base__=_Common,
                         **argument_fields(name))
    model.__doc__ = f"Arguments of {name}."
    return model


# --- runtime -------------------------------------------------------------------------------
def _context(runtime: Optional[ToolRuntime]):
    """Our Context from the LangGraph runtime (thread from the config; a foreign host context is ignored)."""
    from dataclasses import fields as dc_fields

    from tensor_agent.state import Context, coerce_context

    config = getattr(runtime, "config", None) or {}
    raw = getattr(runtime, "context", None)
    if isinstance(raw, Mapping):
        known = {f.name for f in dc_fields(Context)} | {"home"}
        raw = {k: v for k, v in raw.items() if k in known}
    elif not isinstance(raw, Context):
        raw = None
    return coerce_context(raw, config)


def _artifacts_file(settings, thread_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", thread_id)[:60]
    digest = hashlib.sha1(thread_id.encode()).hexdigest()[:8]
    return settings.path("threads") / f"lc-{safe}-{digest}.json"


def _load_artifacts(settings, thread_id: str, runtime: Optional[ToolRuntime]) -> dict:
    path = _artifacts_file(settings, thread_id)
    data = json.loads(path.read_text()) if path.is_file() else {}
    state = getattr(runtime, "state", None)
    if isinstance(state, Mapping) and isinstance(state.get("artifacts"), Mapping):
        data.update(state["artifacts"])  # a host (or @TENSOR's own state) that keeps artifacts
    return data


def _save_artifacts(settings, thread_id: str, artifacts: dict) -> None:
    from tensor_agent.tools.core.context import json_safe

    path = _artifacts_file(settings, thread_id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(json_safe(artifacts)))
    tmp.replace(path)


def _progress_writer(runtime: Optional[ToolRuntime], name: str) -> Callable[[dict], None]:
    writer = getattr(runtime, "stream_writer", None)
    if writer is None:
        return lambda info: None
    return lambda info: writer({"event": "progress", "node": name, "status": "running", **info})


def _plan(name: str, request: str, options: dict, settings):
    """The resolved plan of `request`, restricted to tool `name`."""
    from tensor_agent.contract import resolve
    from tensor_agent.planner import make_plan
    from tensor_agent.schema import Plan

    text = request if "@tensor" in request.lower() else f"@TENSOR {request}"
    plan = resolve(make_plan(text, settings), options)
    update: dict[str, Any] = {"tools": [name], "addressed": True}
    if not plan.intents:
        update["intents"] = [TOOL_SPECS[name].intents[0]]
    return Plan.model_validate({**plan.model_dump(), **update})


def run_tool(name: str, arguments: Mapping[str, Any], runtime: Optional[ToolRuntime] = None,
             on_progress: Optional[Callable[[dict], None]] = None, *, context: Any = None) -> dict:
    """Run catalogue tool `name` with the model's arguments in the runtime's thread; its output as JSON.

    `context` (a tensor_agent.state.Context) replaces the runtime's, for callers outside LangGraph (the MCP server).

    Raises:
        TensorError: bad input (2), cannot be met (3), back-end unavailable (4).
    """
    from tensor_agent.tools import get_tool
    from tensor_agent.tools.core.context import ToolContext

    ctx = context if context is not None else _context(runtime)
    args = {k: v for k, v in dict(arguments).items() if v is not None}
    request = str(args.pop("request", "") or "").strip()
    if not request:
        from tensor_agent.errors import InputError

        raise InputError("request is empty: say what to do, e.g. 'design a CNN for 8x8 digit images'")
    if "architecture" in args:
        args["family"] = args.pop("architecture")
    options = {**ctx.options, **args}
    plan = _plan(name, request, options, ctx.settings)
    tctx = ToolContext(settings=ctx.settings, thread_id=ctx.thread_id, options=options, progress=False,
                       artifacts=_load_artifacts(ctx.settings, ctx.thread_id, runtime))
    tctx.on_progress = on_progress or _progress_writer(runtime, name)
    try:
        fn = get_tool(name)
    except ImportError as exc:
        raise BackendUnavailable(f"tool {name} is not available in this installation ({exc})") from exc
    out = fn(plan, tctx)
    _save_artifacts(ctx.settings, ctx.thread_id, tctx.artifacts)
    payload = out.model_dump(mode="json") if hasattr(out, "model_dump") else out
    return payload if isinstance(payload, dict) else {"output": payload}


def describe_error(name: str, exc: BaseException) -> str:
    """The clear one-line message a host sees when a tool fails."""
    if isinstance(exc, TensorError):
        hint = f" Hint: {exc.hint}" if getattr(exc, "hint", None) else ""
        return f"{name} failed (exit {exc.exit_code}): {exc.message}.{hint}".replace("..", ".")
    return f"{name} failed (internal error {type(exc).__name__}): {exc}"


def make_tool(name: str) -> BaseTool:
    """The langchain-core tool of catalogue tool `name`."""
    spec = TOOL_SPECS[name]

    def call(runtime: ToolRuntime = None, **arguments: Any) -> dict:
        try:
            return run_tool(name, arguments, runtime)
        except Exception as exc:  # noqa: BLE001 - a host's run must never end on a tool failure
            raise ToolException(describe_error(name, exc)) from exc

    call.__name__ = name
    description = (f"{spec.description} Runs @TENSOR's {name} on the conversation's model (one per thread); "
                   "returns its structured output as JSON.")
    return StructuredTool.from_function(func=call, name=name, description=description,
                                        args_schema=args_model(name), handle_tool_error=True)


TOOLS: list[BaseTool] = [make_tool(n) for n in TOOL_ORDER]
TOOLS_BY_NAME: dict[str, BaseTool] = {t.name: t for t in TOOLS}

estimate_data = TOOLS_BY_NAME["estimate_data"]
design_architecture = TOOLS_BY_NAME["design_architecture"]
tune_model = TOOLS_BY_NAME["tune_model"]
train_model = TOOLS_BY_NAME["train_model"]
compress_model = TOOLS_BY_NAME["compress_model"]
deploy_model = TOOLS_BY_NAME["deploy_model"]
track_experiment = TOOLS_BY_NAME["track_experiment"]


def handoff_tools() -> list[BaseTool]:
    """The peers' `transfer_to_<peer>` tools, for a swarm/supervisor host (see tensor_agent.peers.handoff)."""
    from tensor_agent.peers.handoff import handoff_tools as _build

    return list(_build().values())
