"""The built-in trainers, one per data kind (see registry.py)."""

from __future__ import annotations

from tensor_agent.errors import UnsatisfiableError

from .registry import TrainJob, TrainOutcome, register_trainer


def _replay(on_epoch, history, every: int = 1) -> None:
    """Log epochs after the fact (boosting rounds, fast full-batch runs)."""
    if on_epoch is None:
        return
    for rec in history[::max(1, every)]:
        on_epoch(rec)


@register_trainer("tabular")
def train_tabular(job: TrainJob) -> TrainOutcome:
    """XGBoost (its own early stopping; missing values native) or a neural model through `fit`."""
    if job.handle.kind == "xgboost":
        from .xgb import train_xgboost

        cfg = job.config
        set_ = cfg.model_fields_set
        res = train_xgboost(job.data, model=job.handle.module, learning_rate=cfg.lr if "lr" in set_ else None,
                            seed=cfg.seed, n_estimators=job.options.get("rounds"),
                            early_stopping_rounds=cfg.patience if "patience" in set_ else None,
                            time_budget_s=cfg.time_budget_s)
        _replay(job.on_epoch, res.history)  # every round: metrics are batched (tracking.TrackedRun)
        return TrainOutcome(res, res.model, {"best_iteration": res.best_epoch})
    return _fit(job)


def _fit(job: TrainJob) -> TrainOutcome:
    from tensor_agent.tools.core.engine.loop import fit

    res = fit(job.handle.module, job.data, job.config, ctx=job.ctx, on_epoch=job.on_epoch)
    return TrainOutcome(res, job.handle.module)


@register_trainer("image")
def train_image(job: TrainJob) -> TrainOutcome:
    """Image classification through `fit` (augmentation and BatchNorm handling are in the loop)."""
    return _fit(job)


@register_trainer("sequence")
def train_sequence(job: TrainJob) -> TrainOutcome:
    """Token-sequence classification (Mamba and friends) through `fit`."""
    return _fit(job)


@register_trainer("graph")
def train_graph(job: TrainJob) -> TrainOutcome:
    """Full-batch node classification (GCN, GAT, GraphSAGE)."""
    from .gnn import train_gnn

    res = train_gnn(job.handle.family, job.data, job.config, model=job.handle.module, ctx=job.ctx,
                    on_epoch=job.on_epoch)
    return TrainOutcome(res, job.handle.module)


@register_trainer("text")
def train_text_kind(job: TrainJob) -> TrainOutcome:
    """Transfer learning on the pretrained MiniLM: LoRA, adapters, feature extraction or full fine-tuning."""
    from .transfer import merge_lora, train_text

    res, model, tok = train_text(job.data, job.config, ctx=job.ctx, model=job.handle.module, on_epoch=job.on_epoch)
    model = merge_lora(model) if not res.diverged else model
    return TrainOutcome(res, model, {"tokenizer_path": tok, "max_length": job.config.max_length})


@register_trainer("text_generation")
def train_text_generation(job: TrainJob) -> TrainOutcome:
    """Next-character language model (GPT); writes a sample text."""
    if job.handle.family != "gpt":
        raise UnsatisfiableError(f"the trainer has no {job.handle.family} trainer for text generation "
                                 "(it trains decoder-only GPT language models)",
                                 hint="ask for a GPT model, or design the model only")
    from .generative import train_lm

    path = job.art_dir / "sample.txt"
    res, model, text = train_lm(job.data, job.config, ctx=job.ctx, model=job.handle.module, sample_path=path,
                                on_epoch=job.on_epoch)
    return TrainOutcome(res, model, {"itos": job.data.meta["itos"], "sample_text_path": str(path) if text else None},
                        sample_text=text)


@register_trainer("image_generation")
def train_image_generation(job: TrainJob) -> TrainOutcome:
    """DDPM noise-prediction training of a diffusion UNet; writes a DDIM sample grid."""
    from .generative import train_diffusion

    res, model, png = train_diffusion(job.data, job.config, ctx=job.ctx, model=job.handle.module,
                                      sample_path=job.art_dir / "samples.png", on_epoch=job.on_epoch)
    return TrainOutcome(res, model, {"sample_png": png}, sample_png=png, task="denoising")
