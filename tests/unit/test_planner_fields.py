"""The plan's typed fields read from words: every training setting reaches plan.settings through
contract.resolve; techniques, sparsity, registration name, trackers, framework, deploy targets,
the hyperparameter search, input shapes, class counts and sequence lengths are read exactly."""

from __future__ import annotations

import pytest

from tensor_agent.contract import resolve
from tensor_agent.planner import make_plan, rules_plan


def _resolved(text: str):
    return resolve(make_plan(text), {})


SETTINGS = [
    ("optimizer", "@TENSOR train a neural network on my csv using SGD", "sgd"),
    ("optimizer", "@TENSOR train the CNN with AdamW please", "adamw"),
    ("optimizer", "@TENSOR fine-tune BERT with the LAMB optimizer", "lamb"),
    ("lr", "@TENSOR train an MLP on iris with a learning rate of 3e-4", 3e-4),
    ("lr", "@TENSOR train a CNN on digits, lr=0.01", 0.01),
    ("schedule", "@TENSOR train the MLP on iris with step LR", "step"),
    ("schedule", "@TENSOR train the CNN with cosine with restarts", "cosine_warm_restarts"),
    ("schedule", "@TENSOR train a ResNet with cosine annealing", "cosine"),
    ("schedule", "@TENSOR train an MLP with exponential decay", "exponential"),
    ("warmup_epochs", "@TENSOR train the ViT with 2 warm-up epochs", 2),
    ("warmup_epochs", "@TENSOR train it with a warmup of 3 epochs", 3),
    ("dropout", "@TENSOR train an MLP with dropout 0.3", 0.3),
    ("dropout", "@TENSOR train the CNN with 20% dropout", 0.2),
    ("l1", "@TENSOR train a neural network with L1 1e-5", 1e-5),
    ("weight_decay", "@TENSOR train the ResNet with weight decay 0.01", 0.01),
    ("weight_decay", "@TENSOR train the MLP with L2 1e-4", 1e-4),
    ("patience", "@TENSOR train a model with early stopping with patience 5", 5),
    ("patience", "@TENSOR stop early if there is no improvement for 7 epochs while you train the CNN", 7),
    ("epochs", "@TENSOR train a CNN on digits for 40 epochs", 40),
    ("epochs", "@TENSOR train it for ten epochs", 10),
    ("batch_size", "@TENSOR train the MLP with batch size 64", 64),
    ("batch_size", "@TENSOR train on batches of 128", 128),
    ("grad_clip", "@TENSOR train the GPT and clip gradients at 1.0", 1.0),
    ("grad_clip", "@TENSOR train with gradient clipping of 0.5", 0.5),
    ("seed", "@TENSOR train a CNN with seed 42", 42),
    ("time_budget_s", "@TENSOR train a CNN on digits for 10 minutes", 600.0),
    ("time_budget_s", "@TENSOR train the MLP within 2 min", 120.0),
    ("time_budget_s", "@TENSOR train something with a 90 second budget", 90.0),
]


@pytest.mark.parametrize("field,text,value", SETTINGS)
def test_every_training_setting_in_words_reaches_plan_settings(field, text, value):
    plan = _resolved(text)
    got = getattr(plan.settings, field)
    assert got == (pytest.approx(value) if isinstance(value, float) else value), (text, plan.settings)
    name = "learning_rate" if field == "lr" else field
    c = next(c for c in plan.constraints if c.name == name)
    assert plan.text[c.span[0]:c.span[1]] == c.text  # the span points into the user's text


def test_the_issue9_sentence_keeps_every_setting():
    text = ("@TENSOR train a neural network on my csv using SGD, step LR, dropout 0.3, L1 1e-5, "
            "early stopping with patience 5, 40 epochs")
    s = _resolved(text).settings.stated()
    assert s == {"optimizer": "sgd", "schedule": "step", "dropout": 0.3, "l1": 1e-5, "patience": 5, "epochs": 40}


def test_warmup_and_patience_epochs_are_not_the_epoch_count():
    s = _resolved("@TENSOR train the CNN for 30 epochs with 2 warm-up epochs and 5 epochs of patience").settings
    assert (s.epochs, s.warmup_epochs, s.patience) == (30, 2, 5)


def test_out_of_range_setting_is_dropped_with_a_warning_not_an_error():
    plan = _resolved("@TENSOR train an MLP with dropout 1.5")
    assert plan.settings.dropout is None and any("dropout" in w for w in plan.warnings)


def test_time_budget_is_not_a_latency_and_latency_is_not_a_budget():
    plan = rules_plan("@TENSOR train a CNN within 30 s that answers in under 2 s per image")
    assert plan.constraint("time_budget_s") == 30 and plan.constraint("latency_ms") == 2000


@pytest.mark.parametrize("text,path,dataset", [
    ("@TENSOR train a classifier on data/my.csv", "data/my.csv", None),
    ("@TENSOR train a CNN on the images in ./images/", "./images/", None),
    ("@TENSOR train a classifier on the wine dataset", None, "wine"),
    ("@TENSOR train an MLP on data/wine.csv", "data/wine.csv", None),
    ("@TENSOR train a classifier on my wine csv", None, None),
    ("@TENSOR I use TensorFlow/Keras, implement a ResNet for CIFAR-10", None, None),
])
def test_data_path_and_dataset_words(text, path, dataset):
    plan = _resolved(text)
    got = (plan.data.data_path, plan.data.dataset) if plan.data else (None, None)
    assert got == (path, dataset)


@pytest.mark.parametrize("text,techniques", [
    ("@TENSOR quantize it to int8", ["int8"]),
    ("@TENSOR dynamic quantization then prune channels", ["dynamic_int8", "structured_pruning"]),
    ("@TENSOR static quantization with calibration please", ["static_int8"]),
    ("@TENSOR quantization-aware training for the CNN", ["qat"]),
    ("@TENSOR quantize it with ONNX Runtime INT8", ["onnx_int8"]),
    ("@TENSOR prune it and then distill it into a student", ["pruning", "distillation"]),
    ("@TENSOR find a lottery ticket in the MLP", ["lottery_ticket"]),
    ("@TENSOR export it to ONNX and TorchScript", ["onnx", "torchscript"]),
    ("@TENSOR package it as a TorchServe archive", ["torchserve"]),
    ("@TENSOR fine-tune BERT with LoRA", ["lora"]),
    ("@TENSOR fine-tune GPT with adapters", ["adapter"]),
    ("@TENSOR adapt the ResNet with a frozen backbone and a new head", ["feature_extraction"]),
    ("@TENSOR fully fine-tune the ViT", ["full_fine_tune"]),
    ("@TENSOR don't quantize it, just prune it", ["pruning"]),
])
def test_techniques_in_message_order(text, techniques):
    plan = _resolved(text)
    assert plan.techniques == techniques
    assert [c.value for c in plan.constraints if c.name == "technique"] == techniques


@pytest.mark.parametrize("text,value", [
    ("@TENSOR prune it 50%", 0.5), ("@TENSOR prune my model 50%", 0.5),
    ("@TENSOR prune 30% of the weights", 0.3), ("@TENSOR 70% sparsity please", 0.7),
    ("@TENSOR prune it to sparsity 0.6", 0.6),
])
def test_sparsity_is_the_stated_amount(text, value):
    assert rules_plan(text).constraint("sparsity") == pytest.approx(value)


def test_sparsity_is_not_the_accuracy_to_keep():
    assert rules_plan("@TENSOR prune it and keep 95% accuracy").constraint("sparsity") is None


@pytest.mark.parametrize("text,name", [
    ("@TENSOR train an MLP on breast cancer, register as bc-mlp", "bc-mlp"),
    ("@TENSOR register the model in MLflow as churn-v2", "churn-v2"),
    ("@TENSOR register it under the name Digits_CNN.v3", "Digits_CNN.v3"),
    ("@TENSOR register it", None),
])
def test_register_name(text, name):
    plan = _resolved(text)
    assert plan.register_name == name
    assert "track" in plan.intents or "train" in plan.intents


@pytest.mark.parametrize("text,trackers", [
    ("@TENSOR log it to W&B", ["wandb"]), ("@TENSOR track the runs in MLflow and Neptune", ["mlflow", "neptune"]),
    ("@TENSOR log everything to Weights & Biases, not MLflow", ["wandb"]),
])
def test_trackers(text, trackers):
    assert rules_plan(text).trackers == trackers


@pytest.mark.parametrize("text,framework", [
    ("@TENSOR I use TensorFlow/Keras, can you implement a ResNet in Keras?", "keras"),
    ("@TENSOR implement the MLP in JAX with Flax", "flax"),
    ("@TENSOR a scikit-learn baseline for the iris table", "sklearn"),
    ("@TENSOR write the CNN in PyTorch", "pytorch"),
    ("@TENSOR port my PyTorch model to Keras", "keras"),
    ("@TENSOR design a CNN", None),
])
def test_framework(text, framework):
    assert rules_plan(text).framework == framework


@pytest.mark.parametrize("text,targets", [
    ("@TENSOR deploy it with Docker", ["docker"]),
    ("@TENSOR serve it with TorchServe", ["torchserve"]),
    ("@TENSOR put it behind TF Serving", ["tfserving"]),
    ("@TENSOR deploy to KServe on Kubernetes and write the Kubeflow pipeline", ["kserve", "kubernetes", "kubeflow"]),
])
def test_deploy_targets(text, targets):
    plan = rules_plan(text)
    assert plan.deploy_targets == targets and plan.intents[0] == "deploy" and plan.tools == ["deploy_model"]


def test_tune_spec():
    plan = _resolved("@TENSOR tune the MLP on iris, 30 trials, for 10 minutes, tune lr and dropout only")
    assert plan.intents == ["tune"] and plan.tools == ["design_architecture", "tune_model"]
    assert plan.tune.trials == 30 and plan.tune.time_budget_s == 600 and plan.tune.params == ["lr", "dropout"]
    bare = _resolved("@TENSOR tune the hyperparameters of the CNN")
    assert bare.tune is not None and bare.tune.trials is None and bare.tune.params == []


@pytest.mark.parametrize("text,variant,pretrained", [
    ("@TENSOR fine-tune bert-base on my tickets", "bert-base", True),
    ("@TENSOR implement ResNet-50 from scratch", "resnet50", False),
    ("@TENSOR train a vit-micro on the digits", "vit-micro", None),
    ("@TENSOR start from pretrained weights and train the ViT", None, True),
])
def test_variant_and_pretrained(text, variant, pretrained):
    plan = rules_plan(text)
    assert (plan.variant, plan.pretrained) == (variant, pretrained)


@pytest.mark.parametrize("text,expected", [
    ("@TENSOR design a ViT for 224x224 images, 20 classes", {"input_shape": [224, 224], "num_classes": 20}),
    ("@TENSOR design a CNN for 32x32 RGB images", {"input_shape": [3, 32, 32]}),
    ("@TENSOR how much data for few-shot classification of 5 product categories", {"num_classes": 5}),
    ("@TENSOR a text classifier with two classes", {"num_classes": 2}),
    ("@TENSOR a Mamba model for 16k-step sequences", {"sequence_length": 16384}),  # k in lengths = 1024
    ("@TENSOR a Mamba model for 16,000-step sequences", {"sequence_length": 16000}),  # written out: as written
    ("@TENSOR classify 16k step sensor sequences into two classes", {"sequence_length": 16384, "num_classes": 2}),
    ("@TENSOR we have 16k sensor sequences of 512 steps", {"dataset_size": 16000, "sequence_length": 512}),
    ("@TENSOR a GPT with a 2k context window", {"sequence_length": 2048}),
    ("@TENSOR we have 50k 28x28 grayscale images in ten classes",
     {"dataset_size": 50000, "input_shape": [1, 28, 28], "num_classes": 10}),
    ("@TENSOR 5 product categories, 20k product photos at 224x224",
     {"num_classes": 5, "dataset_size": 20000, "input_shape": [224, 224]}),
    ("@TENSOR sort the photos into three groups", {"num_classes": 3}),
    ("@TENSOR emotion recognition with seven emotions from 32x32 RGB faces", {"num_classes": 7, "input_shape": [3, 32, 32]}),
    ("@TENSOR twenty-one classes of 224 x 224 pixels images", {"num_classes": 21, "input_shape": [224, 224]}),
    ("@TENSOR design an A/B test with two groups", {}),
    ("@TENSOR a 12-layer transformer with 8 heads on 3 channels", {}),
    ("@TENSOR a BERT with sequence length 512", {"sequence_length": 512}),
    ("@TENSOR 224x224 images, 20 classes: how many do I need?", {"input_shape": [224, 224], "num_classes": 20}),
])
def test_exact_readings_do_not_mix(text, expected):
    plan = rules_plan(text)
    got = {c.name: c.value for c in plan.constraints if c.name in
           ("input_shape", "num_classes", "sequence_length", "dataset_size", "labelled_examples")}
    assert got == expected, got
    for c in plan.constraints:
        assert text[c.span[0]:c.span[1]] == c.text
