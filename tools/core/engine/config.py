"""Training configuration: one pydantic model, cheap to import (no torch)."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tensor_agent.errors import InputError

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw", "lamb")
SCHEDULES: tuple[str, ...] = ("constant", "step", "exponential", "cosine", "cosine_warm_restarts")
STRATEGIES: tuple[str, ...] = ("scratch", "feature_extraction", "full_fine_tune", "adapter", "lora")


class TrainConfig(BaseModel):
    """Everything `fit` needs to know besides the model and the data."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    optimizer: Literal["sgd", "adam", "adamw", "lamb"] = Field(
        default="adamw", description="sgd (with momentum), adam, adamw or lamb (timm).")
    lr: float = Field(default=3e-3, gt=0, description="Peak learning rate.")
    momentum: float = Field(default=0.9, ge=0, lt=1, description="SGD momentum.")
    weight_decay: float = Field(default=1e-4, ge=0, description="L2 / decoupled weight decay.")
    l1: float = Field(default=0.0, ge=0, description="Explicit L1 penalty on weights (added to the loss).")
    schedule: Literal["constant", "step", "exponential", "cosine", "cosine_warm_restarts"] = Field(
        default="cosine", description="Learning-rate schedule, stepped once per epoch.")
    warmup_epochs: int = Field(default=0, ge=0, description="Linear warm-up epochs before the schedule.")
    step_size: int = Field(default=10, ge=1, description="Epochs between decays (step schedule).")
    gamma: float = Field(default=0.5, gt=0, le=1, description="Decay factor (step / exponential).")
    t0: int = Field(default=5, ge=1, description="First restart period in epochs (cosine_warm_restarts).")
    t_mult: int = Field(default=1, ge=1, description="Period multiplier after each restart.")
    eta_min: float = Field(default=0.0, ge=0, description="Floor of the cosine schedules.")
    epochs: int = Field(default=20, ge=1, le=10_000, description="Maximum number of epochs.")
    batch_size: int = Field(default=64, ge=1, description="Mini-batch size.")
    patience: Optional[int] = Field(default=None, ge=1, description="Early stopping patience in epochs "
                                                                  "(None: no early stopping).")
    monitor: Literal["val_loss", "val_accuracy"] = Field(default="val_loss",
                                                         description="Validation metric for early stopping "
                                                                     "and best-epoch selection.")
    grad_clip: Optional[float] = Field(default=None, gt=0, description="Max global gradient norm.")
    dropout: Optional[float] = Field(default=None, ge=0, lt=1, description="Override every nn.Dropout rate.")
    label_smoothing: float = Field(default=0.0, ge=0, lt=1, description="Label smoothing (classification).")
    augment: bool = Field(default=False, description="Light augmentation (image: random 1-pixel shifts).")
    seed: int = Field(default=0, description="Seed for init, shuffling and augmentation.")
    time_budget_s: Optional[float] = Field(default=None, gt=0, description="Stop after this wall time.")
    strategy: Literal["scratch", "feature_extraction", "full_fine_tune", "adapter", "lora"] = Field(
        default="scratch", description="Transfer-learning strategy (text / backbone models).")
    lora_r: int = Field(default=8, ge=1, description="LoRA rank.")
    lora_alpha: int = Field(default=16, ge=1, description="LoRA alpha.")
    adapter_dim: int = Field(default=16, ge=1, description="Bottleneck width of adapters.")
    max_length: int = Field(default=64, ge=4, description="Token length for text models.")
    checkpoint_dir: Optional[str] = Field(default=None, description="Write a checkpoint per epoch here and "
                                                                    "resume from it when it exists.")
    checkpoint_every_s: float = Field(default=0.0, ge=0, description="Minimum seconds between checkpoints "
                                                                    "(0: after every epoch).")
    restore_best: bool = Field(default=True, description="Load the best-validation weights at the end.")
    eval_every: int = Field(default=1, ge=1, description="Validate every n epochs.")
    device: Optional[str] = Field(default=None, description="torch device (cpu, cuda, cuda:N, mps); None: CUDA, "
                                                            "then MPS, then CPU, or TENSOR_DEVICE.")
    num_threads: Optional[int] = Field(default=None, ge=1, description="torch threads (default: cores, max 2 "
                                                                      "on shared machines).")

    @field_validator("optimizer", "schedule", "strategy", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower().replace("-", "_") if isinstance(v, str) else v

    @classmethod
    def build(cls, **values: Any) -> "TrainConfig":
        """Validate `values` (None dropped) and raise an InputError naming the bad field."""
        clean = {k: v for k, v in values.items() if v is not None}
        try:
            return cls(**clean)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err.get("loc", ())) or "config"
            known = ""
            if field == "optimizer":
                known = f" (known: {', '.join(OPTIMIZERS)})"
            elif field == "schedule":
                known = f" (known: {', '.join(SCHEDULES)})"
            elif field == "strategy":
                known = f" (known: {', '.join(STRATEGIES)})"
            raise InputError(f"invalid training option {field}={clean.get(field)!r}: {err.get('msg')}{known}",
                             hint=f"fix '{field}'") from None
