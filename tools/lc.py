"""The four tools as langchain-core tools, for LLM tool calling and host orchestrators.

Each takes the user's request plus a few typed overrides (what the LLM sees, from the pydantic
argument model and the Google-style docstring) and a runtime-only `ctx` hidden from the LLM
with `InjectedToolArg`. They plan the request with the offline planner, apply the overrides,
and call the same tool function the graph calls, returning its structured output as a dict.
"""

from typing import Annotated, Any, Optional

from langchain_core.tools import InjectedToolArg, tool
from pydantic import BaseModel, Field

from tensor_agent.schema import Constraint, Plan
from tensor_agent.tools import get_tool
from tensor_agent.tools.core.context import ToolContext


class _Common(BaseModel):
    """Arguments every tool takes; `ctx` is injected at run time and hidden from the model."""

    model_config = {"arbitrary_types_allowed": True}

    ctx: Annotated[Any, InjectedToolArg] = Field(default=None, description="Runtime context (injected).")
    request: str = Field(description="The user's request in their own words, e.g. 'design a CNN for 8x8 digit images'.")
    modality: Optional[str] = Field(default=None, description="Override the data modality: tabular, image, text, "
                                    "sequence, text_generation, image_generation or graph.")
    architecture: Optional[str] = Field(default=None, description="Override the family, e.g. cnn, resnet, bert, gcn.")


class DesignArgs(_Common):
    max_params: Optional[float] = Field(default=None, description="Largest acceptable parameter count.")
    latency_ms: Optional[float] = Field(default=None, description="Largest acceptable median latency in ms.")
    device: Optional[str] = Field(default=None, description="Target device: mobile, edge, cpu, server or gpu.")


class TrainArgs(_Common):
    dataset: Optional[str] = Field(default=None, description="Built-in dataset name (digits, breast_cancer, iris, wine, "
                                   "karate, text, long_recall, tiny_corpus) or a file path.")
    epochs: Optional[int] = Field(default=None, description="Number of epochs.")


class CompressArgs(_Common):
    technique: Optional[str] = Field(default=None, description="int8, static_int8, qat, pruning, structured_pruning, "
                                     "lottery_ticket, distillation or onnx.")
    sparsity: Optional[float] = Field(default=None, description="Target sparsity for pruning, between 0 and 1.")


class EstimateArgs(_Common):
    accuracy_target: Optional[float] = Field(default=None, description="Target accuracy between 0 and 1.")
    num_classes: Optional[int] = Field(default=None, description="Number of classes.")


def _plan(request: str, overrides: dict[str, Any], tool_name: str) -> Plan:
    from tensor_agent.planner import rules_plan

    text = request if "@tensor" in request.lower() else f"@TENSOR {request}"
    plan = rules_plan(text)
    update: dict[str, Any] = {"tools": [tool_name]}
    for key in ("modality", "architecture"):
        if overrides.get(key):
            update[key] = overrides[key]
    extra = [Constraint(name=k, value=v, span=(0, 0), text="") for k, v in overrides.items()
             if k not in ("modality", "architecture", "dataset", "epochs") and v is not None]
    if extra:
        update["constraints"] = extra + [c for c in plan.constraints if c.name not in {e.name for e in extra}]
    if not plan.intents:
        update["intents"] = [{"design_architecture": "design", "train_model": "train",
                              "compress_model": "compress", "estimate_data": "estimate_data"}[tool_name]]
    return Plan.model_validate({**plan.model_dump(), **update})


def _call(tool_name: str, request: str, ctx: ToolContext, **overrides: Any) -> dict:
    for key in ("dataset", "epochs"):
        if overrides.get(key) is not None:
            ctx.options[key] = overrides[key]
    out = get_tool(tool_name)(_plan(request, overrides, tool_name), ctx)
    return out.model_dump(mode="json") if hasattr(out, "model_dump") else out


@tool(args_schema=DesignArgs)
def design_architecture(request: str, ctx: Annotated[ToolContext, InjectedToolArg], modality: Optional[str] = None,
                        architecture: Optional[str] = None, max_params: Optional[float] = None,
                        latency_ms: Optional[float] = None, device: Optional[str] = None) -> dict:
    """Design, build and measure a PyTorch model (or XGBoost booster) for a task.

    Args:
        request: The user's request in their own words.
        ctx: Runtime context (workspace, thread, options); injected, never chosen by the model.
        modality: Override the data modality.
        architecture: Override the architecture family.
        max_params: Largest acceptable parameter count.
        latency_ms: Largest acceptable median latency in milliseconds.
        device: Target device.
    """
    return _call("design_architecture", request, ctx, modality=modality, architecture=architecture,
                 max_params=max_params, latency_ms=latency_ms, device=device)


@tool(args_schema=TrainArgs)
def train_model(request: str, ctx: Annotated[ToolContext, InjectedToolArg], modality: Optional[str] = None,
                architecture: Optional[str] = None, dataset: Optional[str] = None, epochs: Optional[int] = None) -> dict:
    """Train (or fine-tune) the conversation's model and report held-out metrics and the MLflow run.

    Args:
        request: The user's request in their own words.
        ctx: Runtime context (workspace, thread, options); injected, never chosen by the model.
        modality: Override the data modality.
        architecture: Override the architecture family.
        dataset: Built-in dataset name or a file path.
        epochs: Number of epochs.
    """
    return _call("train_model", request, ctx, modality=modality, architecture=architecture, dataset=dataset, epochs=epochs)


@tool(args_schema=CompressArgs)
def compress_model(request: str, ctx: Annotated[ToolContext, InjectedToolArg], modality: Optional[str] = None,
                   architecture: Optional[str] = None, technique: Optional[str] = None,
                   sparsity: Optional[float] = None) -> dict:
    """Quantize, prune, distill or export the conversation's model and report measured before/after figures.

    Args:
        request: The user's request in their own words.
        ctx: Runtime context (workspace, thread, options); injected, never chosen by the model.
        modality: Override the data modality.
        architecture: Override the architecture family.
        technique: Compression technique.
        sparsity: Target sparsity for pruning.
    """
    return _call("compress_model", request, ctx, modality=modality, architecture=architecture,
                 technique=technique, sparsity=sparsity)


@tool(args_schema=EstimateArgs)
def estimate_data(request: str, ctx: Annotated[ToolContext, InjectedToolArg], modality: Optional[str] = None,
                  architecture: Optional[str] = None, accuracy_target: Optional[float] = None,
                  num_classes: Optional[int] = None) -> dict:
    """Estimate how much (labelled) data a task needs, the annotation effort and the time.

    Args:
        request: The user's request in their own words.
        ctx: Runtime context (workspace, thread, options); injected, never chosen by the model.
        modality: Override the data modality.
        architecture: Override the architecture family.
        accuracy_target: Target accuracy between 0 and 1.
        num_classes: Number of classes.
    """
    return _call("estimate_data", request, ctx, modality=modality, architecture=architecture,
                 accuracy_target=accuracy_target, num_classes=num_classes)


TOOLS = [estimate_data, design_architecture, train_model, compress_model]
