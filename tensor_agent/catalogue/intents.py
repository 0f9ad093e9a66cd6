"""Intents: what a message can ask for. Primary intent first in a plan, in the message's order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntentSpec:
    name: str
    description: str


INTENTS: dict[str, IntentSpec] = {i.name: i for i in (
    IntentSpec("design", "choose and size an architecture"),
    IntentSpec("implement", "write standalone code for an architecture"),
    IntentSpec("train", "train a model on data"),
    IntentSpec("fine_tune", "adapt a pretrained model (LoRA, adapters, feature extraction, full fine-tuning)"),
    IntentSpec("tune", "hyperparameter search (Optuna, sweeps, find the best learning rate)"),
    IntentSpec("compress", "quantize, prune, distill or export a model for a device"),
    IntentSpec("deploy", "serve or package a model: Docker, TorchServe, TF Serving, KServe, Kubeflow"),
    IntentSpec("track", "log, register, version, alias, compare or roll back runs and models"),
    IntentSpec("estimate_data", "how much (labelled) data a task needs"),
    IntentSpec("evaluate", "an evaluation protocol or metrics for a model"),
    IntentSpec("explain", "the maths or the trade-offs of a technique"),
    IntentSpec("recall", "what worked before, from memory"),
)}
