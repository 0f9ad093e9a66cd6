"""The family registry: one decorator, one factory.

A family is a subclass of `Family` registered with `@register_family(name, modality=..., tasks=...)`.
It lists named variants (hyper-parameter dicts, smallest first) and builds a model from hyper-parameters,
an input spec, a number of classes and a task. `create_model(family, **hparams)` returns a `ModelHandle`.

Family modules live in `tensor_agent.tools.core.zoo.families` and import torch/timm/transformers only inside
`build`, so listing families stays cheap.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable, ClassVar, Optional

from tensor_agent.tools.core.context import json_safe as _json_safe
from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle
from tensor_agent.tools.core.zoo.spec import example_inputs as _example_inputs
from tensor_agent.tools.core.zoo.spec import normalize_input_spec

_FAMILIES: dict[str, "Family"] = {}
_LOADED = False
#: guards the one-time import of the built-in families (two threads' first designs must not see an empty
#: registry: the flag is set only after the import finished)
_LOAD_LOCK = threading.RLock()

#: hyper-parameters that are counts/sizes and must be positive integers below this bound
_MAX_HP = 1_000_000


class Family:
    """Base class of a model family. Subclasses set the class attributes and implement `build`."""

    name: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ("classification",)
    implementable: ClassVar[bool] = False
    kind: ClassVar[str] = "torch"
    #: variant name -> hyper-parameters, ordered smallest to largest (the search ladder)
    variants: ClassVar[dict[str, dict[str, Any]]] = {}
    default_variant: ClassVar[str] = ""
    #: smallest sensible variant, used by tests and benchmarks
    tiny_variant: ClassVar[str] = ""
    #: variants designed for mobile/edge (depthwise convs, few params); searched first on such devices
    efficient_variants: ClassVar[tuple[str, ...]] = ()
    #: short description of the family for rationales
    summary: ClassVar[str] = ""

    # --- to implement -----------------------------------------------------------------------------
    def default_input_spec(self, task: str) -> dict:
        """Input spec used when the caller gives none."""
        raise NotImplementedError

    def default_num_classes(self, task: str) -> Optional[int]:
        return 10 if task == "classification" else (1 if task == "regression" else None)

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        """Build the model (an nn.Module whose forward returns one tensor, or a booster)."""
        raise NotImplementedError

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        """The expected output shape of a forward pass on `example_inputs(input_spec, batch_size)`."""
        raise NotImplementedError

    def example_inputs(self, input_spec: dict, batch_size: int, hp: Optional[dict] = None) -> tuple:
        return _example_inputs(input_spec, batch_size)

    def check_input_spec(self, input_spec: dict, hp: dict) -> None:
        """Raise InputError when the input spec cannot feed this family (e.g. wrong kind)."""

    def extra(self, hp: dict, input_spec: dict, module: Any) -> dict:
        """Extra facts put on the handle (tokenizer path, scheduler, ...)."""
        return {}


def register_family(name: str, *, modality: str, tasks: tuple[str, ...] = ("classification",),
                    implementable: bool = False) -> Callable[[type], type]:
    """Class decorator registering a `Family` subclass under `name`."""

    def deco(cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, Family)):
            raise TypeError(f"@register_family({name!r}) must decorate a Family subclass")
        cls.name, cls.modality, cls.tasks, cls.implementable = name, modality, tuple(tasks), implementable
        if cls.variants and cls.default_variant not in cls.variants:
            raise ValueError(f"family {name}: default_variant {cls.default_variant!r} not in variants")
        _FAMILIES[name] = cls()
        return cls

    return deco


def _load() -> None:
    """Import the built-in families once, thread-safely (double-checked under a lock)."""
    global _LOADED
    if _LOADED:
        return
    with _LOAD_LOCK:
        if not _LOADED:
            import tensor_agent.tools.core.zoo.families  # noqa: F401 - registers the built-in families

            _LOADED = True


def list_families(modality: Optional[str] = None) -> list[str]:
    """Names of the registered families (optionally of one modality), in registration order."""
    _load()
    return [n for n, f in _FAMILIES.items() if modality is None or f.modality == modality]


def get_family(name: str) -> Family:
    """The family called `name`, or UnsatisfiableError listing the known ones."""
    _load()
    key = (name or "").strip().lower() if isinstance(name, str) else name
    if key not in _FAMILIES:
        raise UnsatisfiableError(f"unknown family {name!r} (known: {', '.join(_FAMILIES)})",
                                 hint="pick one of the known families")
    return _FAMILIES[key]


def _check_hparams(family: str, hp: dict) -> None:
    for key, value in hp.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                        for v in value):
                for v in value:
                    if v < 0 or v > _MAX_HP:
                        raise InputError(f"{family} hyper-parameter {key}={value!r} is out of range "
                                         f"(each entry must be in [0, {_MAX_HP}])")
            continue
        if math.isnan(value) or value < 0:
            raise InputError(f"{family} hyper-parameter {key}={value!r} must be non-negative")
        if value > _MAX_HP:
            raise InputError(f"{family} hyper-parameter {key}={value!r} is absurdly large (max {_MAX_HP})")


def resolve(family: str, *, variant: Optional[str] = None, input_spec: Optional[dict] = None,
            num_classes: Optional[int] = None, task: Optional[str] = None, **hparams: Any):
    """Validate and fill in everything `create_model` needs: (family, variant, hp, input_spec, num_classes, task)."""
    fam = get_family(family)
    task = task or fam.tasks[0]
    if task not in fam.tasks:
        raise UnsatisfiableError(f"family {fam.name!r} does not do task {task!r} (tasks: {', '.join(fam.tasks)})")
    if variant is not None and variant not in fam.variants:
        raise UnsatisfiableError(f"unknown variant {variant!r} of family {fam.name!r} "
                                 f"(known: {', '.join(fam.variants)})")
    variant = variant or fam.default_variant
    hp = {**fam.variants.get(variant, {}), **hparams}
    _check_hparams(fam.name, hp)
    base = fam.default_input_spec(task)
    if input_spec:
        if input_spec.get("kind", base["kind"]) == base["kind"]:
            # keep the family's defaults for what the caller leaves out (vocab_size, target_len, ...)
            loose = {k: v for k, v in base.items() if k not in ("shape", "num_features")}
            loose.update(input_spec)
        else:
            loose = dict(input_spec)
    else:
        loose = base
    spec = normalize_input_spec(loose, kind=base["kind"])
    fam.check_input_spec(spec, hp)
    if num_classes is None:
        num_classes = fam.default_num_classes(task)
    if num_classes is not None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1 or num_classes > _MAX_HP:
            raise InputError(f"num_classes must be a positive integer (at most {_MAX_HP}), got {num_classes!r}")
    return fam, variant, hp, spec, num_classes, task


def create_model(family: str, **hparams: Any) -> ModelHandle:
    """Build a model of `family`.

    Keyword args: `variant` (a named size of the family), `input_spec`, `num_classes`, `task`,
    and any family hyper-parameter (they override the variant's), e.g. `pretrained=True` for bert.

    Raises:
        UnsatisfiableError: unknown family / variant / task.
        InputError: negative or absurd sizes, an input spec the family cannot take.
    """
    fam, variant, hp, spec, num_classes, task = resolve(family, **hparams)
    from tensor_agent.tools.core.zoo.quiet import quiet_build

    with quiet_build():
        module = fam.build(hp, spec, num_classes, task)
    extra = {"variant": variant, "hparams": _json_safe(hp), "modality": fam.modality}
    extra.update(fam.extra(hp, spec, module))
    return ModelHandle(module=module, family=fam.name, kind=fam.kind, task=task, input_spec=spec,
                       num_classes=num_classes, extra=extra)




def example_inputs_for(handle: ModelHandle, batch_size: int = 1) -> tuple:
    """Dummy inputs that fit `handle` (torch tensors, or a numpy array for boosters)."""
    fam = get_family(handle.family)
    return fam.example_inputs(handle.input_spec, batch_size, hp=handle.extra.get("hparams") or {})


def expected_output_shape(handle: ModelHandle, batch_size: int = 1) -> list[int]:
    """The output shape `handle.module` should produce on `example_inputs_for(handle, batch_size)`."""
    fam = get_family(handle.family)
    return fam.output_shape(handle.input_spec, handle.num_classes, handle.task, batch_size,
                            hp=handle.extra.get("hparams") or {})
