"""The mechanisms of issue #16 (generalisation to unseen phrasings): peers addressed after @TENSOR,
evaluation deliverables, participles and past actions, question topics, pipeline steps, registry names,
reported figures and data volumes. Each case is a phrasing that is in no eval file."""

from __future__ import annotations

import pytest

from tensor_agent.planner import rules_plan


@pytest.mark.parametrize("text,peers", [
    ("@TENSOR train the xgboost on data/loans.csv; @ECLIPSE would you then check calibration per segment?", ["ECLIPSE"]),
    ("@TENSOR fine-tune BERT on the tickets, and @AXIOM why is warm-up needed for Adam here?", ["AXIOM"]),
    ("@TENSOR design a CNN for the chip photos. After that @PRISM, please look at the class balance.", ["PRISM"]),
    ("@TENSOR train the GCN on karate, and @ECLIPSE, nothing to do for you yet", []),
    ("@TENSOR design a ViT for the tiles, as @AXIOM suggested last week", []),
    ("@TENSOR design a ConvNeXt for the parts; @PRISM's profile is in the wiki", []),
])
def test_peers_addressed_after_tensor(text, peers):
    assert rules_plan(text).peers == peers


def test_peer_addressed_before_tensor_does_its_own_job():
    plan = rules_plan("@ECLIPSE evaluate the ranking model; @TENSOR meanwhile prune it to 50%")
    assert plan.intents == ["compress"] and plan.peers == ["VELOCITY"]


@pytest.mark.parametrize("text,intents,peers", [
    ("@TENSOR train xgboost on the iris table and give me bootstrap intervals on the accuracy", ["train", "evaluate"], ["ECLIPSE"]),
    ("@TENSOR fine-tune the ViT and report recall broken down per class", ["fine_tune", "evaluate"], ["ECLIPSE"]),
])
def test_evaluation_deliverables_are_evaluate(text, intents, peers):
    plan = rules_plan(text)
    assert plan.intents == intents and plan.peers == peers


@pytest.mark.parametrize("text,intents", [
    ("@TENSOR serve the distilled student behind a REST endpoint", ["deploy"]),
    ("@TENSOR our int8-quantized GPT: log its perplexity to MLflow", ["track"]),
    ("@TENSOR they pruned the ResNet on Friday; register it as parts-resnet-v3", ["track"]),
    ("@TENSOR give me a pruned copy of the CNN", ["compress"]),  # an indefinite object is still asked for
])
def test_participles_and_past_actions_are_not_requests(text, intents):
    assert rules_plan(text).intents == intents


@pytest.mark.parametrize("text", [
    "@TENSOR QAT: why does it recover more accuracy than post-training int8?",
    "@TENSOR adapters vs LoRA - which one adds latency at inference, in theory?",
    "@TENSOR estimate how much data the CNN needs, and explain why distillation needs less labelled data",
])
def test_techniques_in_a_question_are_its_topic(text):
    plan = rules_plan(text)
    assert "compress" not in plan.intents and "fine_tune" not in plan.intents and "AXIOM" in plan.peers


def test_a_new_clause_after_a_question_is_a_request():
    plan = rules_plan("@TENSOR why does early stopping regularise? then run a sweep on the wine MLP, 12 trials")
    assert plan.intents == ["explain", "tune"]


def test_pipeline_steps_and_registry_names_are_not_requests():
    assert rules_plan("@TENSOR write a Kubeflow pipeline which fine-tunes, quantizes and deploys the ViT").tools == ["deploy_model"]
    assert rules_plan("@TENSOR register it as reviews-distilled-int8").tools == ["track_experiment"]


def test_reported_latency_and_data_volume_are_not_targets():
    plan = rules_plan("@TENSOR design a classifier for the ticket text and report its measured latency")
    assert plan.peers == []
    plan = rules_plan("@TENSOR we have a 2TB image dataset of 3M labelled road photos; design a classifier")
    assert "size_mb" not in {c.name for c in plan.constraints} and plan.architecture == "vit"


def test_data_words_in_an_explanation_are_its_topic():
    assert rules_plan("@TENSOR explain why random forests tolerate missing values and outliers").peers == ["AXIOM"]
    assert rules_plan("@TENSOR explain what preprocessing helps with class imbalance").peers == ["AXIOM", "PRISM"]


def test_a_peer_in_the_same_run_of_mentions_is_addressed():
    plan = rules_plan("@AXIOM @TENSOR roles: TENSOR trains the GCN on karate, AXIOM writes up message passing")
    assert plan.peers == ["AXIOM"]


def test_throughput_targets_and_idioms():
    plan = rules_plan("@TENSOR design a classifier for parcel photos that keeps up with 600 images a second")
    assert plan.architecture == "efficientnet" and plan.peers == ["VELOCITY"]
    assert rules_plan("@TENSOR tune the ViT to squeeze out a little more accuracy, 20 trials").tools == ["design_architecture", "tune_model"]
    assert rules_plan("@TENSOR with 2% positives, is recall at 1% FPR the right number to report?").intents == ["evaluate"]


def test_well_is_not_we_will_and_implementing_a_technique_is_code():
    plan = rules_plan("@TENSOR estimate how well a 3-class sentiment model does with 500 reviews")
    assert plan.modality == "text"
    plan = rules_plan("@TENSOR implement knowledge distillation for our CNN in PyTorch, code only")
    assert plan.intents == ["implement"] and plan.tools == ["design_architecture"]


@pytest.mark.parametrize("text,intents", [
    ("@TENSOR fine-tune a pretrained efficientnet on ./xrays/ and after that deploy it behind an http endpoint in docker",
     ["fine_tune", "deploy"]),  # "after that" is sequencing, not a relative clause ("a model that deploys ...")
    ("@TENSOR evaluate the gpt on held-out text with perplexity and after that tune its dropout", ["evaluate", "tune"]),
    ("@TENSOR is it possible to train a xgboost on breast cancer? put it in docker after", ["train", "deploy"]),
    ("@TENSOR would it be possible to run a small sweep on the iris xgboost", ["tune"]),  # a polite request
    ("@TENSOR design a cnn that we can quantize later", ["design"]),
])
def test_sequencing_and_polite_requests_by_the_rules_alone(monkeypatch, text, intents):
    from tensor_agent.planner import learned

    monkeypatch.setattr(learned, "_model", lambda: None)  # the cue rules on their own
    assert rules_plan(text).intents == intents


@pytest.mark.parametrize("text,modality", [
    ("@TENSOR hyperparam search on the mlp for 10 min", "tabular"),  # a named MLP alone: the catalogue's tabular
    ("@TENSOR what lr did the mlp use last time?", "tabular"),
    ("@TENSOR train an MLP on the 8x8 digit images", "image"),  # data words still say what it is for
])
def test_a_named_mlp_alone_is_tabular(text, modality):
    assert rules_plan(text).modality == modality
