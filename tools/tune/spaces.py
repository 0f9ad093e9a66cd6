"""Search spaces per family: a small registry (`@register_space`) and one factory (`space_for`).

A space is a list of `Param`s. Neural families share one space (learning rate, weight decay, dropout, batch
size, schedule, warm-up, width/depth variant); XGBoost has its own (max_depth, eta, subsample,
colsample_bytree, min_child_weight, rounds with early stopping); LoRA fine-tuning adds rank and alpha.
`select(space, names)` keeps only the parameters a user asked for ("tune lr and dropout only").
Pure Python: nothing heavy is imported here.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, Field

from tensor_agent.errors import InputError, UnsatisfiableError


class Param(BaseModel):
    """One searched hyper-parameter."""

    name: str = Field(description="Name of the parameter (a TrainConfig field, an XGBoost parameter or 'variant').")
    kind: Literal["float", "int", "categorical"] = Field(description="How Optuna suggests it.")
    low: Optional[float] = Field(default=None, description="Lower bound (float/int).")
    high: Optional[float] = Field(default=None, description="Upper bound (float/int).")
    log: bool = Field(default=False, description="Sample on a log scale.")
    choices: list[Any] = Field(default_factory=list, description="Choices of a categorical parameter.")

    def suggest(self, trial) -> Any:
        """The value `trial` suggests for this parameter."""
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_categorical(self.name, list(self.choices))

    def contains(self, value: Any) -> bool:
        """Whether `value` lies in this parameter's domain (warm-start candidates must)."""
        if self.kind == "categorical":
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "int" and float(value) != int(value):
            return False
        return self.low <= value <= self.high


#: words a user may use for a parameter -> its name in the spaces
ALIASES: dict[str, str] = {
    "learning_rate": "lr", "learning rate": "lr", "l2": "weight_decay", "wd": "weight_decay",
    "batch": "batch_size", "batch size": "batch_size", "warmup": "warmup_epochs", "warm_up": "warmup_epochs",
    "warm-up": "warmup_epochs", "scheduler": "schedule", "lr_schedule": "schedule", "width": "variant",
    "depth": "variant", "size": "variant", "architecture": "variant", "model_size": "variant",
    "colsample": "colsample_bytree", "n_estimators": "rounds", "num_rounds": "rounds", "trees": "rounds",
    "rank": "lora_r", "lora_rank": "lora_r", "r": "lora_r", "alpha": "lora_alpha", "max depth": "max_depth",
    "min child weight": "min_child_weight",
}

_SPACES: dict[str, Callable[[dict], list[Param]]] = {}


def register_space(*families: str) -> Callable:
    """Register a space builder `fn(info) -> list[Param]` for `families` ('neural' is the default)."""

    def deco(fn: Callable[[dict], list[Param]]) -> Callable[[dict], list[Param]]:
        for f in families:
            _SPACES[f] = fn
        return fn

    return deco


def _variant_choices(info: dict) -> list[str]:
    """Width/depth variants around the family's default: from the smallest up to one above the default."""
    names = [v for v in info.get("variants", []) if v not in info.get("efficient_variants", ())]
    default = info.get("default_variant")
    if not names or default not in names:
        return []
    i = names.index(default)
    return names[max(0, i - 2): i + 2]


@register_space("neural")
def neural_space(info: dict) -> list[Param]:
    """Optimiser, regularisation, batch, schedule and size of a torch family."""
    space = [Param(name="lr", kind="float", low=1e-4, high=3e-2, log=True),
             Param(name="weight_decay", kind="float", low=1e-6, high=1e-2, log=True),
             Param(name="dropout", kind="float", low=0.0, high=0.5),
             Param(name="schedule", kind="categorical", choices=["constant", "cosine", "step"]),
             Param(name="warmup_epochs", kind="int", low=0, high=3)]
    if info.get("modality") != "graph":  # graphs train full-batch
        space.insert(3, Param(name="batch_size", kind="categorical", choices=[16, 32, 64, 128]))
    variants = _variant_choices(info)
    if len(variants) > 1:
        space.append(Param(name="variant", kind="categorical", choices=variants))
    return space


@register_space("xgboost")
def xgboost_space(info: dict) -> list[Param]:
    """Tree depth, learning rate (eta), row/column sampling, leaf weight and boosting rounds."""
    return [Param(name="max_depth", kind="int", low=2, high=10),
            Param(name="eta", kind="float", low=0.01, high=0.3, log=True),
            Param(name="subsample", kind="float", low=0.5, high=1.0),
            Param(name="colsample_bytree", kind="float", low=0.5, high=1.0),
            Param(name="min_child_weight", kind="float", low=0.5, high=20.0, log=True),
            Param(name="rounds", kind="int", low=50, high=1000, log=True)]


@register_space("lora")
def lora_space(info: dict) -> list[Param]:
    """LoRA fine-tuning of a pretrained encoder: learning rate, weight decay, rank and alpha."""
    return [Param(name="lr", kind="float", low=1e-4, high=5e-3, log=True),
            Param(name="weight_decay", kind="float", low=1e-6, high=1e-1, log=True),
            Param(name="lora_r", kind="categorical", choices=[4, 8, 16, 32]),
            Param(name="lora_alpha", kind="categorical", choices=[8, 16, 32, 64])]


def family_info(family: str) -> dict:
    """What the space builders need to know of a family (from the zoo registry)."""
    from tensor_agent.tools.core.zoo.registry import get_family

    fam = get_family(family)
    return {"name": fam.name, "modality": fam.modality, "kind": fam.kind, "variants": list(fam.variants),
            "default_variant": fam.default_variant, "efficient_variants": tuple(fam.efficient_variants)}


def space_for(family: str, *, strategy: Optional[str] = None) -> list[Param]:
    """The search space of `family` (`strategy='lora'` for LoRA fine-tuning).

    Raises:
        UnsatisfiableError: an unknown family, or a family no space is registered for.
    """
    info = family_info(family)
    key = "lora" if strategy == "lora" else (family if family in _SPACES else
                                             ("neural" if info["kind"] == "torch" else None))
    if key is None:
        raise UnsatisfiableError(f"no search space for family {family!r} (kind {info['kind']})",
                                 hint=f"spaces exist for: {', '.join(sorted(_SPACES))} and every torch family")
    return _SPACES[key](info)


def canonical_param(name: str) -> str:
    key = str(name).strip().lower()
    return ALIASES.get(key, key.replace(" ", "_").replace("-", "_"))


def select(space: list[Param], names: Optional[list[str]], family: str) -> list[Param]:
    """Only the parameters in `names` (aliases allowed); the whole space when `names` is empty.

    Raises:
        InputError: a name that is not a parameter of this family's space (the known ones are listed).
    """
    if not names:
        return list(space)
    by_name = {p.name: p for p in space}
    wanted = list(dict.fromkeys(canonical_param(n) for n in names))
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise InputError(f"cannot tune {', '.join(unknown)} for family {family!r}: its search space has "
                         f"{', '.join(by_name)}", hint="set tune_params to some of these, e.g. tune_params=lr,dropout")
    return [by_name[n] for n in wanted]
