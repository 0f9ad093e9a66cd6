"""What is a request: negation, quotes and code, other agents, design of experiments, subordinate
verbs, transfer and device phrasings, the new intents; and the planner reads its facts from the
catalogue."""

from __future__ import annotations

import inspect

import pytest

from tensor_agent import catalogue
from tensor_agent.planner import rules_plan


@pytest.mark.parametrize("text,intents", [
    ("@TENSOR implement a Mamba classifier for DNA. Only the model code please, no training", ["implement"]),
    ("@TENSOR design a ViT for satellite images but don't train it", ["design"]),
    ("@TENSOR Not planning to fine-tune anything yet, I just want the theory behind LoRA", ["explain"]),
    ("@TENSOR don't quantize anything, just tell me how to evaluate the INT8 version", ["evaluate"]),
    ("@TENSOR skip the hyperparameter search, just train the MLP on iris", ["train"]),
    ("@TENSOR prune the CNN to 60% sparsity without retraining", ["compress"]),
    ("@TENSOR code only: a GAT layer for the citation graph, I'll handle training and evaluation", ["implement"]),
])
def test_negated_and_declined_verbs_are_not_requests(text, intents):
    assert rules_plan(text).intents == intents


def test_negation_scope_ends_with_its_clause():
    plan = rules_plan("@TENSOR I'm not sure which model to use, design one for my churn table")
    assert plan.intents == ["design"]
    plan = rules_plan("@TENSOR don't deploy it yet, train the CNN first")
    assert plan.intents == ["train"]


@pytest.mark.parametrize("text", [
    "@TENSOR how should we design the A/B test of model v2?",
    "@TENSOR help me design a validation protocol for the churn model",
    "@TENSOR design an ablation study for the dropout in our ResNet",
])
def test_designing_an_experiment_is_evaluate(text):
    plan = rules_plan(text)
    assert plan.intents == ["evaluate"] and plan.tools == [] and plan.peers == ["ECLIPSE"]


def test_design_a_sweep_is_tune():
    plan = rules_plan("@TENSOR design a hyperparameter sweep for the MLP on the credit table")
    assert plan.intents[0] == "tune" and plan.tools == ["design_architecture", "tune_model"]


def test_quoted_lines_and_code_blocks_are_not_requests():
    plan = rules_plan("> @TENSOR train a CNN on the digits\nthanks! @TENSOR now prune it 50%")
    assert plan.intents == ["compress"] and plan.constraint("sparsity") == 0.5
    plan = rules_plan("@TENSOR why does this diverge?\n```python\nmodel.train()  # train it, then quantize\n```")
    assert plan.intents == ["explain"] and plan.tools == []
    assert not rules_plan("> @TENSOR design a CNN\nI agree with the quote above").addressed


def test_a_quoted_question_is_the_request_when_nothing_else_is_asked():
    plan = rules_plan("> which architecture should we use for the churn table?\n@TENSOR thoughts?")
    assert plan.intents == ["design"] and plan.modality == "tabular"


def test_sentences_addressed_to_other_agents_are_theirs():
    plan = rules_plan("@PRISM please clean the table and remove outliers. @TENSOR then train xgboost on it")
    assert plan.intents == ["train"] and plan.peers == ["PRISM"]
    plan = rules_plan("@ECLIPSE evaluate the BERT model on the test set; @TENSOR meanwhile quantize it to INT8")
    assert plan.intents == ["compress"]


@pytest.mark.parametrize("text,intents", [
    ("@TENSOR before we deploy it, how should we evaluate the model?", ["evaluate"]),
    ("@TENSOR the ResNet we trained last week is too slow; make it faster on CPU", ["compress"]),
    ("@TENSOR build a Kubeflow pipeline that retrains and deploys the iris model", ["deploy"]),
    ("@TENSOR how much data do I need to train an image classifier?", ["estimate_data"]),
])
def test_subordinate_verbs_are_not_requests(text, intents):
    assert rules_plan(text).intents == intents


def test_transfer_and_device_phrasings():
    plan = rules_plan("@TENSOR adapt it with a frozen backbone and a new head")
    assert plan.intents == ["fine_tune"] and plan.techniques == ["feature_extraction"]
    plan = rules_plan("@TENSOR run the model on my phone at 30 fps: what do I need to change?")
    assert plan.intents == ["compress"] and plan.peers == ["VELOCITY"]
    assert plan.constraint("device") == "mobile" and plan.constraint("latency_ms") == pytest.approx(33.333, rel=1e-3)


@pytest.mark.parametrize("text,intent,tools", [
    ("@TENSOR tune the hyperparameters", "tune", ["design_architecture", "tune_model"]),
    ("@TENSOR find the best learning rate with Optuna", "tune", ["design_architecture", "tune_model"]),
    ("@TENSOR deploy it with Docker", "deploy", ["deploy_model"]),
    ("@TENSOR ship it to production behind an HTTP endpoint", "deploy", ["deploy_model"]),
    ("@TENSOR register it", "track", ["track_experiment"]),
    ("@TENSOR log it to W&B", "track", ["track_experiment"]),
    ("@TENSOR roll back to version 2", "track", ["track_experiment"]),
    ("@TENSOR deploy it on a Raspberry Pi", "compress", ["compress_model"]),
])
def test_new_intents(text, intent, tools):
    plan = rules_plan(text)
    assert plan.intents[0] == intent and plan.tools == tools


def test_deploy_with_a_latency_target_brings_velocity():
    assert rules_plan("@TENSOR deploy it on Kubernetes with p99 under 50 ms").peers == ["VELOCITY"]
    assert rules_plan("@TENSOR deploy it on Kubernetes").peers == []


def test_modality_phrasings():
    assert rules_plan("@TENSOR predict next week's sales from 5 years of daily sales per store").modality == "sequence"
    plan = rules_plan("@TENSOR build a classifier for our chatbot router")
    assert (plan.modality, plan.architecture) == ("text", "bert")


@pytest.mark.parametrize("family", sorted(catalogue.FAMILIES))
def test_a_named_family_gets_the_catalogue_modality(family):
    plan = rules_plan(f"@TENSOR design a {family} model")
    assert plan.architecture == family
    if family != "mlp":  # an MLP alone says nothing about the data
        assert plan.modality == catalogue.family_modality(family)


@pytest.mark.parametrize("modality,text", [
    ("tabular", "@TENSOR design a model for my churn table"),
    ("image", "@TENSOR design a model for satellite images"),
    ("image", "@TENSOR design a model for satellite images on a phone"),
    ("text", "@TENSOR design a model for sentiment of reviews"),
    ("graph", "@TENSOR design a model for our citation graph"),
    ("sequence", "@TENSOR design a model for ECG signals"),
])
def test_unnamed_family_is_the_catalogue_guide(modality, text):
    plan = rules_plan(text)
    assert plan.modality == modality
    assert plan.architecture in catalogue.guide_families(modality)


def test_the_planner_keeps_no_copy_of_the_catalogue():
    from tensor_agent.planner import constraints, fields, lexicon, llm, rules, training

    for mod in (rules, llm, lexicon, constraints, fields, training):
        src = inspect.getsource(mod)
        for name in ("FAMILY_MODALITY", "_FAMILY_MODALITY", "_GUIDE =", "_DATASETS =", "DEFAULT_FOR_MODALITY ="):
            assert name not in src, (mod.__name__, name)
        assert '("AXIOM", "VELOCITY", "PRISM", "ECLIPSE")' not in src


@pytest.mark.parametrize("text,intents", [
    ("@TENSOR if it reaches 95%, deploy it with Docker", ["deploy"]),
    ("@TENSOR train a CNN on the digits. If it reaches 95%, deploy it with Docker.", ["train", "deploy"]),
    ("@TENSOR train a small CNN on digits and, if it reaches 95% accuracy, deploy it with Docker", ["train", "deploy"]),
    ("@TENSOR train the model and deploy it with Docker only if it reaches 95%", ["train", "deploy"]),
    ("@TENSOR train it; if it beats the baseline, quantize it to int8", ["train", "compress"]),
    # the verb inside the condition (and the rest of that clause) is not a request
    ("@TENSOR if we deploy it with docker, what metrics should we watch?", ["evaluate"]),
    ("@TENSOR before we ship it to production with Docker, how should we evaluate it?", ["evaluate"]),
])
def test_conditional_requests(text, intents):
    assert rules_plan(text).intents == intents


@pytest.mark.parametrize("text,intents", [
    # hypotheticals and yes/no questions about doing something are not requests to do it
    ("@TENSOR suppose we prune 70% of the weights: will the accuracy survive? explain the theory", ["explain"]),
    ("@TENSOR is it a bad idea to train a transformer on only 2k sentences? explain the risk", ["explain"]),
    ("@TENSOR I was going to train a ResNet but maybe a ViT is better for 2M images? what do you think", ["design"]),
    ("@TENSOR ignore my previous message about Docker; just train the MLP on the wine data", ["train"]),
    ("@TENSOR design a network but don't implement or train anything yet", ["design"]),
    # what a tracking verb logs is its object, not a request
    ("@TENSOR can you log the confusion matrix and metrics of this run to MLflow?", ["track"]),
    ("@TENSOR which runs had the best F1 last week? compare them", ["track"]),
    # a task statement is a design request
    ("@TENSOR predict the price of a used car from make, model, mileage and year", ["design"]),
    ("@TENSOR the model needs to decide whether a support call transcript mentions a refund", ["design"]),
    ("@TENSOR kick off 30 Optuna trials for the wine MLP, pruning bad ones", ["tune"]),
])
def test_scope_of_requests(text, intents):
    assert rules_plan(text).intents == intents


def test_a_data_hand_off_to_prism_adds_prism_other_peers_tasks_do_not():
    assert "PRISM" in rules_plan("@PRISM balance the classes; @TENSOR you train the CNN once they're done").peers
    plan = rules_plan("@ECLIPSE evaluate the BERT model on the test set; @TENSOR meanwhile quantize it to INT8")
    assert plan.peers == ["VELOCITY"]


@pytest.mark.parametrize("text,modality", [
    ("@TENSOR predict monthly sales for each product using price, promo and season columns in our spreadsheet", "tabular"),
    ("@TENSOR predict next week's footfall per store from 3 years of daily counts", "sequence"),
    ("@TENSOR triage radiology reports into urgent / routine", "text"),
    ("@TENSOR our chatbot needs a classifier that routes questions to the right FAQ section", "text"),
    ("@TENSOR not a GNN please - just a plain gradient boosted model on the account features", "tabular"),
    ("@TENSOR graph of the last 8 runs' loss curves please", None),
    ("@TENSOR generate product thumbnails from text prompts", "image_generation"),
])
def test_modality_cues_in_context(text, modality):
    assert rules_plan(text).modality == modality
