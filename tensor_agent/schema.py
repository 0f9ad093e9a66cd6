"""The plan and result contract of @TENSOR.

Everything here is plain pydantic: importing it must stay cheap (no torch, no langgraph),
because `tensor-agent ask --dry-run` and `TensorAgent().plan()` sit on top of it.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tensor_agent.catalogue import FAMILIES, INTENTS as _INTENTS, MODALITIES as _MODALITIES, PEERS as _PEERS
from tensor_agent.catalogue import TOOL_ORDER, tools_for  # noqa: F401  (re-exported)

# The vocabularies are the catalogue's (tensor_agent/catalogue): Literal types built from its registries.
INTENTS: tuple[str, ...] = tuple(_INTENTS)
MODALITIES: tuple[str, ...] = tuple(_MODALITIES)
ARCHITECTURES: tuple[str, ...] = tuple(FAMILIES)
PEERS: tuple[str, ...] = tuple(sorted(_PEERS))
Intent = Literal[INTENTS]  # type: ignore[valid-type]
Modality = Literal[MODALITIES]  # type: ignore[valid-type]
Architecture = Literal[ARCHITECTURES]  # type: ignore[valid-type]
ToolName = Literal[TOOL_ORDER]  # type: ignore[valid-type]
Peer = Literal[PEERS]  # type: ignore[valid-type]


class Constraint(BaseModel):
    """One constraint read from the message, with where it came from."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Constraint kind: device, latency_ms, size_mb, max_params, dataset_size, "
                                  "labelled_examples, num_classes, accuracy_target, optimizer, schedule, "
                                  "technique, batch_size, input_shape, sequence_length, epochs, dataset, "
                                  "sparsity, learning_rate.")
    value: Any = Field(description="Normalised value (numbers in base units: ms, MB, count, fraction).")
    span: tuple[int, int] = Field(description="Character offsets [start, end) of the source text.")
    text: str = Field(description="The source text the value was read from.")


class Plan(BaseModel):
    """What @TENSOR understood from a message; no tool has run yet."""

    addressed: bool = Field(description="The message mentions @tensor (any case) anywhere.")
    intents: list[Intent] = Field(default_factory=list, description="Requests, primary first (message order).")
    modality: Optional[Modality] = Field(default=None, description="Data modality, if one can be told.")
    architecture: Optional[Architecture] = Field(default=None, description="Named or guide-selected family.")
    tools: list[ToolName] = Field(default_factory=list, description="Tools to run, in tool order.")
    peers: list[Peer] = Field(default_factory=list, description="Peer agents to consult, sorted.")
    constraints: list[Constraint] = Field(default_factory=list, description="Constraints with source spans.")
    task: Optional[str] = Field(default=None, description="Task type, e.g. classification, regression, "
                                                          "seq2seq, generation, node_classification.")
    clarification: Optional[str] = Field(default=None, description="A question when the message is too vague.")
    warnings: list[str] = Field(default_factory=list, description="Contradictions, unknown names, fallbacks.")
    backend: str = Field(default="rules", description="Which planner back-end produced this plan.")
    text: str = Field(default="", description="The (possibly truncated) message the plan was made from.")

    @field_validator("peers")
    @classmethod
    def _sorted_peers(cls, v: list[str]) -> list[str]:
        return sorted(dict.fromkeys(v))

    def constraint(self, name: str, default: Any = None) -> Any:
        """The value of the first constraint called `name`, or `default`."""
        for c in self.constraints:
            if c.name == name:
                return c.value
        return default

    @property
    def primary_intent(self) -> Optional[str]:
        return self.intents[0] if self.intents else None


class Result(BaseModel):
    """What one invocation of @TENSOR produced."""

    plan: Plan
    results: dict[str, Any] = Field(default_factory=dict, description="Tool name -> structured output.")
    peers: dict[str, Any] = Field(default_factory=dict, description="Peer name -> structured reply.")
    recall: dict[str, Any] = Field(default_factory=dict, description="What the vector memory answered (recall intents).")
    message: str = Field(default="", description="Readable answer.")
    errors: dict[str, str] = Field(default_factory=dict, description="Tool or peer name -> clear error.")
    thread_id: Optional[str] = Field(default=None)
