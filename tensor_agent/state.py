"""Graph state, input/output schemas and run-scoped context of the @TENSOR graph.

Three typed schemas (``typing_extensions.TypedDict`` so pydantic can build JSON schemas on
Python 3.10-3.13):

- :class:`InputState`: what a caller sends, ``messages`` (the last human message is the
  request) and/or ``text``;
- :class:`OutputState`: what a caller gets back, ``messages`` with one ``AIMessage`` named
  ``TENSOR`` appended (content: the readable answer; ``additional_kwargs["tensor"]``: the
  structured Result) and ``tensor`` (the same Result as JSON);
- :class:`State`: the internal state of one conversation thread.

The context may be omitted, a :class:`Context`, or a plain dict (see :func:`coerce_context`).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping, Optional

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import Annotated, TypedDict

from tensor_agent.config import Settings


def _merge(left: dict | None, right: dict | None) -> dict:
    """Reducer: dict union (right wins). Sending None resets to {}."""
    if right is None:
        return {}
    return {**(left or {}), **right}


class InputState(TypedDict, total=False):
    """What a caller sends: a conversation (``messages``) or one message (``text``)."""

    messages: Annotated[list[AnyMessage], add_messages]  # the last human message is the request
    text: str                                            # one message (instead of messages)


class OutputState(TypedDict, total=False):
    """What a caller gets back: the conversation with @TENSOR's answer, and the structured Result."""

    messages: Annotated[list[AnyMessage], add_messages]  # ends with an AIMessage named TENSOR
    tensor: dict                                         # tensor_agent.schema.Result as JSON


class State(TypedDict, total=False):
    """One conversation thread. `artifacts`, `history` and `messages` outlive the turn; the rest is per turn."""

    messages: Annotated[list[AnyMessage], add_messages]  # the conversation (host's and @TENSOR's)
    text: str                                   # the user's message of this turn (cleared at the end)
    plan: Optional[dict]                        # Plan.model_dump(mode="json")
    recall: dict                                # what memory said before routing
    pending: list[str]                          # tools still to run this turn, in order
    peer_queue: list[str]                       # peers still to consult this turn
    handoffs: Annotated[list[str], operator.add]  # peers handed off to (set by transfer_to_* tools)
    handoff_reasons: Annotated[dict, _merge]
    results: Annotated[dict, _merge]            # tool name -> structured output (JSON)
    errors: Annotated[dict, _merge]             # tool/peer name -> clear error message
    codes: Annotated[dict, _merge]              # tool/peer name -> documented exit code of its failure
    peers: Annotated[dict, _merge]              # peer name -> reply (JSON)
    artifacts: Annotated[dict, _merge]          # thread memory: current model, last design, runs
    message: str                                # readable answer
    tensor: dict                                # the turn's Result as JSON (also on the AIMessage)
    thread_id: str                              # the thread this turn ran in
    history: Annotated[list[dict], operator.add]  # one entry per finished turn


@dataclass
class Context:
    """Run-scoped context (LangGraph `context_schema`): never stored in the checkpoint.

    Every field has a default, so a run without context works (settings from the environment,
    thread id from ``config["configurable"]["thread_id"]``).
    """

    settings: Settings = field(default_factory=Settings.from_env,
                               metadata={"description": "Workspace and back-end settings."})
    options: dict[str, Any] = field(default_factory=dict,
                                    metadata={"description": "User keyword options (dataset=, epochs=, ...)."})
    thread_id: str = field(default="default", metadata={"description": "Conversation thread id (the config's "
                                                                       "thread_id wins when both are given)."})
    progress: bool = field(default=False, metadata={"description": "Show progress bars."})
    remember: bool = field(default=True, metadata={"description": "Write designs/outcomes to memory."})
    home: Optional[str] = field(default=None, metadata={"description": "Workspace directory (instead of settings)."})

    def __post_init__(self) -> None:
        # a plain-dict context (LangGraph builds Context(**dict)) may give settings as a dict/path, or just home
        if self.home is not None and (self.settings is None or isinstance(self.settings, Settings)):
            self.settings = Settings.from_env(self.home)
        elif not isinstance(self.settings, Settings):
            self.settings = _settings(self.settings)


_CONTEXT_FIELDS = {f.name for f in fields(Context)}


def _settings(value: Any) -> Settings:
    """Settings from a Settings, a {field: value} dict (``home`` and overrides), a path, or None (env)."""
    if isinstance(value, Settings):
        return value
    if value is None:
        return Settings.from_env()
    if isinstance(value, Mapping):
        data = dict(value)
        return Settings.from_env(data.pop("home", None), **data)
    return Settings.from_env(str(value))


def coerce_context(context: Any, config: Optional[Mapping[str, Any]] = None) -> Context:
    """The run's Context from whatever the caller gave (None, a Context, a dict) plus the config.

    ``config["configurable"]`` may carry the same keys (``thread_id``, ``options``, ``home``, ...) for
    hosts that cannot pass a context;
    its ``thread_id`` is the thread of the run and wins over the context's default.

    Raises:
        InputError: the context is of an unknown type or names unknown keys.
    """
    from tensor_agent.errors import InputError

    configurable = dict((config or {}).get("configurable") or {})
    if context is None or isinstance(context, Mapping):
        data = {k: v for k, v in configurable.items() if k in _CONTEXT_FIELDS}
        if isinstance(context, Mapping):
            unknown = sorted(set(context) - _CONTEXT_FIELDS)
            if unknown:
                raise InputError(f"context: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_CONTEXT_FIELDS))})")
            data.update(context)
        ctx = Context(**data)
    elif isinstance(context, Context):
        ctx = context
    else:
        raise InputError(f"context: expected a tensor_agent.state.Context or a dict, got {type(context).__name__}")
    thread_id = str(configurable["thread_id"]) if configurable.get("thread_id") else ctx.thread_id
    return replace(ctx, thread_id=thread_id, options=dict(ctx.options or {}))  # never mutate the caller's
