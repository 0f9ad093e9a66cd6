"""Knowledge distillation: teacher -> student (~4x fewer parameters), soft targets plus hard labels.

The student is sized by the designer (the largest variant of the teacher's family with at most
1/ratio of its parameters) or, when the family has no such variant, by shrinking the teacher's
own widths with Torch-Pruning and re-initialising it. A baseline student of the same
architecture, seed and epochs is trained without the teacher so the report shows what the
teacher added.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any, Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.compress.finetune import finetune
from tensor_agent.tools.compress.measure import Runner, first_output, param_stats
from tensor_agent.tools.compress.quantize import Compressed, require_torch_module


def kd_loss(student_logits, teacher_logits, targets, *, temperature: float = 4.0, alpha: float = 0.7):
    """alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y) (Hinton et al. 2015)."""
    import torch.nn.functional as F

    t = float(temperature)
    soft = F.kl_div(F.log_softmax(student_logits / t, dim=-1), F.log_softmax(teacher_logits / t, dim=-1),
                    reduction="batchmean", log_target=True) * (t * t)
    hard = F.cross_entropy(student_logits, targets)
    return alpha * soft + (1.0 - alpha) * hard


def _n_params(module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def _reinit(module, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()


def student_from_designer(handle, ratio: float) -> Optional[tuple[Any, str]]:
    """(module, description) of the largest family variant with <= teacher_params / ratio parameters."""
    try:
        from tensor_agent.tools.design.registry import create_model, get_family
    except ImportError:
        return None
    try:
        fam = get_family(handle.family)
    except Exception:  # noqa: BLE001 - unknown family: use the fallback
        return None
    budget = _n_params(handle.module) / ratio
    best = None
    for variant in fam.variants:
        try:
            h = create_model(handle.family, variant=variant, input_spec=handle.input_spec,
                             num_classes=handle.num_classes, task=handle.task)
        except Exception:  # noqa: BLE001
            continue
        n = _n_params(h.module)
        if n <= budget and (best is None or n > best[0]):
            best = (n, h.module, f"designer {handle.family} variant '{variant}'")
    return (best[1], best[2]) if best else None


def student_by_shrinking(teacher, example_inputs: tuple, ratio: float, num_classes: Optional[int],
                         seed: int = 0) -> tuple[Any, str]:
    """The teacher's architecture with every hidden width cut so params fall by `ratio`, re-initialised."""
    import torch_pruning as tp

    from tensor_agent.tools.compress.prune import _classifier_layers

    one = tuple(x[:1] for x in example_inputs)
    base = _n_params(teacher)
    lo, hi = 0.0, 0.95
    best = None
    for _ in range(8):  # bisection on the channel ratio
        mid = (lo + hi) / 2
        net = copy.deepcopy(teacher).eval()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pr = tp.pruner.MetaPruner(net, one if len(one) > 1 else one[0],
                                          importance=tp.importance.GroupMagnitudeImportance(p=2),
                                          pruning_ratio=mid, ignored_layers=_classifier_layers(net, num_classes))
                pr.step()
            except Exception as exc:  # noqa: BLE001
                raise UnsatisfiableError(f"cannot size a student for this model ({type(exc).__name__}: "
                                         f"{str(exc)[:120]})", hint="pass a student family with student=...") from None
        n = _n_params(net)
        if base / n >= ratio:
            best = (net, mid)
            hi = mid
        else:
            lo = mid
    if best is None:
        raise UnsatisfiableError(f"cannot make a student {ratio:g}x smaller than this model by cutting widths")
    net, mid = best
    _reinit(net, seed)
    return net, f"teacher architecture with {mid:.0%} of channels removed, re-initialised"


def distill(handle, data, example_inputs: tuple, *, ratio: float = 4.0, temperature: float = 4.0,
            alpha: float = 0.7, epochs: int = 20, lr: float = 3e-3, batch_size: int = 64, seed: int = 0,
            baseline: bool = True, ctx=None) -> Compressed:
    """Train a ~`ratio`x smaller student on the teacher's soft targets plus the hard labels.

    Raises:
        UnsatisfiableError: not a classifier, or no student can be sized.
        InputError: ratio <= 1 or temperature <= 0.
    """
    import torch

    teacher = handle.module
    require_torch_module(teacher, "distillation")
    if data is None or data.task != "classification":
        raise UnsatisfiableError("distillation needs a classifier and its training data",
                                 hint="distil a model trained on a known dataset")
    if not ratio or ratio <= 1:
        raise InputError(f"distillation ratio must be > 1, got {ratio}")
    if temperature <= 0 or math.isnan(temperature):
        raise InputError(f"distillation temperature must be > 0, got {temperature}")
    made = student_from_designer(handle, ratio)
    if made is None:
        made = student_by_shrinking(teacher, example_inputs, ratio, handle.num_classes, seed)
    student, how = made
    _reinit(student, seed)
    init_state = copy.deepcopy(student.state_dict())
    teacher.eval()

    def loss_fn(out, y, inputs):
        with torch.no_grad():
            t_logits = first_output(teacher(*inputs))
        return kd_loss(out, t_logits, y, temperature=temperature, alpha=alpha)

    info = finetune(student, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, loss_fn=loss_fn, ctx=ctx,
                    desc="distil")
    details: dict[str, Any] = {"student": how, "teacher_params": _n_params(teacher),
                               "student_params": _n_params(student),
                               "param_ratio": _n_params(teacher) / max(1, _n_params(student)),
                               "temperature": temperature, "alpha": alpha, "epochs": epochs, "finetune": info}
    if baseline:
        from tensor_agent.tools.compress.measure import evaluate_runner

        plain = copy.deepcopy(student)
        plain.load_state_dict(init_state)
        finetune(plain, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx, use_trainer=False,
                 desc="student without teacher")
        _, acc, _ = evaluate_runner(Runner("torch-fp32", module=plain.eval()), data.batches("test"), data.task)
        details["baseline_student_accuracy"] = acc
    student.eval()
    return Compressed("distillation", Runner("torch-fp32-student", module=student), details)
