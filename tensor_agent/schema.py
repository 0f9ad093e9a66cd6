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


class TrainSettings(BaseModel):
    """Every training setting a message or an option can state; None means "not stated" (tool default)."""

    model_config = ConfigDict(extra="forbid")

    optimizer: Optional[Literal["sgd", "adam", "adamw", "lamb"]] = Field(default=None, description="Optimizer.")
    lr: Optional[float] = Field(default=None, gt=0, le=10, description="Peak learning rate, in (0, 10].")
    schedule: Optional[Literal["constant", "step", "exponential", "cosine", "cosine_warm_restarts"]] = Field(
        default=None, description="Learning-rate schedule.")
    warmup_epochs: Optional[int] = Field(default=None, ge=0, le=10_000, description="Linear warm-up epochs.")
    dropout: Optional[float] = Field(default=None, ge=0, lt=1, description="Dropout rate, in [0, 1).")
    l1: Optional[float] = Field(default=None, ge=0, le=1, description="L1 penalty on weights, in [0, 1].")
    weight_decay: Optional[float] = Field(default=None, ge=0, le=1, description="L2 / decoupled weight decay.")
    patience: Optional[int] = Field(default=None, ge=1, le=10_000, description="Early-stopping patience, epochs.")
    epochs: Optional[int] = Field(default=None, ge=1, le=10_000, description="Epochs (1-10000).")
    batch_size: Optional[int] = Field(default=None, ge=1, le=65_536, description="Mini-batch size (1-65536).")
    grad_clip: Optional[float] = Field(default=None, gt=0, le=1e6, description="Max global gradient norm.")
    seed: Optional[int] = Field(default=None, ge=0, le=2**32 - 1, description="Random seed.")
    time_budget_s: Optional[float] = Field(default=None, gt=0, le=7 * 24 * 3600,
                                           description="Wall-clock budget of the training, seconds.")
    strategy: Optional[Literal["scratch", "feature_extraction", "full_fine_tune", "adapter", "lora"]] = Field(
        default=None, description="Transfer-learning strategy.")

    def stated(self) -> dict[str, Any]:
        """Only the settings that were stated."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class DataSource(BaseModel):
    """Where the data comes from. An explicit option or a path in the message beats a dataset word."""

    dataset: Optional[str] = Field(default=None, description="A built-in dataset name (catalogue).")
    data_path: Optional[str] = Field(default=None, description="A user file or folder.")
    target_column: Optional[str] = Field(default=None, description="Label column of a table.")
    text_column: Optional[str] = Field(default=None, description="Text column of a text table.")
    source: Literal["option", "message", "default", "thread"] = Field(
        default="message", description="Who decided: an explicit option, the message, a default, the thread.")

    @property
    def ref(self) -> Optional[str]:
        """The path if one is given, else the dataset name."""
        return self.data_path or self.dataset


class TuneSpec(BaseModel):
    """A hyperparameter search request."""

    trials: Optional[int] = Field(default=None, ge=1, le=10_000, description="Number of trials.")
    time_budget_s: Optional[float] = Field(default=None, gt=0, description="Wall-clock budget of the search.")
    params: list[str] = Field(default_factory=list, description="Only these hyperparameters (empty: all).")


class TrackSpec(BaseModel):
    """A model-registry / experiment-tracking request (what `track_experiment` should do)."""

    action: Optional[Literal["register", "alias", "list", "rollback", "archive", "compare", "export"]] = Field(
        default=None, description="The tracking action the wording asks for (None: the tool decides).")
    alias: Optional[str] = Field(default=None, description="Registry alias named, e.g. champion, challenger.")
    version: Optional[int] = Field(default=None, ge=1, description="Model version named ('version 2').")
    runs: Optional[int] = Field(default=None, ge=1, le=1000, description="How many recent runs to compare.")


class Plan(BaseModel):
    """What @TENSOR understood from a message; no tool has run yet."""

    addressed: bool = Field(description="The message mentions @tensor (any case) anywhere.")
    intents: list[Intent] = Field(default_factory=list, description="Requests, primary first (message order).")
    modality: Optional[Modality] = Field(default=None, description="Data modality, if one can be told.")
    architecture: Optional[Architecture] = Field(default=None, description="Named or guide-selected family.")
    architecture_named: Optional[bool] = Field(default=None, description="True: the message or an option named "
                                               "the family (tools stay inside it); False: the selection guide "
                                               "chose it (a search may move on); None: not recorded.")
    tools: list[ToolName] = Field(default_factory=list, description="Tools to run, in tool order.")
    peers: list[Peer] = Field(default_factory=list, description="Peer agents to consult, sorted.")
    constraints: list[Constraint] = Field(default_factory=list, description="Constraints with source spans.")
    task: Optional[str] = Field(default=None, description="Task type, e.g. classification, regression, "
                                                          "seq2seq, generation, node_classification.")
    variant: Optional[str] = Field(default=None, description="Named size of the family (e.g. vit-micro).")
    pretrained: Optional[bool] = Field(default=None, description="Start from pretrained weights (None: tool decides).")
    data: Optional[DataSource] = Field(default=None, description="Where the data comes from.")
    settings: TrainSettings = Field(default_factory=TrainSettings, description="Training settings stated.")
    techniques: list[str] = Field(default_factory=list, description="Compression / transfer techniques named, "
                                                                    "in message order (int8, pruning, lora, ...).")
    register_name: Optional[str] = Field(default=None, description="Model-registry name to register under.")
    trackers: list[str] = Field(default_factory=list, description="Experiment trackers: mlflow, wandb, neptune.")
    framework: Optional[str] = Field(default=None, description="Framework for code: pytorch, keras, flax, sklearn.")
    deploy_targets: list[str] = Field(default_factory=list, description="docker, torchserve, tfserving, kserve, "
                                                                        "kubernetes, kubeflow.")
    tune: Optional[TuneSpec] = Field(default=None, description="Hyperparameter search request.")
    track: Optional[TrackSpec] = Field(default=None, description="Registry/tracking request (action, alias, "
                                                                  "version, runs to compare).")
    regime: Optional[Literal["supervised", "transfer", "few_shot", "unsupervised"]] = Field(
        default=None, description="Learning regime the wording names (None: the tool decides).")
    topics: list[str] = Field(default_factory=list, description="Techniques and concepts the message asks about "
                                                                "(optimizers, schedules, regularisers, ...), in order.")
    notes: list[str] = Field(default_factory=list, description="How options and message were reconciled.")
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
    codes: dict[str, int] = Field(default_factory=dict, description="Tool or peer name -> exit code of its failure "
                                                                    "(2 bad input, 3 cannot be met, 4 back-end, 1 bug).")

    @property
    def status(self) -> dict[str, str]:
        """Per tool and peer: "ok" or "failed"."""
        out = {name: "ok" for name in (*self.results, *self.peers)}
        out.update({name: "failed" for name in self.errors})
        return out

    @property
    def exit_code(self) -> int:
        """The CLI exit code of this result: the most serious failure, 0 when nothing failed.

        Bad input (2) outranks cannot-be-met (3) and back-end trouble (4); an internal error (1)
        is reported as 1 only when nothing else failed with a documented code.
        """
        codes = set(self.codes.values()) | {1 for n in self.errors if n not in self.codes}
        for code in (2, 3, 4, 1):
            if code in codes:
                return code
        return 0
    thread_id: Optional[str] = Field(default=None)
