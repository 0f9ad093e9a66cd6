"""The result of `train_model`, and the loss/metric curve plot."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field


class TrainingReport(BaseModel):
    """What one training run did and measured."""

    dataset: str = Field(description="Dataset name or path.")
    dataset_info: dict = Field(default_factory=dict, description="Task, modality, split sizes, seed, source.")
    family: str = Field(description="Model family trained (cnn, mlp, xgboost, gcn, bert, gpt, diffusion, ...).")
    kind: str = Field(default="torch", description="torch | xgboost | sklearn")
    strategy: str = Field(default="scratch", description="scratch, feature_extraction, full_fine_tune, adapter, "
                                                         "lora, or backbone (from an earlier model).")
    config: dict = Field(default_factory=dict, description="The training configuration used.")
    epochs_run: int = Field(default=0, description="Epochs (or boosting rounds) actually run.")
    best_epoch: int = Field(default=-1, description="Epoch with the best validation metric.")
    stopped_reason: str = Field(default="completed", description="completed | early_stopping | time_budget | "
                                                                 "diverged")
    message: str = Field(default="", description="Readable summary.")
    history: list[dict] = Field(default_factory=list, description="Per-epoch metrics.")
    lr_curve: list[float] = Field(default_factory=list, description="Learning rate of each epoch.")
    val_metrics: dict = Field(default_factory=dict, description="Metrics on the validation split.")
    test_metrics: dict = Field(default_factory=dict, description="Metrics on the held-out test split.")
    wall_s: float = Field(default=0.0, description="Training wall time in seconds.")
    trainable_params: int = Field(default=0, description="Parameters updated by training.")
    total_params: int = Field(default=0, description="All parameters of the model.")
    model_path: Optional[str] = Field(default=None, description="Saved model directory.")
    mlflow_run_id: Optional[str] = Field(default=None, description="MLflow run id.")
    tracking_uri: Optional[str] = Field(default=None, description="MLflow tracking store.")
    registered_model: Optional[dict] = Field(default=None, description="Registry name/version when registered.")
    curve_png: Optional[str] = Field(default=None, description="Loss/metric curve plot.")
    sample_png: Optional[str] = Field(default=None, description="Generated sample grid (diffusion).")
    sample_text: Optional[str] = Field(default=None, description="Generated sample text (language model).")
    resumed_from: Optional[int] = Field(default=None, description="Epoch resumed from a checkpoint, if any.")
    notes: list[str] = Field(default_factory=list, description="Choices made on the user's behalf.")
    warnings: list[str] = Field(default_factory=list, description="Things the user should know (checkpoint set "
                                                                  "aside, stale runs marked KILLED, tiny data).")
    variant: Optional[str] = Field(default=None, description="Named size of the family trained.")
    device: str = Field(default="cpu", description="Device the training ran on (and mixed precision).")
    budget_s: Optional[float] = Field(default=None, description="Wall-clock budget of the training, seconds.")
    budget_default: bool = Field(default=True, description="Whether the budget is the trainer's default.")
    data_source: str = Field(default="message", description="option | message | default | thread")
    preprocessing: list[str] = Field(default_factory=list, description="What was done to which columns.")
    baselines: dict = Field(default_factory=dict, description="Majority-class rate / mean predictor and a simple "
                                                              "reference model on the same split; near_chance flag.")


def plot_curves(history: list[dict], path: str | Path, title: str = "training") -> Optional[str]:
    """Loss curves (left) and accuracy-like metrics (right) per epoch as a PNG; returns its path."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    keys = sorted({k for h in history for k in h if k not in ("epoch", "lr")})
    loss_keys = [k for k in keys if "loss" in k]
    other = [k for k in keys if k not in loss_keys and isinstance(history[0].get(k, 0), (int, float))]
    fig, axes = plt.subplots(1, 3 if other else 2, figsize=(13 if other else 9, 3.6))
    for k in loss_keys:
        axes[0].plot(epochs, [h.get(k, float("nan")) for h in history], marker=".", label=k)
    axes[0].set_xlabel("epoch")
    axes[0].set_title("loss")
    axes[0].legend()
    if other:
        for k in other:
            axes[1].plot(epochs, [h.get(k, float("nan")) for h in history], marker=".", label=k)
        axes[1].set_xlabel("epoch")
        axes[1].set_title("metrics")
        axes[1].legend()
    axes[-1].plot(epochs, [h.get("lr", float("nan")) for h in history], marker=".", color="tab:gray")
    axes[-1].set_title("learning rate")
    axes[-1].set_xlabel("epoch")
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)


def draw_curves(payload: dict, path: str) -> Optional[str]:
    """`plot_curves` on a JSON payload {"history", "title"} (the child of `plot_curves_async`)."""
    return plot_curves(payload["history"], path, payload.get("title", "training"))


def plot_curves_async(history: list[dict], path: str | Path, title: str = "training", run=None) -> Optional[str]:
    """`plot_curves` in a child process, the PNG logged to `run` under plots/ (tools.core.plots); returns
    its path (complete after `tools.core.plots.wait_for_plots()` or at exit), None without history."""
    if not history:
        return None
    from tensor_agent.tools.core.plots import draw_async

    return draw_async("tensor_agent.tools.train.report:draw_curves", {"history": history, "title": title}, path,
                      run=run, artifact_path="plots")


def _metric_text(m: dict) -> str:
    if "accuracy" in m:
        return f"test accuracy {m['accuracy']:.4f}"
    if "rmse" in m:
        return f"test RMSE {m['rmse']:.4g}, MAE {m['mae']:.4g}, R2 {m['r2']:.3f}"
    if "perplexity" in m:
        return f"test perplexity {m['perplexity']:.2f}"
    return f"test loss {m['loss']:.4g}" if "loss" in m else "no test metrics"


def summarize(report: TrainingReport) -> str:
    """The answer: result, baselines, run facts, budget, preprocessing, notes and warnings (one item a line)."""
    from .baselines import baseline_sentence

    name = report.family + (f" ({report.variant})" if report.variant else "")
    lines = [f"trained {name} on {report.dataset}: {_metric_text(report.test_metrics)}"]
    base = baseline_sentence(report.baselines, report.test_metrics)
    if base:
        lines.append(base)
    unit = "boosting rounds" if report.kind == "xgboost" else "epochs"
    lines.append(f"{report.epochs_run} {unit} in {report.wall_s:.1f}s ({report.stopped_reason}) on {report.device}")
    if report.budget_s is not None:
        how = "default; change with --set time_budget_s=N" if report.budget_default else "as requested"
        lines.append(f"time budget {report.budget_s:g}s ({how})")
    if report.preprocessing:
        lines.append("preprocessing: " + "; ".join(report.preprocessing))
    lines += report.notes
    lines += [f"WARNING: {w}" for w in report.warnings]
    if report.model_path:
        lines.append(f"model saved at {report.model_path}")
    return "\n".join(lines)
