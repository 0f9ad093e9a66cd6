"""Pruning: global magnitude (unstructured), structured channel pruning (Torch-Pruning), lottery ticket.

Every variant is followed by fine-tuning. Unstructured sparsity makes weights zero (smaller
when compressed, no faster with dense kernels); structured pruning really removes channels,
so the model gets fewer parameters, fewer MACs and lower latency.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any, Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.compress.finetune import finetune
from tensor_agent.tools.core.runtime import Runner, count_macs, param_stats
from tensor_agent.tools.compress.quantize import Compressed, layer_counts, require_torch_module


def check_sparsity(value: Any, field: str = "sparsity") -> float:
    """A target sparsity as a fraction in (0, 1); raises InputError naming the field otherwise."""
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{field} must be a number between 0 and 1, got {value!r}",
                         hint="e.g. sparsity=0.8 for 80% of weights removed") from None
    if not (0.0 < s < 1.0) or math.isnan(s):
        raise InputError(f"{field} must be a fraction strictly between 0 and 1, got {value!r}",
                         hint="e.g. sparsity=0.8 (80%); 1.0 would remove every weight")
    return s


def prunable_layers(model) -> list:
    """(module, 'weight') for every Conv/Linear layer."""
    import torch.nn as nn

    return [(m, "weight") for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]


def _make_permanent(model) -> None:
    import torch.nn.utils.prune as tprune

    for m, name in prunable_layers(model):
        if tprune.is_pruned(m) and hasattr(m, name + "_orig"):
            tprune.remove(m, name)


def magnitude_prune(model, data, sparsity: float, *, epochs: int = 6, steps: int = 3, lr: float = 1e-3,
                    batch_size: int = 64, seed: int = 0, ctx=None) -> Compressed:
    """Global magnitude pruning of Conv/Linear weights to `sparsity`, in `steps` rounds with fine-tuning.

    The sparsity grows as s_k = s * k / steps; each round prunes the globally smallest |w| and
    fine-tunes ``epochs // steps`` epochs with the masks held (the zeros stay zero).
    """
    import torch.nn.utils.prune as tprune

    require_torch_module(model, "pruning")
    sparsity = check_sparsity(sparsity)
    layers_model = copy.deepcopy(model)
    layers = prunable_layers(layers_model)
    if not layers:
        raise UnsatisfiableError("magnitude pruning needs Conv/Linear layers and this model has none")
    steps = max(1, int(steps))
    per = max(1, epochs // steps)
    prev = 0.0
    info = []
    for k in range(1, steps + 1):
        target = sparsity * k / steps
        amount = 1.0 - (1.0 - target) / (1.0 - prev)  # of the weights still alive
        tprune.global_unstructured(layers, pruning_method=tprune.L1Unstructured, amount=amount)
        prev = target
        info.append(finetune(layers_model, data, epochs=per, lr=lr, batch_size=batch_size, seed=seed + k, ctx=ctx,
                             desc=f"prune {target:.0%}"))
    _make_permanent(layers_model)
    layers_model.eval()
    st = param_stats(layers_model)
    return Compressed("pruning", Runner("torch-fp32-sparse", module=layers_model),
                      {"target_sparsity": sparsity, "achieved_sparsity": st["sparsity"], "steps": steps,
                       "epochs_per_step": per, "finetune": info[-1]},
                      notes=["unstructured zeros shrink the gzip-compressed size, not the dense size or latency"])


def _global_masks(model, sparsity: float, old_masks: Optional[dict] = None) -> dict:
    """Keep the largest-|w| (1 - sparsity) fraction of all prunable weights (already-pruned stay pruned)."""
    import torch

    layers = prunable_layers(model)
    ws = []
    for i, (m, _) in enumerate(layers):
        w = m.weight.detach().abs()
        if old_masks is not None:
            w = w * old_masks[i]
        ws.append(w.flatten())
    allw = torch.cat(ws)
    k = int(round(sparsity * allw.numel()))
    if k <= 0:
        return {i: torch.ones_like(m.weight) for i, (m, _) in enumerate(layers)}
    thr = torch.kthvalue(allw, k).values
    masks = {}
    for i, (m, _) in enumerate(layers):
        w = m.weight.detach().abs()
        mask = (w > thr).float()
        if old_masks is not None:
            mask = mask * old_masks[i]
        masks[i] = mask
    return masks


def lottery_ticket(model, data, sparsity: float, *, rounds: int = 3, epochs: int = 8, rewind_epochs: int = 1,
                   lr: float = 1e-3, batch_size: int = 64, seed: int = 0, ctx=None) -> Compressed:
    """Lottery ticket with weight rewinding (Frankle et al. 2019).

    From a fresh initialisation (seeded), train `rewind_epochs` to get the rewind point theta_k,
    then train to the end; for each of `rounds` rounds prune the globally smallest surviving
    weights (sparsity 1 - (1 - s)^(r/R)), rewind the survivors to theta_k and retrain `epochs`.
    """
    import torch
    import torch.nn.utils.prune as tprune

    require_torch_module(model, "lottery_ticket")
    sparsity = check_sparsity(sparsity)
    if not prunable_layers(model):
        raise UnsatisfiableError("lottery ticket pruning needs Conv/Linear layers and this model has none")
    torch.manual_seed(seed)
    net = copy.deepcopy(model)
    for m in net.modules():
        if hasattr(m, "reset_parameters") and m is not net:
            m.reset_parameters()
    finetune(net, data, epochs=rewind_epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx, use_trainer=False,
             desc="LTH rewind point")
    theta_k = copy.deepcopy(net.state_dict())
    finetune(net, data, epochs=max(1, epochs - rewind_epochs), lr=lr, batch_size=batch_size, seed=seed + 1,
             ctx=ctx, use_trainer=False, desc="LTH dense")
    masks = None
    history = []
    for r in range(1, rounds + 1):
        s_r = 1.0 - (1.0 - sparsity) ** (r / rounds)
        masks = _global_masks(net, s_r, masks)
        net = copy.deepcopy(model)
        net.load_state_dict(theta_k)
        for i, (m, name) in enumerate(prunable_layers(net)):
            tprune.custom_from_mask(m, name, masks[i])
        info = finetune(net, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed + 10 * r, ctx=ctx,
                        use_trainer=False, desc=f"LTH round {r} ({s_r:.0%})")
        _make_permanent(net)
        history.append({"round": r, "sparsity": s_r, "final_loss": info["final_loss"]})
    net.eval()
    st = param_stats(net)
    return Compressed("lottery_ticket", Runner("torch-fp32-sparse", module=net),
                      {"target_sparsity": sparsity, "achieved_sparsity": st["sparsity"], "rounds": history,
                       "rewind_epochs": rewind_epochs, "epochs_per_round": epochs},
                      notes=["weights rewound to the early-training point theta_k each round"])


def _classifier_layers(model, num_classes: Optional[int]) -> list:
    import torch.nn as nn

    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    out = [m for m in linears if num_classes is not None and m.out_features == num_classes]
    if not out and linears:
        out = [linears[-1]]
    if not linears:
        convs = [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d))]
        out = convs[-1:]
    return out


def structured_prune(model, data, example_inputs: tuple, *, macs_reduction: float = 2.0,
                     channel_ratio: Optional[float] = None, epochs: int = 6, lr: float = 1e-3, batch_size: int = 64,
                     seed: int = 0, num_classes: Optional[int] = None, ctx=None) -> Compressed:
    """Structured channel pruning with Torch-Pruning (channels really removed), then fine-tuning.

    Args:
        macs_reduction: prune until MACs fall by this factor (when `channel_ratio` is None).
        channel_ratio: fraction of channels to remove per layer (overrides `macs_reduction`).
    """
    import torch
    import torch_pruning as tp

    require_torch_module(model, "structured_pruning")
    if channel_ratio is not None:
        channel_ratio = check_sparsity(channel_ratio, "sparsity (channel ratio)")
    if macs_reduction is not None and macs_reduction <= 1.0:
        raise InputError(f"macs_reduction must be > 1, got {macs_reduction}")
    counts = layer_counts(model)
    if counts["conv"] + counts["linear"] < 2:
        raise UnsatisfiableError("structured pruning needs at least two Conv/Linear layers (a hidden width to cut)")
    net = copy.deepcopy(model).eval()
    one = tuple(x[:1] for x in example_inputs)
    base = count_macs(net, one) or 0
    ignored = _classifier_layers(net, num_classes)
    steps = 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pruner = tp.pruner.MetaPruner(net, one if len(one) > 1 else one[0],
                                          importance=tp.importance.GroupMagnitudeImportance(p=2),
                                          pruning_ratio=channel_ratio if channel_ratio is not None else 0.9,
                                          iterative_steps=1 if channel_ratio is not None else steps,
                                          ignored_layers=ignored, global_pruning=False)
            done = 0
            for _ in range(1 if channel_ratio is not None else steps):
                pruner.step()
                done += 1
                now = count_macs(net, one) or 0
                if channel_ratio is None and now and base / now >= macs_reduction:
                    break
        except Exception as exc:  # noqa: BLE001 - dependency-graph failures
            raise UnsatisfiableError(f"Torch-Pruning could not build the dependency graph of this model "
                                     f"({type(exc).__name__}: {str(exc)[:160]})",
                                     hint="use technique=pruning (unstructured) instead") from None
    after = count_macs(net, one) or 0
    with torch.no_grad():
        net(*one)  # still runs
    info = finetune(net, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx,
                    desc="structured fine-tune")
    net.eval()
    return Compressed("structured_pruning", Runner("torch-fp32-pruned", module=net),
                      {"macs_before": base, "macs_after": after, "macs_ratio": (base / after) if after else None,
                       "pruning_steps": done, "channel_ratio": channel_ratio, "finetune": info,
                       "ignored_layers": len(ignored)})
