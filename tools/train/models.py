"""Which model the trainer trains: a backbone, this turn's design, the thread's model, or a registry build.

No silent substitution: a family that does not match the data's modality, or that fails to build, is an
UnsatisfiableError (exit 3) and nothing else is trained in its place.
"""

from __future__ import annotations

from typing import Any, Optional

from tensor_agent.catalogue import Signals, family_modality, guide_default, select_family
from tensor_agent.errors import TensorError, UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle

MINILM_VOCAB = 30522
#: a family the selection guide suggests for big image sets; on few images a small CNN is picked instead
FEW_IMAGES_PER_CLASS = 300


def _task_for(family: str, data) -> str:
    if data.modality == "image_generation":
        return "generation"
    return data.task


def _spec_for(family: str, data, pretrained: bool, max_length: int) -> dict:
    if data.modality == "text_generation":
        return {"kind": "tokens", "shape": [data.input_spec["seq_len"]], "vocab_size": data.input_spec["vocab_size"]}
    if data.modality == "text":
        return {"kind": "tokens", "shape": [max_length], "vocab_size": MINILM_VOCAB}
    return dict(data.input_spec)


def build_model(family: str, data, *, variant: Optional[str] = None, hparams: Optional[dict] = None,
                pretrained: Optional[bool] = None, max_length: int = 64) -> ModelHandle:
    """Build `family` for `data` through the family registry.

    Raises:
        UnsatisfiableError (exit 3): the family does not exist, does not do the task, or fails to build.
    """
    from tensor_agent.tools.core.zoo.registry import create_model

    hp = dict(hparams or {})
    if data.modality == "text" and family == "bert" and pretrained is not False:
        variant, hp["pretrained"] = "minilm-l6", True
    num_classes = 1 if data.task == "regression" else data.num_classes
    try:
        handle = create_model(family, variant=variant, input_spec=_spec_for(family, data, bool(hp.get("pretrained")),
                                                                            max_length),
                              num_classes=num_classes, task=_task_for(family, data), **hp)
    except TensorError:
        raise
    except Exception as exc:  # a build failure is reported as such (exit 3), never replaced by another model
        raise UnsatisfiableError(f"family {family!r} failed to build for '{data.name}' "
                                 f"({type(exc).__name__}: {str(exc)[:200]}); nothing was trained",
                                 hint="try another variant or family") from exc
    handle.task = data.task
    return handle


def _fits(handle: Optional[ModelHandle], data) -> bool:
    """Whether a model handle takes this data's inputs and predicts its classes."""
    if handle is None or handle.module is None:
        return False
    spec, want = handle.input_spec or {}, data.input_spec
    if handle.task != data.task or family_modality(handle.family) != data.modality:
        return False
    if data.modality == "text" and not (handle.extra or {}).get("pretrained"):
        return False
    if spec.get("kind") and want.get("kind") and spec["kind"] != want["kind"]:
        return False
    if want.get("shape") and spec.get("shape") and list(spec["shape"]) != list(want["shape"]) \
            and want.get("kind") != "tokens":
        return False
    if want.get("kind") == "graph" and spec.get("num_features") not in (None, want.get("num_features")):
        return False
    if data.num_classes is not None and handle.num_classes not in (None, data.num_classes):
        return False
    return not (want.get("vocab_size") and spec.get("vocab_size") and spec["vocab_size"] != want["vocab_size"])


def turn_design(ctx) -> Optional[dict]:
    """This turn's design result (family, variant, hyperparameters), if the designer ran."""
    d = (getattr(ctx, "results", None) or {}).get("design_architecture")
    if isinstance(d, dict) and d.get("family"):
        return d
    return None


def _few_images(data) -> bool:
    return data.modality == "image" and bool(data.num_classes) and \
        data.sizes.get("train", 0) / data.num_classes < FEW_IMAGES_PER_CLASS


def _named(design: Optional[dict]) -> bool:
    return bool(design) and any("named in the request" in str(line) for line in design.get("rationale") or ())


def pick_family(plan, ctx, data, design: Optional[dict], notes: list[str]) -> tuple[str, Optional[dict]]:
    """(family, design to build from or None). Raises UnsatisfiableError on a modality mismatch."""
    fam = plan.architecture
    if fam and family_modality(fam) != data.modality:
        raise UnsatisfiableError(f"family '{fam}' is for {family_modality(fam)} data but '{data.name}' is "
                                 f"{data.modality} data; nothing was trained",
                                 hint=f"name a {data.modality} family or pass data of the family's kind")
    if design and (family_modality(design["family"]) != data.modality or (fam and design["family"] != fam)):
        notes.append(f"this turn's design ({design['family']}) does not fit '{data.name}'; built {fam or 'a model'} "
                     "for the data")
        design = None
    family = design["family"] if design else fam
    small_in = data.modality == "image" and min(data.input_spec.get("shape", [0, 32, 32])[1:]) < 32
    few = _few_images(data)
    guide_pick = select_family(data.modality, Signals(small_input=small_in or few))
    # the planner fills plan.architecture with the guide's pick when nothing is named: that pick (and a design
    # the designer did not mark as named) gives way to a small CNN on few images; a named family does not
    explicit = bool(ctx.options.get("family")) or (design is not None and _named(design)) or \
        (bool(fam) and design is None and fam != guide_default(data.modality))
    if family and family != "cnn" and few and data.modality == "image" and not explicit:
        per = data.sizes.get("train", 0) // max(1, data.num_classes)
        notes.append(f"only {per} training images per class: trained a small CNN instead of the guide's {family} "
                     f"(large image models from scratch stay near chance on so few images); "
                     f"pass --set family={family} to train it anyway")
        return "cnn", None
    if family and family != "cnn" and few and data.modality == "image":
        per = data.sizes.get("train", 0) // max(1, data.num_classes)
        notes.append(f"only {per} training images per class for a {family} trained from scratch: expect a result "
                     "near chance; a small CNN (--set family=cnn) is the better choice for so few images")
    return family or guide_pick, design


def choose_model(plan, ctx, data) -> tuple[ModelHandle, Optional[dict], list[str]]:
    """(handle, design dict or None, notes) of the model to train on `data`."""
    notes: list[str] = []
    if ctx.options.get("backbone"):
        return _from_backbone(plan, ctx, data, notes), None, notes
    design = turn_design(ctx)
    current = ctx.current_model()
    trained = current is not None and bool(current.metrics) and "dataset_info" in (current.extra or {})
    if design is None and trained and _fits(current, data) and plan.architecture in (None, current.family):
        notes.append(f"trained the conversation's current {current.family} model further")
        return current, None, notes
    family, design = pick_family(plan, ctx, data, design, notes)
    variant = (design or {}).get("variant") or plan.variant or _small_variant(family, data)
    hparams = {k: v for k, v in ((design or {}).get("hyperparameters") or {}).items() if k != "pretrained"}
    handle = build_model(family, data, variant=variant, hparams=hparams, pretrained=plan.pretrained,
                         max_length=int(ctx.options.get("max_length") or 64))
    if design:
        notes.append(f"built from this turn's design: {family} {handle.extra.get('variant')}, sized for "
                     f"'{data.name}'")
    if current is not None and not trained and design is None and not _fits(current, data):
        notes.append(f"the current {current.family} model does not fit '{data.name}'; built a new one")
    elif trained and not _fits(current, data):
        notes.append(f"the current {current.family} model does not fit '{data.name}' "
                     f"({data.input_spec.get('shape') or data.input_spec}); built a new one")
    return handle, design, notes


def _small_variant(family: str, data) -> Optional[str]:
    if family == "cnn" and _few_images(data):
        return "tiny" if data.sizes.get("train", 0) / max(1, data.num_classes) < 100 else "small"
    return None


def _from_backbone(plan, ctx, data, notes: list[str]) -> ModelHandle:
    from .transfer import backbone_model, load_backbone

    ref = str(ctx.options["backbone"])
    base = load_backbone(ref, ctx)
    strategy = plan.settings.strategy if plan.settings.strategy not in (None, "scratch") else "full_fine_tune"
    module = backbone_model(base, data.num_classes, strategy)
    notes.append(f"backbone from {base.path or ref} ({base.family} trained on {base.dataset}); "
                 f"new {data.num_classes}-class head; strategy {strategy}")
    return ModelHandle(module=module, family=base.family, kind="torch", task=data.task, input_spec=data.input_spec,
                       num_classes=data.num_classes, extra={"backbone": base.path or ref,
                                                            "backbone_dataset": base.dataset, "strategy": strategy})


def family_hint(plan, ctx) -> Optional[str]:
    """The family most likely trained (before the data is loaded): decides tabular preprocessing."""
    design = turn_design(ctx)
    return plan.architecture or (design or {}).get("family") or select_family("tabular", Signals())


def describe(handle: ModelHandle) -> dict[str, Any]:
    return {"family": handle.family, "variant": (handle.extra or {}).get("variant"), "kind": handle.kind}
