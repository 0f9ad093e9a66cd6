"""What the trainer trains, on what, and how: all decided from the plan (+ tool-specific options).

* data: `plan.data` (an explicit `data_path` beats a dataset word; contract.resolve decided), else the
  current model's dataset in a follow-up turn, else the catalogue's default for the modality (the
  answer says so in one sentence, with how to pass your own data);
* settings: `plan.settings` (message + options, resolved by the contract) over the trainer's per-modality
  defaults; tool-specific options (momentum, label_smoothing, lora_r, ...) from `ctx.options`;
  a default wall-clock budget when none is stated.
"""

from __future__ import annotations

from typing import Any, Optional

from tensor_agent.catalogue import DATASETS, default_dataset, family_modality, get_dataset
from tensor_agent.errors import InputError
from tensor_agent.tools.core.engine.config import TrainConfig

#: the budget of a training when the user states none (seconds; overridable with time_budget_s)
DEFAULT_BUDGET_S = 120.0

#: the trainer's own defaults per data kind (the plan's stated settings override them)
TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "image": dict(optimizer="adamw", lr=3e-3, weight_decay=5e-4, schedule="cosine", warmup_epochs=1, epochs=20,
                  batch_size=64, augment=True, label_smoothing=0.05),
    "tabular": dict(optimizer="adamw", lr=1e-3, weight_decay=1e-4, schedule="cosine", epochs=100, batch_size=32,
                    patience=20),
    "sequence": dict(optimizer="adamw", lr=2e-3, weight_decay=1e-4, schedule="cosine", epochs=15, batch_size=64,
                     grad_clip=1.0),
    "graph": dict(optimizer="adam", lr=0.01, weight_decay=5e-4, schedule="constant", epochs=200,
                  monitor="val_loss"),
    "text": dict(optimizer="adamw", lr=1e-3, weight_decay=0.01, schedule="cosine", epochs=6, batch_size=16,
                 strategy="lora"),
    "text_generation": dict(optimizer="adamw", lr=3e-3, weight_decay=0.01, schedule="cosine", epochs=8,
                            batch_size=32, grad_clip=1.0),
    "image_generation": dict(optimizer="adamw", lr=2e-3, weight_decay=0.0, schedule="cosine", epochs=30,
                             batch_size=64, grad_clip=1.0, restore_best=False),
}
#: small image sets: more epochs (each is cheap) and a smaller batch
SMALL_IMAGE_DEFAULTS = dict(epochs=60, batch_size=32, lr=3e-3, warmup_epochs=2)

#: tool-specific options that map 1:1 onto TrainConfig fields (the TrainSettings fields come from the plan)
TOOL_OPTIONS = ("momentum", "step_size", "gamma", "t0", "t_mult", "eta_min", "label_smoothing", "augment", "monitor",
                "lora_r", "lora_alpha", "adapter_dim", "max_length")
#: the stated settings XGBoost uses (the others do not apply to boosted trees and are reported as ignored)
XGB_SETTINGS = ("lr", "seed", "patience", "time_budget_s")
#: load options passed through from ctx.options
LOAD_OPTIONS = ("node_features", "image_size", "seq_len", "classes", "train_per_class")


def _own_data_hint(modality: Optional[str]) -> str:
    if modality == "tabular":
        return "--set data_path=<file.csv> --set target_column=<label column>"
    if modality == "image":
        return "--set data_path=<folder with one sub-folder of images per class>"
    if modality == "text":
        return "--set data_path=<file.jsonl or .csv with text and label>"
    if modality == "graph":
        return "--set data_path=<edges.csv> --set node_features=<nodes.csv>"
    return "--set data_path=<your file>"


def data_reference(plan, ctx) -> tuple[str, str, list[str]]:
    """(dataset name or path, source, notes): where the training data comes from."""
    ds = plan.data
    if ds is not None and ds.ref:
        return str(ds.ref), ds.source, []
    current = ctx.current_model()
    if plan.modality is None and plan.architecture is None and current is not None and current.dataset \
            and get_dataset(current.dataset) is not None:
        return current.dataset, "thread", [f"no dataset given: continued on the current model's dataset "
                                           f"'{current.dataset}'"]
    modality = plan.modality or family_modality(plan.architecture)
    name = default_dataset(modality)
    if name is None:
        raise InputError("no dataset to train on: name one (e.g. 'on the digits dataset') or pass "
                         "--set data_path=<file>", hint=f"built-in datasets: {', '.join(DATASETS)}")
    spec = DATASETS[name]
    return name, "default", [f"No dataset was named, so I used the built-in '{name}' set ({spec.description}); "
                             f"to train on your own data pass {_own_data_hint(spec.modality)}."]


def load_options(plan, ctx, ref: str, family_hint: Optional[str]) -> dict:
    """Keyword options for `load_dataset` from the plan's data source and the tool options."""
    opts = {k: ctx.options[k] for k in LOAD_OPTIONS if ctx.options.get(k) is not None}
    ds = plan.data
    if ds is not None and ds.target_column:
        opts["target_column"] = ds.target_column
    if ds is not None and ds.text_column:
        opts["text_column"] = ds.text_column
    task = ctx.options.get("task") or (plan.task if plan.task == "regression" else None)
    if task:
        opts["task"] = task
    if get_dataset(ref) is None and plan.modality in ("text", "graph", "text_generation"):
        opts["modality"] = plan.modality
    if family_hint == "xgboost":
        opts["preprocess"] = "trees"
    return opts


def _few_images(data) -> bool:
    """A small image set (under 1000 training images): more, cheaper epochs with a smaller batch."""
    return data.modality == "image" and data.sizes.get("train", 0) < 1000


def resolve_config(plan, ctx, data, handle) -> tuple[TrainConfig, list[str]]:
    """The TrainConfig of this training and notes on what was set for the user.

    Order: the trainer's defaults for the data kind, then tool options, then every setting stated in the plan.
    """
    notes: list[str] = []
    stated = plan.settings.stated()
    xgb = handle.kind == "xgboost"
    values: dict[str, Any] = {} if xgb else dict(TRAIN_DEFAULTS.get(data.modality, {}))
    if not xgb and _few_images(data):
        values.update(SMALL_IMAGE_DEFAULTS)
    values.update({k: ctx.options[k] for k in TOOL_OPTIONS if ctx.options.get(k) is not None})
    if xgb:
        ignored = [k for k in stated if k not in XGB_SETTINGS]
        if ignored:
            notes.append(f"XGBoost does not use {', '.join(ignored)} (boosted trees have no such setting); "
                         "use rounds= or lr=")
    values.update(stated)
    if data.modality == "text" and "lr" not in stated:
        from .transfer import TEXT_LR

        values["lr"] = TEXT_LR.get(values.get("strategy", "lora"), values.get("lr", 1e-3))
    if "time_budget_s" not in stated:
        values["time_budget_s"] = DEFAULT_BUDGET_S
    return TrainConfig.build(**values), notes
