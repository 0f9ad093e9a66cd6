"""The plan is the contract: options checked, message and options reconciled, decisions in the plan.

`resolve(plan, options)` runs once per turn (the graph's parse node, `TensorAgent.plan`, the
LangChain/MCP tools). It

1. rejects unknown option keys (exit 2, with the known keys and a "did you mean"),
2. checks every value against its range (exit 2, naming the option and its range),
3. fills `plan.settings`, `plan.data`, `plan.register_name`, ... from the message's constraints and
   the options; where both give a value the explicit option wins and `plan.notes` says so.

Tools then decide from the resolved plan (and the tool-specific options in `OPTIONS`) only, never
from `plan.text`. Pure Python + pydantic: no heavy imports.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from tensor_agent.errors import InputError
from tensor_agent.schema import DataSource, Plan, TrainSettings, TuneSpec


@dataclass(frozen=True)
class OptionSpec:
    """One option a user or host may pass (`--set KEY=VALUE`, `invoke(**options)`, tool arguments)."""

    kind: str                    # int | float | bool | str | path | list | dict | any
    description: str
    lo: Optional[float] = None   # inclusive lower bound (numbers)
    hi: Optional[float] = None   # inclusive upper bound (numbers)
    lo_open: bool = False        # lower bound exclusive
    hi_open: bool = False        # upper bound exclusive
    choices: tuple[str, ...] = ()


def _o(kind: str, description: str, lo=None, hi=None, *, lo_open=False, hi_open=False, choices=()) -> OptionSpec:
    return OptionSpec(kind, description, lo, hi, lo_open, hi_open, tuple(choices))


#: Every option key @TENSOR knows. A tool that reads a new option adds it here (one table).
OPTIONS: dict[str, OptionSpec] = {
    # data
    "dataset": _o("str", "built-in dataset name"),
    "data_path": _o("path", "your data file or folder (CSV/Parquet, JSONL/CSV text, image folder, edge list)"),
    "target_column": _o("str", "label column of a table"),
    "text_column": _o("str", "text column of a text table"),
    "node_features": _o("path", "node feature file for an edge list"),
    "image_size": _o("int", "image side for image folders", 4, 1024),
    "seq_len": _o("int", "sequence length of generated sequence sets", 2, 1_000_000),
    "classes": _o("any", "keep only these classes, e.g. '5-9'"),
    "train_per_class": _o("int", "at most this many training examples per class", 1, 10_000_000),
    "task": _o("str", "task kind", choices=("classification", "regression", "generation", "seq2seq",
                                            "denoising", "forecasting", "node_classification")),
    "modality": _o("str", "data modality"),
    # model
    "family": _o("str", "architecture family"),
    "variant": _o("str", "named size of the family"),
    "pretrained": _o("bool", "start from pretrained weights"),
    "input_spec": _o("dict", "input spec, e.g. {'kind': 'image', 'shape': [3, 32, 32]}"),
    "num_classes": _o("int", "output classes", 1, 1_000_000),
    "use_memory": _o("bool", "let memory evidence change the design"),
    "latency_batch_size": _o("int", "batch size of latency measurements", 1, 65_536),
    "threads": _o("int", "CPU threads for measurement", 1, 256),
    "device": _o("str", "target device (mobile, edge, cpu, gpu)"),
    "latency_ms": _o("float", "latency budget, ms", 0, 1e7, lo_open=True),
    "size_mb": _o("float", "size budget, MB", 0, 1e7, lo_open=True),
    "max_params": _o("float", "parameter budget", 1, 1e12),
    # training settings (also in plan.settings)
    "optimizer": _o("str", "sgd, adam, adamw or lamb", choices=("sgd", "adam", "adamw", "lamb")),
    "lr": _o("float", "learning rate", 0, 10, lo_open=True),
    "learning_rate": _o("float", "learning rate (same as lr)", 0, 10, lo_open=True),
    "schedule": _o("str", "learning-rate schedule",
                   choices=("constant", "step", "exponential", "cosine", "cosine_warm_restarts")),
    "warmup_epochs": _o("int", "linear warm-up epochs", 0, 10_000),
    "dropout": _o("float", "dropout rate", 0, 1, hi_open=True),
    "l1": _o("float", "L1 penalty", 0, 1),
    "weight_decay": _o("float", "L2 / weight decay", 0, 1),
    "patience": _o("int", "early-stopping patience, epochs", 1, 10_000),
    "epochs": _o("int", "training epochs", 1, 10_000),
    "batch_size": _o("int", "mini-batch size", 1, 65_536),
    "grad_clip": _o("float", "max gradient norm", 0, 1e6, lo_open=True),
    "seed": _o("int", "random seed", 0, 2**32 - 1),
    "time_budget_s": _o("float", "wall-clock budget, seconds", 0, 7 * 24 * 3600, lo_open=True),
    "strategy": _o("str", "transfer strategy",
                   choices=("scratch", "feature_extraction", "full_fine_tune", "adapter", "lora")),
    "momentum": _o("float", "SGD momentum", 0, 1, hi_open=True),
    "step_size": _o("int", "epochs between step decays", 1, 10_000),
    "gamma": _o("float", "decay factor", 0, 1, lo_open=True),
    "t0": _o("int", "first restart period (cosine_warm_restarts)", 1, 10_000),
    "t_mult": _o("int", "restart period multiplier", 1, 100),
    "eta_min": _o("float", "floor of cosine schedules", 0, 10),
    "label_smoothing": _o("float", "label smoothing", 0, 1, hi_open=True),
    "augment": _o("bool", "light augmentation"),
    "monitor": _o("str", "early-stopping metric", choices=("val_loss", "val_accuracy")),
    "lora_r": _o("int", "LoRA rank", 1, 1024),
    "lora_alpha": _o("int", "LoRA alpha", 1, 4096),
    "adapter_dim": _o("int", "adapter bottleneck width", 1, 4096),
    "max_length": _o("int", "token length of text models", 4, 8192),
    "backbone": _o("str", "model dir, MLflow run id or 'current' to transfer from"),
    "register": _o("str", "model-registry name"),
    "track": _o("bool", "log to MLflow"),
    "resume": _o("bool", "resume from the last checkpoint"),
    "rounds": _o("int", "XGBoost boosting rounds", 1, 100_000),
    # compression
    "model_path": _o("path", "saved model directory to act on"),
    "model_uri": _o("str", "runs:/<run id>/model to act on"),
    "technique": _o("any", "compression technique(s)"),
    "calibration_data": _o("str", "calibration dataset for static INT8"),
    "calibration_size": _o("int", "calibration examples", 1, 1_000_000),
    "sparsity": _o("float", "pruning sparsity", 0, 1, lo_open=True, hi_open=True),
    "tolerance_points": _o("float", "allowed accuracy drop, points", 0, 100),
    "tolerance": _o("float", "allowed accuracy drop, points (same as tolerance_points)", 0, 100),
    "runs": _o("int", "timed runs per measurement", 1, 10_000),
    "finetune_epochs": _o("int", "fine-tuning epochs after pruning", 0, 1000),
    "finetune_lr": _o("float", "fine-tuning learning rate", 0, 10, lo_open=True),
    "student_ratio": _o("float", "teacher/student size ratio", 1, 1000),
    "temperature": _o("float", "distillation temperature", 0, 100, lo_open=True),
    "alpha": _o("float", "distillation soft-target weight", 0, 1),
    "macs_reduction": _o("float", "structured pruning MACs reduction", 1, 1000, lo_open=True),
    "onnx_mode": _o("str", "ONNX INT8 mode", choices=("dynamic", "static", "qdq")),
    "keep_fp32": _o("bool", "keep the float model as current"),
    "per_channel": _o("bool", "per-channel quantization"),
    "archive": _o("bool", "build a TorchServe archive"),
    "min_speedup": _o("float", "required speed-up when speed is a goal", 0, 1000, lo_open=True),
    "distill_shift": _o("bool", "pixel-shift augmentation in distillation"),
    "distill_mixup": _o("bool", "mixup in distillation"),
    "distill_baseline": _o("bool", "train the no-teacher baselines"),
    "distill_lr": _o("float", "distillation learning rate", 0, 10, lo_open=True),
    "qat_lr": _o("float", "QAT learning rate", 0, 10, lo_open=True),
    "prune_steps": _o("int", "iterative pruning steps", 1, 100),
    "rewind_epochs": _o("int", "lottery-ticket rewind epoch", 0, 1000),
    # deployment
    "run": _o("bool", "start the served app on 127.0.0.1 after packaging (deploy)"),
    "port": _o("int", "port of the local server (deploy --run)", 1, 65_535),
    "image": _o("str", "container image name for manifests and pipelines (deploy)"),
    "tf_env": _o("str", "create: build the TensorFlow environment for the tfserving target under "
                        "$TENSOR_HOME/envs/tfserving (~2 GB, minutes)", choices=("create",)),
    # data-size estimation
    "accuracy_target": _o("float", "target accuracy (fraction or percent)", 0, 100, lo_open=True),
    "regime": _o("str", "supervised, transfer, few_shot or unsupervised"),
    "curve_points": _o("int", "learning-curve points", 3, 50),
    "curve_repeats": _o("int", "repeats per point", 1, 50),
    "curve_model": _o("str", "learning-curve model", choices=("auto", "sklearn", "torch")),
    "curve_epochs": _o("int", "epochs per learning-curve fit", 1, 10_000),
    "curve_family": _o("str", "family for learning curves"),
    "track_curve": _o("bool", "log the learning curve to MLflow"),
    "data_seed": _o("int", "seed of the data split", 0, 2**32 - 1),
    # hyperparameter search (tune_model)
    "trials": _o("int", "number of search trials", 1, 10_000),
    "tune_params": _o("any", "tune only these hyperparameters, e.g. 'lr,dropout'"),
    "tune_budget_s": _o("float", "wall-clock budget of the search, seconds", 0, 7 * 24 * 3600, lo_open=True),
    "workers": _o("int", "local worker processes on one study", 1, 64),
    "storage": _o("str", "Optuna storage URL (default: a journal file under the workspace)"),
    "study": _o("str", "Optuna study name (continue / join a study)"),
    "warm_start": _o("bool", "enqueue the best configurations of similar earlier tasks first"),
    "pruning": _o("bool", "prune bad trials from per-epoch validation scores (successive halving; XGBoost: median)"),
    "sampler": _o("str", "search sampler", choices=("tpe", "random")),
    "enqueue_default": _o("bool", "run the default configuration as the first trial"),
    # experiment tracking (track_experiment)
    "action": _o("str", "tracking action",
                 choices=("register", "alias", "list", "rollback", "archive", "compare", "export")),
    "alias": _o("str", "model-registry alias, e.g. champion or challenger"),
    "version": _o("int", "model-registry version", 1, 1_000_000),
    "run_id": _o("str", "MLflow run id to act on"),
    "runs_to_compare": _o("any", "the last N runs (a number) or run ids to compare"),
    "compare_metric": _o("str", "metric to compare runs on (default: every shared metric)"),
    "trackers": _o("any", "experiment trackers, e.g. 'mlflow,wandb'"),
    "wandb_project": _o("str", "Weights & Biases project name"),
    "neptune_project": _o("str", "Neptune project, WORKSPACE/PROJECT (offline runs sync there later)"),
}

#: constraint names the planner writes -> TrainSettings fields
_SETTING_CONSTRAINTS = {"learning_rate": "lr", "lr": "lr"} | {
    f: f for f in TrainSettings.model_fields if f not in ("lr",)}
#: option keys -> TrainSettings fields
_SETTING_OPTIONS = {"learning_rate": "lr", "lr": "lr"} | {f: f for f in TrainSettings.model_fields if f != "lr"}
REGISTER_NAME = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


def _range_text(spec: OptionSpec) -> str:
    if spec.choices:
        return "one of " + ", ".join(spec.choices)
    lo = "" if spec.lo is None else (f"> {spec.lo:g}" if spec.lo_open else f">= {spec.lo:g}")
    hi = "" if spec.hi is None else (f"< {spec.hi:g}" if spec.hi_open else f"<= {spec.hi:g}")
    return " and ".join(x for x in (lo, hi) if x) or spec.kind


def _bad(key: str, value: Any, spec: OptionSpec, why: str = "") -> InputError:
    return InputError(f"invalid option {key}={value!r}: {why or 'out of range'}; expected {spec.kind} "
                      f"{_range_text(spec)} ({spec.description})", hint=f"fix '{key}'")


def _coerce(key: str, value: Any, spec: OptionSpec) -> Any:
    if value is None:
        return None
    kind = spec.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in _TRUE | _FALSE:
            return s in _TRUE
        raise _bad(key, value, spec, "not a boolean")
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise _bad(key, value, spec, "not a number")
        try:
            num = float(value) if not isinstance(value, (int, float)) else value
        except (TypeError, ValueError):
            raise _bad(key, value, spec, "not a number") from None
        if isinstance(num, float) and not math.isfinite(num):
            raise _bad(key, value, spec, "not a finite number")
        if kind == "int":
            if float(num) != int(num):
                raise _bad(key, value, spec, "not a whole number")
            num = int(num)
        ok_lo = spec.lo is None or (num > spec.lo if spec.lo_open else num >= spec.lo)
        ok_hi = spec.hi is None or (num < spec.hi if spec.hi_open else num <= spec.hi)
        if not (ok_lo and ok_hi):
            raise _bad(key, value, spec)
        return num
    if kind in ("str", "path"):
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
            raise _bad(key, value, spec, "expected a non-empty string")
        value = str(value).strip()
        if spec.choices:
            norm = value.lower().replace("-", "_")
            if norm not in spec.choices:
                raise _bad(key, value, spec, "unknown value")
            return norm
        return value
    if kind == "dict" and not isinstance(value, dict):
        raise _bad(key, value, spec, "expected a mapping")
    return value


def check_options(options: Optional[dict], *, extra: Optional[dict[str, OptionSpec]] = None) -> dict[str, Any]:
    """Validate option keys and values; returns the coerced options.

    Raises:
        InputError (exit 2): an unknown key (with "did you mean" and the known keys) or a value out of range.
    """
    table = {**OPTIONS, **(extra or {})}
    out: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if key not in table:
            near = difflib.get_close_matches(str(key), list(table), n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise InputError(f"unknown option '{key}'. {hint}Known options: {', '.join(sorted(table))}",
                             hint="see `tensor-agent ask --help` and the README's option lists")
        out[key] = _coerce(key, value, table[key])
    return out


def _data_source(plan: Plan, opts: dict, notes: list[str], warnings: list[str]) -> Optional[DataSource]:
    word = plan.constraint("dataset")
    in_text = plan.constraint("data_path")
    path, dataset = opts.get("data_path"), opts.get("dataset")
    cols = dict(target_column=opts.get("target_column"), text_column=opts.get("text_column"))
    if path:
        if word and str(word) != str(path):
            warnings.append(f"You passed data_path={path} and the message names the dataset '{word}': "
                            f"I used your file {path}.")
        return DataSource(data_path=str(path), source="option", **cols)
    if dataset:
        if word and str(word) != str(dataset):
            notes.append(f"option dataset={dataset} overrides '{word}' from the message")
        return DataSource(dataset=str(dataset), source="option", **cols)
    if in_text:
        if word:
            warnings.append(f"The message names both a path ({in_text}) and the dataset '{word}': "
                            f"I used the path {in_text}.")
        return DataSource(data_path=str(in_text), source="message", **cols)
    if word:
        return DataSource(dataset=str(word), source="message", **cols)
    return None


def _settings(plan: Plan, opts: dict, notes: list[str]) -> TrainSettings:
    values: dict[str, Any] = {}
    for c in plan.constraints:
        fld = _SETTING_CONSTRAINTS.get(c.name)
        if fld and fld not in values and c.value is not None:
            values[fld] = c.value
    for key, fld in _SETTING_OPTIONS.items():
        if opts.get(key) is None:
            continue
        if fld in values and values[fld] != opts[key]:
            notes.append(f"option {key}={opts[key]} overrides {values[fld]} from the message")
        values[fld] = opts[key]
    for t in plan.techniques:
        if t in ("lora", "adapter", "feature_extraction", "full_fine_tune") and "strategy" not in values:
            values["strategy"] = t
    try:
        return TrainSettings(**values)
    except Exception as exc:  # pydantic ValidationError -> a clear message naming the field
        errs = getattr(exc, "errors", lambda: [{}])()
        err = errs[0] if errs else {}
        name = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        raise InputError(f"invalid training setting {name}={values.get(name)!r}: {err.get('msg', exc)}",
                         hint=f"fix '{name}'") from None


def resolve(plan: Plan, options: Optional[dict] = None) -> Plan:
    """The plan with every decision filled in from the message's constraints and the options.

    Raises:
        InputError (exit 2): unknown option keys or values out of range.
    """
    opts = check_options(options)
    if not plan.addressed:
        return plan
    notes, warnings = list(plan.notes), list(plan.warnings)
    update: dict[str, Any] = {"settings": _settings(plan, opts, notes),
                              "data": _data_source(plan, opts, notes, warnings) or plan.data}
    if opts.get("family"):
        from tensor_agent.catalogue import FAMILIES
        from tensor_agent.errors import UnsatisfiableError

        opts["family"] = str(opts["family"]).lower()
        if opts["family"] not in FAMILIES:
            near = difflib.get_close_matches(opts["family"], list(FAMILIES), n=1, cutoff=0.6)
            raise UnsatisfiableError(f"unknown family '{opts['family']}'" + (f" (did you mean '{near[0]}'?)" if near else "")
                                     + f"; known: {', '.join(FAMILIES)}", hint="pick one of the known families")
        if plan.architecture and plan.architecture != opts["family"]:
            notes.append(f"option family={opts['family']} overrides '{plan.architecture}' from the message")
        update["architecture"] = opts["family"]
        update["architecture_named"] = True
    if opts.get("variant"):
        update["variant"] = opts["variant"]
    if opts.get("pretrained") is not None:
        update["pretrained"] = opts["pretrained"]
    name = opts.get("register") or plan.register_name
    if name and not REGISTER_NAME.fullmatch(str(name)):
        raise InputError(f"invalid registration name {name!r}: use letters, digits, '.', '_' or '-' "
                         "(1-100 characters, no '/' or '..')", hint="e.g. register=digits-cnn")
    if opts.get("register"):
        if plan.register_name and plan.register_name != opts["register"]:
            notes.append(f"option register={opts['register']} overrides '{plan.register_name}' from the message")
        update["register_name"] = opts["register"]
    if not plan.techniques:
        from_constraints = [str(t).lower() for c in plan.constraints if c.name == "technique"
                            for t in (c.value if isinstance(c.value, (list, tuple)) else [c.value]) if t]
        if from_constraints:
            update["techniques"] = list(dict.fromkeys(from_constraints))
    if opts.get("technique"):
        tech = opts["technique"]
        update["techniques"] = [str(t).lower() for t in (tech if isinstance(tech, (list, tuple)) else
                                                          re.split(r"[,+ ]+", str(tech))) if str(t).strip()]
    if not plan.topics or plan.regime is None:
        from tensor_agent.planner.topics import regime_of, topics_of

        update["topics"] = plan.topics or topics_of(plan.text)
        update["regime"] = plan.regime or regime_of(plan.text, list(plan.intents))
    if opts.get("regime"):
        key = str(opts["regime"]).lower().replace("-", "_").replace(" ", "_")
        key = {"fewshot": "few_shot", "transfer_learning": "transfer", "self_supervised": "unsupervised"}.get(key, key)
        if key not in ("supervised", "transfer", "few_shot", "unsupervised"):
            raise InputError(f"invalid option regime='{opts['regime']}': expected one of supervised, transfer, "
                             "few_shot, unsupervised", hint="leave it out to let the plan decide")
        update["regime"] = key
    if plan.tune is None and "tune" in plan.intents:
        update["tune"] = TuneSpec()
    update["notes"], update["warnings"] = notes, warnings
    return plan.model_copy(update=update)


Resolver = Callable[[Plan, Optional[dict]], Plan]
