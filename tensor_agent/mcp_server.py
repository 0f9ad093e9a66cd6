"""`tensor-agent mcp`: @TENSOR's tools as an MCP server (stdio, or streamable HTTP with --http PORT).

Built on the official MCP Python SDK 1.x (`mcp.server.fastmcp`; pinned `mcp>=1.20,<2` because
langchain-mcp-adapters pins `mcp<2` and SDK 2.x removed `fastmcp`). Tools:

- ``ask``: the whole agent (plan -> tools -> peers -> memory) in a conversation thread;
- ``plan``: what @TENSOR would do, running nothing;
- ``design``, ``train``, ``compress``, ``estimate`` (and ``tune``, ``deploy``, ``track``): one catalogue tool
  each, typed arguments generated from the catalogue and the option table (like the LangChain tools);
- ``memory_search`` and ``fitness``: the vector memory.

Long work reports MCP progress notifications (node starts/ends, training epochs, a heartbeat every
few seconds) when the client sends a progress token. Failures come back as tool errors (isError) with
the clear one-line message and its exit code. With stdio, anything the work prints goes to stderr, so
stdout carries only the protocol.
"""


import asyncio
import inspect
import queue
import time
from typing import Annotated, Any, Callable, Optional

from pydantic import Field

from tensor_agent.catalogue import TOOLS as TOOL_SPECS

#: MCP tool name -> catalogue tool
SHORT_NAMES = {"estimate": "estimate_data", "design": "design_architecture", "tune": "tune_model",
               "train": "train_model", "compress": "compress_model", "deploy": "deploy_model",
               "track": "track_experiment"}
HEARTBEAT_S = 2.0
ThreadArg = Annotated[str, Field(description="Conversation thread: tools in one thread act on the same model.")]


async def _with_progress(ctx: Any, work: Callable[[Callable[[dict], None]], Any]) -> Any:
    """Run blocking `work(on_progress)` in a worker thread; relay its progress events as MCP notifications."""
    from tensor_agent.serve.runner import describe_progress

    events: queue.SimpleQueue = queue.SimpleQueue()
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, work, events.put)
    started = last = time.monotonic()
    step = 0
    while True:
        done, _ = await asyncio.wait({future}, timeout=0.25)
        sent = False
        while not events.empty():
            step += 1
            await ctx.report_progress(step, None, describe_progress(events.get()))
            sent = True
        now = time.monotonic()
        if sent:
            last = now
        elif now - last >= HEARTBEAT_S and not done:
            step += 1
            last = now
            await ctx.report_progress(step, None, f"working ({now - started:.0f}s)")
        if done:
            return future.result()


def _tool_error(name: str, exc: BaseException):
    from mcp.server.fastmcp.exceptions import ToolError

    from tensor_agent.tools.lc import describe_error

    return ToolError(describe_error(name, exc))


class TensorMCP:
    """The server's state (workspace runner) and its tool functions."""

    def __init__(self, home: Optional[str] = None, *, remember: bool = True):
        self.home = home
        self.remember = remember
        self._runner = None

    @property
    def runner(self):
        if self._runner is None:
            from tensor_agent.serve.runner import GraphRunner

            self._runner = GraphRunner(self.home, remember=self.remember)
        return self._runner

    def context(self, thread_id: str):
        from tensor_agent.state import Context

        return Context(settings=self.runner.settings, thread_id=thread_id, remember=self.remember)

    # --- whole agent -------------------------------------------------------------------
    async def ask(self, message: Annotated[str, Field(description="The request, e.g. 'train a CNN on digits'.")],
                  ctx: Any, thread_id: ThreadArg = "mcp",
                  options: Annotated[Optional[dict[str, Any]], Field(
                      description="Tool options, e.g. {\"epochs\": 1, \"dataset\": \"digits\"}.")] = None,
                  ) -> dict[str, Any]:
        """Ask @TENSOR (plans, runs the tools and peers, remembers). Returns the readable answer and the Result."""
        try:
            result = await _with_progress(ctx, lambda emit: self.runner.run(message, thread_id, options=options,
                                                                            on_progress=emit))
        except Exception as exc:  # noqa: BLE001 - one clear tool error
            raise _tool_error("ask", exc) from exc
        return {"answer": result.message, "result": result.model_dump(mode="json")}

    def plan(self, message: Annotated[str, Field(description="The request to plan.")],
             options: Annotated[Optional[dict[str, Any]], Field(description="Tool options to reconcile.")] = None,
             ) -> dict[str, Any]:
        """What @TENSOR would do for a request (intents, tools, peers, settings), without running anything."""
        from tensor_agent.contract import resolve
        from tensor_agent.planner import make_plan

        text = message if "@tensor" in (message or "").lower() else f"@TENSOR {message}"
        try:
            return resolve(make_plan(text, self.runner.settings), options or {}).model_dump(mode="json")
        except Exception as exc:  # noqa: BLE001
            raise _tool_error("plan", exc) from exc

    # --- memory ------------------------------------------------------------------------
    def memory_search(self, text: Annotated[str, Field(description="What to look for, e.g. 'cnn for digits'.")],
                      k: Annotated[int, Field(ge=1, le=100, description="How many records.")] = 5,
                      kind: Annotated[Optional[str], Field(description="design or outcome (default: both).")] = None,
                      ) -> dict[str, Any]:
        """Search @TENSOR's vector memory of designs and experiment outcomes (cosine similarity)."""
        from tensor_agent.memory import open_memory

        try:
            return {"records": open_memory(self.runner.settings).search(text, k=k, kind=kind)}
        except Exception as exc:  # noqa: BLE001
            raise _tool_error("memory_search", exc) from exc

    def fitness(self, modality: Annotated[str, Field(description="tabular, image, text, sequence, graph, ...")],
                task: Annotated[Optional[str], Field(description="Task, e.g. classification.")] = None,
                ) -> dict[str, Any]:
        """Fitness of each architecture family for a modality, from the outcomes in memory (best first)."""
        from tensor_agent.memory import open_memory

        try:
            fits = open_memory(self.runner.settings).fitness(modality, task)
        except Exception as exc:  # noqa: BLE001
            raise _tool_error("fitness", exc) from exc
        return {"modality": modality, "families": [f.as_dict() for f in fits]}

    # --- one catalogue tool ------------------------------------------------------------
    def catalogue_tool(self, short: str) -> Callable:
        """An async MCP tool function for catalogue tool SHORT_NAMES[short], its signature from the catalogue."""
        from mcp.server.fastmcp import Context as MCPContext

        from tensor_agent.tools.lc import _Common, argument_fields, run_tool

        name = SHORT_NAMES[short]

        async def tool(ctx: MCPContext, thread_id: str = "mcp", **arguments: Any) -> dict[str, Any]:
            context = self.context(thread_id)
            try:
                def work(emit):
                    emit({"node": name, "status": "start"})
                    return run_tool(name, arguments, on_progress=emit, context=context)

                return await _with_progress(ctx, work)
            except Exception as exc:  # noqa: BLE001
                raise _tool_error(short, exc) from exc

        params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=MCPContext)]
        fields = {k: (f.annotation, f) for k, f in _Common.model_fields.items()} | argument_fields(name)
        for key, (typ, info) in fields.items():
            default = inspect.Parameter.empty if info.is_required() else None
            params.append(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=Annotated[typ, Field(description=info.description)]))
        params.append(inspect.Parameter("thread_id", inspect.Parameter.KEYWORD_ONLY, default="mcp",
                                        annotation=ThreadArg))
        tool.__signature__ = inspect.Signature(params, return_annotation=dict[str, Any])  # type: ignore[attr-defined]
        tool.__annotations__ = {p.name: p.annotation for p in params} | {"return": dict[str, Any]}
        tool.__name__ = short
        tool.__doc__ = f"{TOOL_SPECS[name].description} (@TENSOR's {name}; the thread's model.)"
        return tool


def build_server(home: Optional[str] = None, *, host: str = "127.0.0.1", port: int = 8000, remember: bool = True):
    """The FastMCP server with @TENSOR's tools."""
    from mcp.server.fastmcp import Context as MCPContext, FastMCP

    state = TensorMCP(home, remember=remember)
    server = FastMCP("tensor-agent", instructions="@TENSOR, the ML specialist: plan, design, train, compress, "
                     "estimate data needs and search its memory. Tools in one thread_id act on the same model.",
                     host=host, port=port)

    async def ask(message: Annotated[str, Field(description="The request, e.g. 'train a CNN on digits'.")],
                  ctx: MCPContext, thread_id: ThreadArg = "mcp",
                  options: Annotated[Optional[dict[str, Any]], Field(
                      description='Tool options, e.g. {"epochs": 1, "dataset": "digits"}.')] = None) -> dict[str, Any]:
        """Ask @TENSOR (plans, runs the tools and peers, remembers). Returns the readable answer and the Result."""
        return await state.ask(message, ctx, thread_id, options)

    server.add_tool(ask, name="ask")
    server.add_tool(state.plan, name="plan")
    for short in SHORT_NAMES:
        server.add_tool(state.catalogue_tool(short), name=short)
    server.add_tool(state.memory_search, name="memory_search")
    server.add_tool(state.fitness, name="fitness")
    server._tensor_state = state  # type: ignore[attr-defined]
    return server


async def _run_stdio(server) -> None:
    """stdio transport with the protocol on the real stdout and everything else printed on stderr."""
    import io
    import os
    import sys

    import anyio
    from mcp.server.stdio import stdio_server

    proto = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # prints (ours, libraries', C code) -> stderr
    sys.stdout = sys.stderr
    out = anyio.wrap_file(io.TextIOWrapper(proto, encoding="utf-8", write_through=True))
    async with stdio_server(stdout=out) as (read, write):
        await server._mcp_server.run(read, write, server._mcp_server.create_initialization_options())


def serve(home: Optional[str] = None, *, http_port: Optional[int] = None, host: str = "127.0.0.1",
          remember: bool = True) -> int:
    """Run the server until the client disconnects (stdio) or the process is stopped (HTTP)."""
    import logging

    logging.getLogger("mcp").setLevel(logging.WARNING)
    server = build_server(home, host=host, port=http_port or 8000, remember=remember)
    if http_port:
        server.settings.log_level = "WARNING"
        server.run("streamable-http")
    else:
        import anyio

        anyio.run(_run_stdio, server)
    return 0
