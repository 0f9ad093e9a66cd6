"""Graph state and run-scoped context of the @TENSOR graph."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Any, Optional, TypedDict

from tensor_agent.config import Settings


def _merge(left: dict | None, right: dict | None) -> dict:
    """Reducer: dict union (right wins). Sending None resets to {}."""
    if right is None:
        return {}
    return {**(left or {}), **right}


class State(TypedDict, total=False):
    """One conversation thread. `artifacts` and `history` outlive the turn; the rest is per turn."""

    text: str                                   # the user's message of this turn
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
    history: Annotated[list[dict], operator.add]  # one entry per finished turn


@dataclass
class Context:
    """Run-scoped context (LangGraph `context_schema`): never stored in the checkpoint."""

    settings: Settings = field(default_factory=Settings.from_env,
                               metadata={"description": "Workspace and back-end settings."})
    options: dict[str, Any] = field(default_factory=dict,
                                    metadata={"description": "User keyword options (dataset=, epochs=, ...)."})
    thread_id: str = field(default="default", metadata={"description": "Conversation thread id."})
    progress: bool = field(default=False, metadata={"description": "Show progress bars."})
    remember: bool = field(default=True, metadata={"description": "Write designs/outcomes to memory."})
