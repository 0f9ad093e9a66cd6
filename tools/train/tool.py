"""`train_model(plan, ctx)`: the trainer tool.

It picks the dataset (plan constraint `dataset`, `ctx.options` dataset / data_path + target_column, or the
built-in set of the plan's modality), the model (the conversation's current model when it fits the data,
else one designed for the data), trains it with checkpoints per epoch, saves it, logs an MLflow run and
makes it the conversation's current model.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import InputError, TensorError, UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle

from tensor_agent.tools.core.engine.config import TrainConfig
from tensor_agent.tools.core.datasets import DEFAULT_FOR_MODALITY, DataBundle, dataset_spec
from .report import TrainingReport, plot_curves, summarize

#: family -> modality (to infer a dataset when the plan names only an architecture)
FAMILY_MODALITY = {"xgboost": "tabular", "mlp": "tabular", "cnn": "image", "resnet": "image",
                   "efficientnet": "image", "convnext": "image", "vit": "image", "bert": "text",
                   "gpt": "text_generation", "t5": "text_generation", "mamba": "sequence",
                   "diffusion": "image_generation", "gcn": "graph", "gat": "graph", "graphsage": "graph"}
#: modality -> default family when nothing is named
DEFAULT_FAMILY = {"image": "cnn", "tabular": "xgboost", "graph": "gcn", "text": "bert", "sequence": None,
                  "text_generation": "gpt", "image_generation": "diffusion"}

#: per-modality training defaults (overridden by the plan and ctx.options)
DEFAULTS: dict[str, dict[str, Any]] = {
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

#: option / constraint name -> TrainConfig field
OPTION_FIELDS = {"optimizer": "optimizer", "schedule": "schedule", "learning_rate": "lr", "lr": "lr",
                 "epochs": "epochs", "batch_size": "batch_size", "patience": "patience",
                 "weight_decay": "weight_decay", "l1": "l1", "dropout": "dropout", "grad_clip": "grad_clip",
                 "warmup_epochs": "warmup_epochs", "time_budget_s": "time_budget_s", "seed": "seed",
                 "strategy": "strategy", "augment": "augment", "momentum": "momentum", "step_size": "step_size",
                 "gamma": "gamma", "t0": "t0", "t_mult": "t_mult", "label_smoothing": "label_smoothing",
                 "monitor": "monitor", "lora_r": "lora_r", "adapter_dim": "adapter_dim",
                 "max_length": "max_length", "eta_min": "eta_min"}
TECHNIQUE_STRATEGY = {"lora": "lora", "adapter": "adapter", "adapters": "adapter",
                      "feature_extraction": "feature_extraction", "full_fine_tune": "full_fine_tune",
                      "fine_tune": "full_fine_tune"}


# ------------------------------------------------------------------------------------------------ choices
def _techniques(plan) -> list[str]:
    vals = [c.value for c in plan.constraints if c.name == "technique"]
    out: list[str] = []
    for v in vals:
        out += [str(x).lower() for x in (v if isinstance(v, (list, tuple)) else [v])]
    return out


def resolve_dataset(plan, ctx) -> tuple[str, dict, list[str]]:
    """(name or path, load options, notes) of the dataset to train on."""
    opts = ctx.options
    notes: list[str] = []
    name = plan.constraint("dataset") or opts.get("dataset") or opts.get("data_path")
    load_opts = {k: opts[k] for k in ("target_column", "text_column", "node_features", "image_size", "seq_len",
                                      "task", "classes", "train_per_class") if opts.get(k) is not None}
    if opts.get("data_path") and not name:
        name = opts["data_path"]
    if name:
        if plan.modality in ("text", "graph", "text_generation") and Path(str(name)).expanduser().exists():
            load_opts.setdefault("modality", plan.modality)
        return str(name), load_opts, notes
    modality = plan.modality
    if modality is None:
        current = ctx.current_model()
        if current is not None and current.dataset:
            notes.append(f"no dataset given: continuing on the current model's dataset '{current.dataset}'")
            return current.dataset, load_opts, notes
        fam = opts.get("family") or plan.architecture
        modality = FAMILY_MODALITY.get(fam or "")
    if modality is None:
        raise InputError("no dataset to train on: name one (e.g. 'on the digits dataset') or pass dataset=/data_path=",
                         hint=f"built-in datasets: {', '.join(DEFAULT_FOR_MODALITY.values())}, iris, wine")
    name = DEFAULT_FOR_MODALITY[modality]
    notes.append(f"no dataset given: used the built-in '{name}' dataset for {modality} "
                 f"({dataset_spec(name)['description']})")
    return name, load_opts, notes


def resolve_config(plan, ctx, modality: str, family: str) -> TrainConfig:
    """Modality defaults, then plan constraints, then ctx.options (only for fields the plan leaves open)."""
    # XGBoost has its own defaults (learning rate 0.05, early stopping): only what the user says applies
    values: dict[str, Any] = {} if family == "xgboost" else dict(DEFAULTS.get(modality, {}))
    if family == "mlp":
        values.update(DEFAULTS["tabular"])
    from_plan: dict[str, Any] = {}
    for key, fld in OPTION_FIELDS.items():
        v = plan.constraint(key)
        if v is not None:
            from_plan[fld] = v
    for t in _techniques(plan):
        if t in TECHNIQUE_STRATEGY:
            from_plan["strategy"] = TECHNIQUE_STRATEGY[t]
    from_opts = {fld: ctx.options[key] for key, fld in OPTION_FIELDS.items() if ctx.options.get(key) is not None}
    values.update(from_opts)
    values.update(from_plan)
    if "strategy" in values and modality == "text" and "lr" not in from_opts and "lr" not in from_plan:
        from .transfer import TEXT_LR

        values["lr"] = TEXT_LR.get(values["strategy"], values.get("lr", 1e-3))
    if "epochs" in values:
        try:
            values["epochs"] = int(values["epochs"])
        except (TypeError, ValueError):
            raise InputError(f"invalid training option epochs={values['epochs']!r}: must be an integer") from None
    return TrainConfig.build(**values)


def _fits(handle: Optional[ModelHandle], data: DataBundle) -> bool:
    """Whether a model handle takes this data's inputs and predicts its classes."""
    if handle is None or handle.module is None:
        return False
    spec = handle.input_spec or {}
    want = data.input_spec
    if handle.task != data.task:
        return False
    if data.modality == "text" and not (handle.extra or {}).get("pretrained"):
        return False  # text training fine-tunes the pretrained MiniLM, not a randomly initialised encoder
    if spec.get("kind") and want.get("kind") and spec["kind"] != want["kind"]:
        return False
    if want.get("shape") and spec.get("shape") and list(spec["shape"]) != list(want["shape"]):
        if want.get("kind") != "tokens":
            return False
    if want.get("kind") == "graph" and spec.get("num_features") not in (None, want.get("num_features")):
        return False
    if data.num_classes is not None and handle.num_classes not in (None, data.num_classes):
        return False
    if want.get("vocab_size") and spec.get("vocab_size") and spec["vocab_size"] != want["vocab_size"]:
        return False
    return True


def _design(family: Optional[str], data: DataBundle, plan, ctx) -> tuple[Optional[dict], ModelHandle, list[str]]:
    """Design a model for the data through the designer (fallback: small local models)."""
    notes: list[str] = []
    constraints = {c.name: c.value for c in plan.constraints}
    try:
        from tensor_agent.tools.core.zoo.search import design_for

        design, handle = design_for(family, modality=data.modality, input_spec=data.input_spec,
                                    num_classes=data.num_classes, constraints=constraints, task=data.task)
        d = design.model_dump(mode="json") if hasattr(design, "model_dump") else dict(design or {})
        return d, handle, notes
    except TensorError:
        raise
    except (ImportError, AttributeError, NotImplementedError) as exc:
        notes.append(f"designer unavailable ({type(exc).__name__}); used the trainer's fallback model")
    return None, _fallback_model(family, data), notes


def _fallback_model(family: Optional[str], data: DataBundle) -> ModelHandle:
    import torch
    from torch import nn

    if data.modality == "image":
        c = data.input_spec["shape"][0]

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())

        m = nn.Sequential(block(c, 32), block(32, 32), nn.MaxPool2d(2), block(32, 64), block(64, 64),
                          nn.MaxPool2d(2), block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                          nn.Linear(128, data.num_classes))
        fam = "cnn"
    elif data.modality == "tabular":
        f = data.input_spec["shape"][0]
        out = data.num_classes or 1
        m = nn.Sequential(nn.Linear(f, 64), nn.LayerNorm(64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 64),
                          nn.ReLU(), nn.Linear(64, out))
        fam = "mlp"
    elif data.modality == "sequence":
        v = data.input_spec["vocab_size"]

        class GRUClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(v, 64)
                self.rnn = nn.GRU(64, 64, batch_first=True, bidirectional=True)
                self.head = nn.Linear(128, data.num_classes)

            def forward(self, x):  # (B, T) -> (B, classes)
                h, _ = self.rnn(self.emb(x))  # (B, T, 128)
                return self.head(h.max(1).values)

        m, fam = GRUClassifier(), "gru"
    else:
        raise UnsatisfiableError(f"no model available for {data.modality} data", hint="name a family")
    torch.manual_seed(0)
    return ModelHandle(module=m, family=family or fam, kind="torch", task=data.task, input_spec=data.input_spec,
                       num_classes=data.num_classes, extra={"fallback": True})


# ------------------------------------------------------------------------------------------------ the tool
def train_model(plan, ctx) -> TrainingReport:
    """Train the conversation's model (or one designed for the data) and report measured results.

    Raises:
        InputError: bad data or options, or a diverging run (the MLflow run is then marked FAILED and
            nothing is saved).
    """
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.loop import set_threads

    set_threads()
    opts = ctx.options
    t0 = time.perf_counter()
    name, load_opts, notes = resolve_dataset(plan, ctx)
    seed = int(opts.get("seed", 0) or 0)
    data = load_dataset(name, seed=seed, **load_opts)
    modality = data.modality
    family = (opts.get("family") or plan.architecture or None)
    if family and FAMILY_MODALITY.get(family) not in (None, modality):
        notes.append(f"family '{family}' is for {FAMILY_MODALITY[family]} data but '{data.name}' is {modality}: "
                     f"designed a {modality} model instead")
        family = None
    handle: Optional[ModelHandle] = None
    design: Optional[dict] = None
    current = ctx.current_model()
    backbone_ref = opts.get("backbone")
    if backbone_ref:
        from .transfer import backbone_model, load_backbone

        base = load_backbone(str(backbone_ref), ctx)
        strategy = resolve_config(plan, ctx, modality, base.family).strategy
        strategy = strategy if strategy != "scratch" else "full_fine_tune"
        module = backbone_model(base, data.num_classes, strategy)
        handle = ModelHandle(module=module, family=base.family, kind="torch", task=data.task,
                             input_spec=data.input_spec, num_classes=data.num_classes,
                             extra={"backbone": base.path or backbone_ref, "backbone_dataset": base.dataset,
                                    "strategy": strategy})
        notes.append(f"backbone from {base.path or backbone_ref} ({base.family} trained on {base.dataset}); "
                     f"new {data.num_classes}-class head; strategy {strategy}")
    elif current is not None and _fits(current, data) and (family in (None, current.family)):
        handle = current
        sess_design = ctx.session.get("design")
        if sess_design is not None:
            design = sess_design.model_dump(mode="json") if hasattr(sess_design, "model_dump") else None
        notes.append(f"trained the conversation's current {current.family} model")
    if handle is None:
        family = family or DEFAULT_FAMILY.get(modality)
        if current is not None and not backbone_ref:
            notes.append(f"the current {current.family} model does not fit '{data.name}' "
                         f"({data.input_spec.get('shape') or data.input_spec}); designed a new one")
        if family == "xgboost":
            handle = ModelHandle(module=None, family="xgboost", kind="xgboost", task=data.task,
                                 input_spec=data.input_spec, num_classes=data.num_classes)
        elif family in ("bert",) and modality == "text":
            handle = ModelHandle(module=None, family="bert", kind="torch", task=data.task,
                                 input_spec=data.input_spec, num_classes=data.num_classes,
                                 extra={"pretrained": "all-MiniLM-L6-v2"})
        elif modality in ("text_generation", "image_generation", "graph"):
            handle = ModelHandle(module=None, family=family or modality, kind="torch", task=data.task,
                                 input_spec=data.input_spec, num_classes=data.num_classes)
        else:
            design, handle, more = _design(family, data, plan, ctx)
            notes += more
    family = handle.family
    config = resolve_config(plan, ctx, modality, family)
    run_name = f"{family}-{data.name}"
    ck_dir = ctx.settings.path("checkpoints", f"{ctx.thread_id}-{run_name}".replace("/", "_"))
    if opts.get("resume", True) is False:
        shutil.rmtree(ck_dir, ignore_errors=True)
        ck_dir.mkdir(parents=True, exist_ok=True)
    if handle.kind == "torch":
        config = config.model_copy(update={"checkpoint_dir": str(ck_dir),
                                           "checkpoint_every_s": 5.0 if modality == "graph" else 0.0})
    art_dir = ctx.settings.path("artifacts", "train", f"{run_name}-{time.strftime('%Y%m%d-%H%M%S')}")
    report = TrainingReport(dataset=data.name, dataset_info=data.describe(), family=family, kind=handle.kind,
                            strategy=config.strategy, config=config.model_dump(mode="json"), notes=notes)
    track = opts.get("track", True) is not False
    saved_path: Optional[str] = None
    try:
        if track:
            from tensor_agent.tools.core.tracking import mlflow_run

            cm = mlflow_run(ctx, run_name, tags={"tensor.family": family, "tensor.dataset": data.name,
                                                 "tensor.modality": modality})
        else:
            import contextlib

            cm = contextlib.nullcontext(None)
        with cm as run:
            if run is not None:
                report.mlflow_run_id = run.run_id
                report.tracking_uri = ctx.settings.tracking_uri
                run.log_params({**{f"train.{k}": v for k, v in config.model_dump().items()
                                   if k != "checkpoint_dir"},
                                "dataset": data.name, "dataset.source": data.meta.get("source"),
                                "dataset.seed": data.seed, "dataset.sizes": data.sizes, "family": family,
                                "modality": modality, "task": data.task})
                run.log_dict(data.describe(), "dataset.json")
                if design:
                    run.log_dict(design, "design.json")
            on_epoch = (lambda rec: run.log_metrics({k: v for k, v in rec.items() if k != "epoch"},
                                                    step=rec["epoch"])) if run is not None else None
            res, module, extra = _train(handle, data, config, ctx, on_epoch, art_dir, report)
            if res.diverged:
                raise InputError(res.message, hint="lower the learning rate")
            handle.module = module
            handle.dataset = data.name
            handle.task = data.task if data.task != "generation" or handle.task != "denoising" else handle.task
            handle.num_classes = data.num_classes
            handle.input_spec = {**(handle.input_spec or {}), **data.input_spec} if modality != "text" else \
                (handle.input_spec or data.input_spec)
            handle.metrics = {k: v for k, v in res.test_metrics.items() if isinstance(v, (int, float))}
            handle.extra = {**(handle.extra or {}), **extra, "strategy": config.strategy, "seed": seed,
                            "classes": data.meta.get("classes"), "dataset_info": data.describe()}
            if run is not None:
                handle.mlflow_run_id = run.run_id
            report.history, report.lr_curve = res.history, res.lr_curve
            report.val_metrics, report.test_metrics = res.val_metrics, res.test_metrics
            report.best_epoch, report.epochs_run = res.best_epoch, res.epochs_run
            report.stopped_reason, report.resumed_from = res.stopped_reason, res.resumed_from
            report.trainable_params, report.total_params = res.trainable_params, res.total_params
            report.wall_s = res.wall_s
            report.curve_png = plot_curves(res.history, art_dir / "curves.png", f"{family} on {data.name}")
            saved_path = save_model_for(handle, ctx, run_name, run.run_id if run is not None else None)
            report.model_path = saved_path
            if run is not None:
                run.log_metrics({f"test_{k}": v for k, v in res.test_metrics.items()})
                run.log_metrics({f"final_val_{k}": v for k, v in res.val_metrics.items()})
                run.log_metrics({"wall_s": res.wall_s, "trainable_params": res.trainable_params,
                                 "total_params": res.total_params, "epochs_run": res.epochs_run})
                run.set_tags({"tensor.model_path": saved_path, "tensor.stopped_reason": res.stopped_reason})
                for p in (report.curve_png, report.sample_png):
                    if p:
                        run.log_artifact(p, "plots")
                if extra.get("sample_text_path"):
                    run.log_artifact(extra["sample_text_path"], "samples")
                run.log_artifacts(saved_path, "model")
                reg = opts.get("register") or opts.get("register_model")
                if reg:
                    from tensor_agent.tools.core.tracking import register_model

                    report.registered_model = register_model(ctx, run.run_id, reg if isinstance(reg, str)
                                                             else f"tensor-{run_name}")
    except BaseException:
        if saved_path:
            shutil.rmtree(saved_path, ignore_errors=True)
        raise
    shutil.rmtree(ck_dir, ignore_errors=True)  # finished: the next training starts fresh
    ctx.set_model(handle)
    report.message = summarize(report) + (f". {res.message}" if res.message else "")
    report.wall_s = round(report.wall_s, 3)
    if report.notes:
        report.message += " [" + "; ".join(report.notes) + "]"
    report.config.pop("checkpoint_dir", None)
    _ = t0
    return report


def save_model_for(handle: ModelHandle, ctx, run_name: str, run_id: Optional[str]) -> str:
    from tensor_agent.tools.core.model_store import save_model

    suffix = (run_id or time.strftime("%Y%m%d-%H%M%S"))[:12]
    return save_model(handle, ctx.settings.models_dir, name=f"{run_name}-{suffix}".replace("/", "_"))


def _train(handle: ModelHandle, data: DataBundle, config: TrainConfig, ctx, on_epoch, art_dir: Path,
           report: TrainingReport):
    """Dispatch to the right trainer; returns (FitResult, trained module, extra facts for the handle)."""
    fam = handle.family
    if handle.kind == "xgboost" or fam == "xgboost":
        from .xgb import train_xgboost

        lr = config.lr if "lr" in config.model_fields_set else None
        res = train_xgboost(data, model=handle.module, learning_rate=lr, seed=config.seed)
        if on_epoch is not None:  # boosting rounds as steps (validation loss curve)
            for rec in res.history[:: max(1, len(res.history) // 100)]:
                on_epoch(rec)
        return res, res.model, {"best_iteration": res.best_epoch}
    if data.modality == "graph":
        from .gnn import make_gnn, train_gnn

        model = handle.module if handle.module is not None else make_gnn(fam if fam in ("gcn", "gat", "graphsage")
                                                                         else "gcn", data)
        res = train_gnn(fam, data, config, model=model, ctx=ctx)
        _replay(on_epoch, res)
        return res, model, {}
    if data.modality == "text":
        from .transfer import merge_lora, train_text

        res, model, tok = train_text(data, config, ctx=ctx, model=handle.module, on_epoch=on_epoch)
        return res, merge_lora(model) if not res.diverged else model, {"tokenizer_path": tok,
                                                                       "max_length": config.max_length}
    if data.modality == "text_generation":
        from .generative import train_lm

        path = art_dir / "sample.txt"
        res, model, text = train_lm(data, config, ctx=ctx, model=handle.module, sample_path=path,
                                    on_epoch=on_epoch)
        report.sample_text = text
        return res, model, {"itos": data.meta["itos"], "sample_text_path": str(path) if text else None}
    if data.modality == "image_generation":
        from .generative import train_diffusion

        res, model, png = train_diffusion(data, config, ctx=ctx, model=handle.module,
                                          sample_path=art_dir / "samples.png", on_epoch=on_epoch)
        report.sample_png = png
        handle.task = "denoising"
        return res, model, {"sample_png": png}
    from tensor_agent.tools.core.engine.loop import fit

    res = fit(handle.module, data, config, ctx=ctx, on_epoch=on_epoch)
    return res, handle.module, {}


def _replay(on_epoch, res) -> None:
    """Graph training is fast and full-batch: log its epochs after the fact."""
    if on_epoch is None:
        return
    for rec in res.history:
        on_epoch(rec)
