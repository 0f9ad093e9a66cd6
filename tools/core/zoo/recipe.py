"""The training recipe a design implies: optimizer, schedule with warm-up, regularisation, epochs,
batch size and augmentation, scaled to the data size (shared: the designer states it, a trainer may
start from it). Settings the plan states win over the recipe and are marked as such.

Pure Python: no torch.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field


class Recipe(BaseModel):
    """How to train one design."""

    optimizer: str = Field(description="sgd | adam | adamw | lamb")
    lr: float = Field(description="Peak learning rate.")
    weight_decay: float = Field(default=0.0, description="Decoupled weight decay (L2).")
    schedule: str = Field(description="constant | step | exponential | cosine | cosine_warm_restarts")
    warmup_epochs: int = Field(default=0, description="Linear warm-up epochs before the schedule.")
    epochs: int = Field(description="Training epochs (XGBoost: boosting rounds).")
    batch_size: Optional[int] = Field(default=None, description="Mini-batch size (None: full graph / trees).")
    regularisation: list[str] = Field(default_factory=list, description="Dropout, label smoothing, early stop...")
    augmentation: list[str] = Field(default_factory=list, description="Input augmentation (images).")
    loss: str = Field(default="", description="Training objective.")
    grad_clip: Optional[float] = Field(default=None, description="Max global gradient norm.")
    data_size: Optional[int] = Field(default=None, description="Training examples the recipe is scaled for.")
    stated: list[str] = Field(default_factory=list, description="Settings taken from the request.")
    why: str = Field(default="", description="One sentence: why these values.")


def _scale(n: Optional[int]) -> str:
    if n is None:
        return "unknown"
    return "small" if n < 5_000 else ("medium" if n < 100_000 else "large")


def _scale_text(n: Optional[int]) -> str:
    return "data size unknown (medium assumed)" if n is None else f"{_scale(n)} data ({n:,} examples)"


def _batch(n: Optional[int], small: int, medium: int, large: int) -> int:
    return {"small": small, "medium": medium, "large": large, "unknown": medium}[_scale(n)]


def _epochs(n: Optional[int], small: int, medium: int, large: int) -> int:
    return {"small": small, "medium": medium, "large": large, "unknown": medium}[_scale(n)]


def _image(family: str, n: Optional[int], side: int, channels: int) -> dict[str, Any]:
    pad = max(1, side // 8)
    aug = [f"random crop {side}x{side} after {pad}-px padding"]
    if channels == 1 and side <= 32:
        aug.append("small random rotations (+-10 deg); no flips (digits/characters change meaning)")
    else:
        aug.append("horizontal flip")
    if family == "vit":
        aug += ["RandAugment (2 ops, magnitude 9)", "mixup 0.8 / cutmix 1.0"]
        return dict(optimizer="adamw", lr=1e-3, weight_decay=0.05, schedule="cosine",
                    warmup_epochs=5 if _scale(n) != "small" else 3, epochs=_epochs(n, 100, 100, 300),
                    batch_size=_batch(n, 64, 256, 1024), loss="cross-entropy",
                    regularisation=["label smoothing 0.1", "stochastic depth 0.1", "weight decay 0.05"],
                    augmentation=aug, grad_clip=1.0,
                    why="ViTs have weak image priors: long cosine training, warm-up and strong augmentation")
    lr, wd = (3e-3, 5e-4) if family in ("cnn", "resnet") else (2e-3, 0.05)
    return dict(optimizer="adamw", lr=lr, weight_decay=wd, schedule="cosine", warmup_epochs=1 if _scale(n) == "small" else 5,
                epochs=_epochs(n, 30, 60, 90), batch_size=_batch(n, 64, 128, 256), loss="cross-entropy",
                regularisation=["label smoothing 0.1", f"dropout {0.1 if family == 'cnn' else 0.2} before the head",
                                f"weight decay {wd:g}", "early stopping on validation loss (patience 10)"],
                augmentation=aug,
                why=f"convolutional nets train fast with AdamW + cosine; {_scale_text(n)} -> "
                    f"{_epochs(n, 30, 60, 90)} epochs")


def _base(family: str, modality: str, task: str, n: Optional[int], spec: dict, hp: dict,
          pretrained: bool) -> dict[str, Any]:
    if modality == "image":
        shape = spec.get("shape") or [3, 32, 32]
        return _image(family, n, int(shape[-1]), int(shape[0]))
    if family == "xgboost":
        rounds = int(hp.get("n_estimators", 100))
        return dict(optimizer="gradient boosting", lr=float(hp.get("learning_rate", 0.1)), schedule="constant",
                    epochs=rounds, batch_size=None, loss="log-loss" if task == "classification" else "squared error",
                    regularisation=[f"max_depth {hp.get('max_depth', 4)}", "subsample 0.8, colsample 0.8",
                                    "early stopping after 20 rounds without validation gain"],
                    why="boosted trees need no feature scaling; early stopping picks the number of rounds")
    if modality == "tabular":
        return dict(optimizer="adamw", lr=1e-3, weight_decay=1e-4, schedule="cosine", warmup_epochs=0,
                    epochs=_epochs(n, 200, 100, 30), batch_size=_batch(n, 32, 256, 1024),
                    loss="cross-entropy" if task == "classification" else "mean squared error",
                    regularisation=[f"dropout {hp.get('dropout', 0.1)}", "batch norm", "weight decay 1e-4",
                                    "early stopping (patience 20)", "standardised features"],
                    why="an MLP on tables needs standardised inputs and early stopping")
    if family == "bert":
        if pretrained:
            return dict(optimizer="adamw", lr=2e-5, weight_decay=0.01, schedule="cosine", warmup_epochs=1,
                        epochs=_epochs(n, 5, 3, 2), batch_size=_batch(n, 16, 32, 32), loss="cross-entropy",
                        regularisation=["dropout 0.1", "weight decay 0.01 (not on LayerNorm/bias)",
                                        "early stopping on validation loss"], grad_clip=1.0,
                        why="fine-tuning a pretrained encoder: small learning rate, warm-up, few epochs "
                            "(LoRA: lr 1e-3)")
        return dict(optimizer="adamw", lr=5e-4, weight_decay=0.01, schedule="cosine", warmup_epochs=1,
                    epochs=_epochs(n, 20, 10, 5), batch_size=_batch(n, 32, 64, 128), loss="cross-entropy",
                    regularisation=["dropout 0.1", "weight decay 0.01"], grad_clip=1.0,
                    why="an encoder trained from scratch needs far more data than fine-tuning")
    if modality in ("text_generation",) or family in ("gpt", "t5"):
        return dict(optimizer="adamw", lr=3e-3 if n and n < 100_000 else 6e-4, weight_decay=0.1, schedule="cosine",
                    warmup_epochs=1, epochs=_epochs(n, 20, 10, 3), batch_size=_batch(n, 32, 64, 128),
                    loss="next-token cross-entropy" if family == "gpt" else "cross-entropy on decoder tokens "
                                                                           "(teacher forcing)",
                    regularisation=["dropout 0.1", "weight decay 0.1 (not on embeddings/norms)"], grad_clip=1.0,
                    why="transformer LMs: AdamW, warm-up then cosine decay, gradient clipping at 1.0")
    if family == "mamba":
        return dict(optimizer="adamw", lr=2e-3, weight_decay=0.1, schedule="cosine", warmup_epochs=1,
                    epochs=_epochs(n, 30, 15, 5), batch_size=_batch(n, 32, 64, 128),
                    loss="cross-entropy" if task != "regression" else "mean squared error",
                    regularisation=["weight decay 0.1", "gradient clipping 1.0"], grad_clip=1.0,
                    why=f"state-space models train stably with AdamW + cosine; sequences of "
                        f"{(spec.get('shape') or ['?'])[0]} steps")
    if family == "diffusion":
        return dict(optimizer="adamw", lr=2e-4 if not n or n > 10_000 else 1e-3, weight_decay=0.0,
                    schedule="cosine", warmup_epochs=1, epochs=_epochs(n, 100, 50, 20),
                    batch_size=_batch(n, 64, 128, 128), loss="MSE between true and predicted noise (DDPM)",
                    regularisation=["EMA of the weights (decay 0.999) for sampling", "no weight decay"],
                    augmentation=["horizontal flip"] if (spec.get("shape") or [1])[0] == 3 else [],
                    grad_clip=1.0, why="DDPM training: noise-prediction MSE, small learning rate, EMA weights")
    if modality == "graph":
        return dict(optimizer="adam", lr=0.01 if family != "gat" else 0.005, weight_decay=5e-4, schedule="constant",
                    warmup_epochs=0, epochs=200, batch_size=None, loss="cross-entropy on labelled nodes",
                    regularisation=[f"dropout {hp.get('dropout', 0.5)}", "weight decay 5e-4",
                                    "early stopping on validation loss (patience 50)"],
                    why="full-graph training as in Kipf & Welling (GCN) / Velickovic et al. (GAT)")
    return dict(optimizer="adamw", lr=1e-3, weight_decay=0.01, schedule="cosine", warmup_epochs=1, epochs=20,
                batch_size=64, loss="cross-entropy", why="a general default")


def training_recipe(family: str, modality: str, task: str, *, data_size: Optional[int] = None,
                    input_spec: Optional[dict] = None, hparams: Optional[dict] = None, pretrained: bool = False,
                    stated: Optional[dict] = None) -> Recipe:
    """The recipe for `family` on `data_size` examples; `stated` settings (plan.settings) win.

    Args:
        stated: TrainSettings.stated() of the plan: optimizer, lr, schedule, warmup_epochs, dropout, l1,
            weight_decay, patience, epochs, batch_size, grad_clip.
    """
    values = _base(family, modality, task, data_size, dict(input_spec or {}), dict(hparams or {}), pretrained)
    taken: list[str] = []
    for key in ("optimizer", "lr", "schedule", "warmup_epochs", "weight_decay", "epochs", "batch_size", "grad_clip"):
        if (stated or {}).get(key) is not None:
            values[key] = stated[key]
            taken.append(f"{key}={stated[key]}")
    regs = list(values.get("regularisation", []))
    for key, text in (("dropout", "dropout {}"), ("l1", "L1 penalty {}"), ("patience", "early stopping (patience {})")):
        if (stated or {}).get(key) is not None:
            word = text.split(" {")[0]
            regs = [r for r in regs if not r.startswith(word.split(" (")[0])]
            regs.append(text.format(stated[key]))
            taken.append(f"{key}={stated[key]}")
    values["regularisation"] = regs
    return Recipe(**values, data_size=data_size, stated=taken)
