"""Tools: name, the intents that call for them, the order they run in and where they live."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolSpec:
    name: str
    intents: tuple[str, ...]
    entrypoint: str
    description: str
    #: contract option keys a calling model may fill (LangChain/MCP tool arguments besides the request)
    arguments: tuple[str, ...] = ()
    #: whether running it imports torch (a cold CLI then starts a tool worker that imports it early)
    uses_torch: bool = True


#: In run order: estimate_data, design_architecture, tune_model, train_model, compress_model,
#: deploy_model, track_experiment.
TOOLS: dict[str, ToolSpec] = {t.name: t for t in (
    ToolSpec("estimate_data", ("estimate_data",), "tensor_agent.tools.estimate.tool:estimate_data",
             "How much labelled data a task needs (card table, refined; learning curves on given data).",
             ("accuracy_target", "num_classes"), uses_torch=False),
    ToolSpec("design_architecture", ("design", "implement", "train", "fine_tune", "tune"),
             "tensor_agent.tools.design:design_architecture",
             "Build and measure an architecture for the data and budgets; write code for implement.",
             ("max_params", "latency_ms", "device")),
    ToolSpec("tune_model", ("tune",), "tensor_agent.tools.tune:tune_model",
             "Hyperparameter search with Optuna (TPE, pruning), best configuration refitted.",
             ("dataset", "trials", "tune_budget_s")),
    ToolSpec("train_model", ("train", "fine_tune"), "tensor_agent.tools.train:train_model",
             "Train or fine-tune the model on data; metrics, curve, saved model, MLflow run.",
             ("dataset", "epochs")),
    ToolSpec("compress_model", ("compress",), "tensor_agent.tools.compress:compress_model",
             "Quantize, prune, distill or export the current model; measured before/after.",
             ("technique", "sparsity")),
    ToolSpec("deploy_model", ("deploy",), "tensor_agent.tools.deploy:deploy_model",
             "Package the current model for Docker, TorchServe, TF Serving, KServe or Kubeflow."),
    ToolSpec("track_experiment", ("track",), "tensor_agent.tools.track:track_experiment",
             "MLflow registry (register, alias, roll back, archive), run comparison, W&B export.",
             ("action", "alias"), uses_torch=False),
)}

TOOL_ORDER: tuple[str, ...] = tuple(TOOLS)


def get_tool_spec(name: str) -> ToolSpec:
    if name not in TOOLS:
        raise KeyError(f"unknown tool {name!r} (known: {', '.join(TOOLS)})")
    return TOOLS[name]


def tools_for(intents) -> list[str]:
    """The ordered union of the tools the intents need."""
    wanted = set(intents or ())
    return [t.name for t in TOOLS.values() if wanted & set(t.intents)]
