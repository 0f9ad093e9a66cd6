"""Knowledge distillation: teacher -> student (~4x fewer parameters), soft targets plus hard labels.

The student is sized by the designer (the largest variant of the teacher's family with at most
1/ratio of its parameters) or, when the family has no such variant, by shrinking the teacher's
own widths with Torch-Pruning and re-initialising it. A baseline student of the same
architecture, seed and epochs is trained without the teacher so the report shows what the
teacher added.

Transfer set (on by default for float inputs): each training batch is joined by an augmented
copy of itself (random +-`shift` pixel translations for image tensors ``(B, C, H, W)`` and mixup
between training examples, Beta(`mixup`, `mixup`)); the teacher labels those extra inputs with
its soft targets, which a student trained on hard labels cannot get. Two baselines without the
teacher are reported: plain labelled data (the issue's comparison) and, for fairness, the same
augmented inputs with hard (mixed) labels -- same seed, epochs and augmentation draws.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.compress.finetune import finetune
from tensor_agent.tools.core.runtime import Runner, first_output, param_stats
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
        from tensor_agent.tools.core.zoo.registry import create_model, get_family
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


@dataclass
class TransferSet:
    """Augmented inputs labelled by the teacher (the distillation transfer set)."""

    shift: int = 1
    """Max random translation in pixels for image inputs (B, C, H, W); 0 = none."""
    mixup: float = 0.4
    """Beta(a, a) concentration for mixup between training examples; 0 = no mixup."""

    def __post_init__(self) -> None:
        if int(self.shift) < 0:
            raise InputError(f"distill_shift must be >= 0, got {self.shift}")
        if float(self.mixup) < 0 or math.isnan(float(self.mixup)):
            raise InputError(f"distill_mixup must be >= 0, got {self.mixup}")

    @property
    def active(self) -> bool:
        return int(self.shift) > 0 or float(self.mixup) > 0

    def applies_to(self, inputs: tuple) -> bool:
        """Only float inputs (images, tabular features) are augmented; token ids are left alone."""
        return self.active and all(getattr(x, "is_floating_point", lambda: False)() for x in inputs)


def augment(inputs: tuple, ts: TransferSet, gen) -> tuple[tuple, Any, float]:
    """An augmented copy of a batch: (inputs, permutation used for mixup, mixup weight lambda).

    The same draws from `gen` give the same augmented batch, so the teacher-labelled and the
    hard-labelled (baseline) students see identical inputs.
    """
    import torch

    x0 = inputs[0]
    b = int(x0.shape[0])
    out = []
    # one random shift per example, shared by all inputs of that example
    dx = torch.randint(-ts.shift, ts.shift + 1, (b,), generator=gen) if ts.shift > 0 else None
    dy = torch.randint(-ts.shift, ts.shift + 1, (b,), generator=gen) if ts.shift > 0 else None
    for x in inputs:
        if dx is not None and x.dim() == 4:  # (B, C, H, W): translate with zero fill
            p = ts.shift
            padded = torch.nn.functional.pad(x, (p, p, p, p))  # (B, C, H+2p, W+2p)
            h, w = x.shape[-2], x.shape[-1]
            x = torch.stack([padded[i, :, p + int(dy[i]):p + int(dy[i]) + h, p + int(dx[i]):p + int(dx[i]) + w]
                             for i in range(b)])  # (B, C, H, W)
        out.append(x)
    perm, lam = torch.arange(b), 1.0
    if ts.mixup > 0 and b > 1:
        lam = float(torch.distributions.Beta(ts.mixup, ts.mixup).sample() if gen is None else
                    _beta(ts.mixup, gen))
        lam = max(lam, 1.0 - lam)  # the first image dominates
        perm = torch.randperm(b, generator=gen)
        out = [lam * x + (1.0 - lam) * x[perm] for x in out]
    return tuple(out), perm, lam


def _beta(a: float, gen) -> float:
    """Beta(a, a) sample, reproducible from a torch Generator (seeds a NumPy generator from it)."""
    import numpy as np
    import torch

    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=gen))
    return float(np.random.default_rng(seed).beta(a, a))


def check_transfer_set(teacher, data, ts: TransferSet, *, max_drop_points: float = 5.0, limit: int = 512,
                       seed: int = 0) -> tuple[TransferSet, dict]:
    """Keep only augmentations the teacher can label: a shifted view is dropped when the teacher's
    accuracy on shifted training inputs falls more than `max_drop_points` below its accuracy on
    the real ones (e.g. a 1-pixel shift of an 8x8 digit is a different image to the teacher).

    Returns:
        (the transfer set to use, a dict with the teacher's accuracies that decided it).
    """
    import torch

    if ts.shift <= 0 or "train" not in data.splits:
        return ts, {}
    inputs, y = data.splits["train"]
    gen = torch.Generator().manual_seed(seed)
    ix = torch.randperm(int(y.shape[0]), generator=gen)[:limit]
    x, y = tuple(v[ix] for v in inputs), y[ix]
    shifted, _, _ = augment(x, TransferSet(shift=ts.shift, mixup=0.0), gen)
    with torch.no_grad():
        acc = float((first_output(teacher(*x)).argmax(-1) == y).float().mean())
        acc_shift = float((first_output(teacher(*shifted)).argmax(-1) == y).float().mean())
    info = {"teacher_train_accuracy": acc, "teacher_shifted_accuracy": acc_shift}
    if 100.0 * (acc - acc_shift) > max_drop_points:
        info["dropped"] = (f"shift {ts.shift}px: teacher accuracy {acc:.3f} -> {acc_shift:.3f} on shifted inputs, "
                           f"its soft targets there would mislead the student")
        return TransferSet(shift=0, mixup=ts.mixup), info
    return ts, info


def _with_transfer(inputs: tuple, ts: TransferSet, gen) -> tuple[tuple, Any, float]:
    """Real batch followed by its augmented copy: (inputs (2B, ...), mixup permutation, lambda)."""
    import torch

    aug, perm, lam = augment(inputs, ts, gen)
    return tuple(torch.cat([x, a]) for x, a in zip(inputs, aug)), perm, lam  # (2B, ...)


def _hard_loss(out, y, perm, lam):
    """CE on the B real examples, plus mixup-mixed CE on their augmented copies (rows B..2B)."""
    import torch.nn.functional as F

    b = int(y.shape[0])
    if out.shape[0] == b:
        return F.cross_entropy(out, y)
    mixed = lam * F.cross_entropy(out[b:], y) + (1.0 - lam) * F.cross_entropy(out[b:], y[perm])
    return 0.5 * (F.cross_entropy(out[:b], y) + mixed)


def train_on_transfer_set(model, data, ts: TransferSet, *, epochs: int, lr: float = 3e-3, batch_size: int = 64,
                          seed: int = 0, ctx=None, desc: str = "train (augmented)") -> dict:
    """Train `model` with hard labels on real batches plus their augmented copies (no teacher).

    This is the augmented baseline of `distill`, and a way to train a teacher whose soft targets
    cover the transfer set.
    """
    use = ts.applies_to(tuple(data.splits["train"][0])) if "train" in data.splits else False

    def step(inputs, y, gen):
        inputs, perm, lam = _with_transfer(inputs, ts, gen) if use else (inputs, None, 1.0)
        return _hard_loss(first_output(model(*inputs)), y, perm, lam)

    return _train(model, data, step, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx, desc=desc)


def _train(student, data, step: Callable[[tuple, Any, Any], Any], *, epochs: int, lr: float, batch_size: int,
           seed: int, ctx=None, desc: str = "distil") -> dict:
    """The compressor's Adam + cosine loop (`finetune.train_loop`); `step(inputs, y, gen)` returns the loss."""
    from tensor_agent.tools.compress.finetune import train_loop

    return train_loop(student, data, step, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx,
                      desc=desc, engine="distillation loop (transfer set)")


def _check_args(teacher, data, ratio: float, temperature: float, alpha: float) -> None:
    require_torch_module(teacher, "distillation")
    if data is None or data.task != "classification":
        raise UnsatisfiableError("distillation needs a classifier and its training data",
                                 hint="distil a model trained on a known dataset")
    if not ratio or ratio <= 1:
        raise InputError(f"distillation ratio must be > 1, got {ratio}")
    if temperature <= 0 or math.isnan(temperature):
        raise InputError(f"distillation temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"distillation alpha (weight of the soft loss) must be in [0, 1], got {alpha}")


def _baselines(student, init_state: dict, data, ts: Optional[TransferSet], *, epochs: int, lr: float,
               batch_size: int, seed: int, ctx=None) -> dict:
    """The same student without the teacher: plain labelled data, and (with a transfer set) hard labels on it."""
    from tensor_agent.tools.core.runtime import evaluate_runner

    def test_acc(m) -> Optional[float]:
        return evaluate_runner(Runner("torch-fp32", module=m.eval()), data.batches("test"), data.task)[1]

    out: dict[str, Any] = {}
    plain = copy.deepcopy(student)
    plain.load_state_dict(init_state)
    finetune(plain, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx, use_trainer=False,
             desc="student without teacher")
    out["baseline_student_accuracy"] = test_acc(plain)
    out["baseline"] = "same student, seed and epochs, plain labelled data, no teacher"
    if ts is not None:
        hard_aug = copy.deepcopy(student)
        hard_aug.load_state_dict(init_state)
        train_on_transfer_set(hard_aug, data, ts, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                              ctx=ctx, desc="student without teacher (augmented)")
        out["baseline_augmented_accuracy"] = test_acc(hard_aug)
    return out


def distill(handle, data, example_inputs: tuple, *, ratio: float = 4.0, temperature: float = 4.0,
            alpha: float = 0.7, epochs: int = 20, lr: float = 3e-3, batch_size: int = 64, seed: int = 0,
            baseline: bool = True, transfer: Optional[TransferSet] = None, ctx=None) -> Compressed:
    """Train a ~`ratio`x smaller student on the teacher's soft targets plus the hard labels.

    With a transfer set (default for float inputs) every batch also carries an augmented copy;
    the loss is ``alpha * T^2 * KL(teacher || student)`` on real and augmented inputs plus
    ``(1 - alpha) *`` the hard-label loss of the augmented baseline (CE on real examples, mixup-mixed
    CE on their copies), so the teacher's soft targets are the only difference between the two.
    Augmentations the teacher cannot label are dropped first (`check_transfer_set`). `baseline` also trains the same student without the teacher twice: on the plain
    labelled data (``baseline_student_accuracy``) and on the same augmented inputs with hard,
    mixup-mixed labels (``baseline_augmented_accuracy``).

    Raises:
        UnsatisfiableError: not a classifier, or no student can be sized.
        InputError: ratio <= 1, temperature <= 0, alpha outside [0, 1] or a bad transfer set.
    """
    import torch
    import torch.nn.functional as F

    teacher = handle.module
    _check_args(teacher, data, ratio, temperature, alpha)
    ts = TransferSet() if transfer is None else transfer
    made = student_from_designer(handle, ratio)
    if made is None:
        made = student_by_shrinking(teacher, example_inputs, ratio, handle.num_classes, seed)
    student, how = made
    _reinit(student, seed)
    init_state = copy.deepcopy(student.state_dict())
    teacher.eval()
    train_inputs = data.splits["train"][0] if "train" in data.splits else example_inputs
    use_ts = ts.applies_to(tuple(train_inputs))
    ts_check: dict = {}
    if use_ts:
        ts, ts_check = check_transfer_set(teacher, data, ts, seed=seed)
        use_ts = ts.active

    def with_transfer(inputs, gen):
        return _with_transfer(inputs, ts, gen) if use_ts else (inputs, None, 1.0)

    def kd_step(inputs, y, gen):
        # the baseline's hard loss (same inputs) plus the teacher's soft targets on every input
        inputs, perm, lam = with_transfer(inputs, gen)
        with torch.no_grad():
            t_logits = first_output(teacher(*inputs))
        s_logits = first_output(student(*inputs))
        t = float(temperature)
        soft = F.kl_div(F.log_softmax(s_logits / t, dim=-1), F.log_softmax(t_logits / t, dim=-1),
                        reduction="batchmean", log_target=True) * (t * t)
        return alpha * soft + (1.0 - alpha) * _hard_loss(s_logits, y, perm, lam)

    info = _train(student, data, kd_step, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx,
                  desc="distil")
    n_t, n_s = _n_params(teacher), _n_params(student)
    details: dict[str, Any] = {"student": how, "teacher_params": n_t, "student_params": n_s,
                               "param_ratio": n_t / max(1, n_s), "temperature": temperature, "alpha": alpha,
                               "epochs": epochs, "seed": seed, "finetune": info,
                               "transfer_set": ({"shift": int(ts.shift), "mixup": float(ts.mixup)} if use_ts
                                                else None), "transfer_set_check": ts_check}
    if baseline:
        details.update(_baselines(student, init_state, data, ts if use_ts else None, epochs=epochs, lr=lr,
                                  batch_size=batch_size, seed=seed, ctx=ctx))
    student.eval()
    return Compressed("distillation", Runner("torch-fp32-student", module=student), details)
