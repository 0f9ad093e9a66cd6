"""Save and load a `ModelHandle` as a directory whose files cannot carry code.

Layout (format 2)::

    <dir>/handle.json          facts + the architecture spec (family, variant, hparams, input_spec, ...)
    <dir>/weights.safetensors  torch weights (float models), rebuilt through the family registry
    <dir>/weights.pt           quantized torch state dict, read with torch.load(weights_only=True)
    <dir>/model.onnx           ONNX Runtime models (no external data)
    <dir>/model.json|.ubj      XGBoost in its own format
    <dir>/model.skops          scikit-learn objects through skops with an explicit trusted-types list

Nothing is ever unpickled: torch modules are rebuilt with `create_model(family, ...)` from the JSON spec
and get their weights from safetensors (or a `weights_only=True` state dict for INT8 modules, replaying
the recorded quantization recipe). Every file named in handle.json must lie inside the model directory.
Any file in another format, or failing a check, is refused with InputError (exit 2) naming the file and
what was expected. Directories written by the older format (a pickled `model.pt`) are migrated from their
`state_dict.pt` (read with `weights_only=True`) on first load when they lie inside the workspace, and
refused otherwise with the command that re-saves them.

Writes go to a temporary sibling directory renamed into place at the end, so a crash never leaves a
half-written model; `clean_orphans` removes what a killed process left behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle
from tensor_agent.tools.core.procs import pid_alive

META = "handle.json"
FORMAT = 2
WEIGHTS = "weights.safetensors"
QWEIGHTS = "weights.pt"
ONNX_FILE = "model.onnx"
MAX_META_BYTES = 5_000_000
MIGRATE_CMD = "python -m tensor_agent.tools.core.model_store migrate {path}"
#: scikit-learn objects: only these types may be loaded from a .skops file (besides skops' own defaults)
SKOPS_TRUSTED: tuple[str, ...] = ()
#: what each file role must be called (suffix), for the refusal messages
EXPECTED = {"weights": ".safetensors", "qweights": ".pt (a weights_only state dict)", "onnx": ".onnx",
            "xgboost": ".json or .ubj", "skops": ".skops"}
_XGB_CLASSES = ("XGBClassifier", "XGBRegressor", "XGBRanker", "Booster")
_ORPHAN = re.compile(r"^\.(tmp|old)-(\d+)-")


# --- small helpers ------------------------------------------------------------------------------
def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items() if _json_safe(v) is not _DROP}
    if isinstance(value, (list, tuple)):
        return [v for v in (_json_safe(x) for x in value) if v is not _DROP]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _json_safe(value.item())
    if isinstance(value, Path):
        return str(value)
    return _DROP


_DROP = object()


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` through a temporary file in the same directory + rename (never half a file)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def confined(directory: Path, rel: Any, role: str) -> Path:
    """`directory / rel`, refused unless it is a relative path that stays inside `directory` (symlinks resolved).

    Raises:
        InputError: `rel` is not a string, is absolute, or leaves the directory.
    """
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        raise InputError(f"{directory / META}: files.{role} must be a file name inside the model directory, "
                         f"got {rel!r}")
    root = directory.resolve()
    target = (directory / rel).resolve()
    if Path(rel).is_absolute() or not target.is_relative_to(root):
        raise InputError(f"{directory / META}: files.{role}={rel!r} points outside the model directory {root}",
                         hint="a model directory may only name its own files; nothing was loaded")
    return target




def clean_orphans(directory: str | os.PathLike) -> list[str]:
    """Remove `.tmp-<pid>-*` / `.old-<pid>-*` entries left in `directory` by processes that no longer run."""
    d = Path(directory)
    removed: list[str] = []
    if not d.is_dir():
        return removed
    for entry in d.iterdir():
        m = _ORPHAN.match(entry.name)
        if m and not pid_alive(int(m.group(2))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(str(entry))
    return removed


# --- saving -------------------------------------------------------------------------------------
def _target_dir(handle: ModelHandle, directory: str | os.PathLike, name: str | None) -> Path:
    d = Path(directory)
    if name:
        if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
            raise InputError(f"model name {name!r} must be a plain directory name")
        return d / name
    if d.exists() and any(d.iterdir()) and not (d / META).exists():
        # a parent folder (e.g. settings.models_dir): make a fresh sub-directory
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{handle.family}-{handle.dataset or 'model'}-{stamp}".replace("/", "_")
        cand, i = d / base, 1
        while cand.exists():
            cand, i = d / f"{base}-{i}", i + 1
        return cand
    return d


def model_spec(handle: ModelHandle) -> dict:
    """The JSON architecture spec that rebuilds `handle.module` through the family registry."""
    extra = handle.extra or {}
    return {"family": handle.family, "variant": extra.get("variant"), "hparams": _json_safe(extra.get("hparams") or {}),
            "input_spec": _json_safe(handle.input_spec or {}), "num_classes": handle.num_classes,
            "task": handle.task}


def save_model(handle: ModelHandle, directory: str | os.PathLike, name: str | None = None,
               spec: Optional[dict] = None) -> str:
    """Save `handle` (atomically) and return the directory it was saved to.

    Args:
        handle: the model handle (torch module of a registry family, INT8 torch module, ONNX Runtime module,
            xgboost model or scikit-learn estimator).
        directory: the model directory, or a parent folder (such as `settings.models_dir`) in which a new
            sub-directory `<family>-<dataset>-<time>` is created.
        name: an explicit sub-directory name under `directory`.
        spec: the architecture spec (default: from the handle: family, extra.variant, extra.hparams, ...).

    Raises:
        UnsatisfiableError: the model cannot be stored in a format that carries no code.
    """
    target = _target_dir(handle, directory, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_orphans(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-{target.name}-", dir=target.parent))
    try:
        files, stored = _write_module(handle, tmp)
        meta = {"format": FORMAT, "family": handle.family, "kind": handle.kind, "task": handle.task,
                "spec": _json_safe(spec or model_spec(handle)), "stored": stored,
                "input_spec": _json_safe(handle.input_spec), "num_classes": handle.num_classes,
                "dataset": handle.dataset, "metrics": _json_safe(handle.metrics),
                "mlflow_run_id": handle.mlflow_run_id, "extra": _json_safe(handle.extra), "files": files,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (tmp / META).write_text(json.dumps(meta, indent=2))
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    handle.path = str(target)
    return str(target)


def _swap_in(tmp: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".old-{os.getpid()}-{target.name}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def _write_module(handle: ModelHandle, tmp: Path) -> tuple[dict, dict]:
    """Write the model file(s) into `tmp`; returns (files, how it is stored)."""
    kind, module = handle.kind, handle.module
    if kind == "xgboost":
        cls = type(module).__name__
        if cls not in _XGB_CLASSES:
            raise UnsatisfiableError(f"cannot store an xgboost model of type {cls}")
        module.save_model(str(tmp / "model.json"))
        return {"xgboost": "model.json"}, {"class": cls}
    if kind == "onnx" or hasattr(module, "onnx_bytes"):
        (tmp / ONNX_FILE).write_bytes(module.onnx_bytes)
        return {"onnx": ONNX_FILE}, {"threads": int(getattr(module, "threads", 1) or 1)}
    if kind == "sklearn":
        import skops.io as sio

        sio.dump(module, tmp / "model.skops")
        return {"skops": "model.skops"}, {}
    if kind != "torch":
        raise UnsatisfiableError(f"cannot store a model of kind {kind!r} (known: torch, xgboost, onnx, sklearn)")
    return _write_torch(handle, tmp)


def _write_torch(handle: ModelHandle, tmp: Path) -> tuple[dict, dict]:
    import torch

    module = getattr(handle.module, "inner", handle.module)  # a PortableModule wraps an FX INT8 graph
    recipe = _quant_recipe(module, handle)
    state = module.state_dict()
    if recipe:
        torch.save(state, tmp / QWEIGHTS)
        return {"qweights": QWEIGHTS}, {"quantization": recipe}
    from safetensors.torch import save_file

    tensors, aliases, seen = {}, {}, {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise UnsatisfiableError(f"cannot store {handle.family}: state entry {key!r} is a "
                                     f"{type(value).__name__}, not a tensor")
        ptr = (value.untyped_storage().data_ptr(), value.storage_offset(), tuple(value.shape), value.dtype) \
            if value.numel() else None
        if ptr is not None and ptr in seen:
            aliases[key] = seen[ptr]  # tied weights (e.g. GPT embeddings/head): store once
            continue
        if ptr is not None:
            seen[ptr] = key
        tensors[key] = value.detach().contiguous().cpu()
    save_file(tensors, str(tmp / WEIGHTS), metadata={"format": "pt"})
    return {"weights": WEIGHTS}, {"aliases": aliases}


def _quant_recipe(module, handle: ModelHandle) -> Optional[dict]:
    """How to turn the rebuilt float model into this INT8 one (None for float models)."""
    import torch

    steps = [str(s) for s in (handle.extra or {}).get("compression") or []]
    if isinstance(module, torch.fx.GraphModule):
        return {"kind": "fx_int8", "qat": any("qat" in s for s in steps),
                "engine": torch.backends.quantized.engine or "x86"}
    dyn = {}
    for name, sub in module.named_modules():
        if type(sub).__module__.startswith("torch.ao.nn.quantized.dynamic"):
            w = sub.weight() if callable(getattr(sub, "weight", None)) else None
            per_channel = bool(w is not None and w.qscheme() in (torch.per_channel_affine,
                                                                 torch.per_channel_symmetric))
            dyn[name] = "per_channel" if per_channel else "per_tensor"
    if dyn:
        return {"kind": "dynamic_int8", "modules": dyn}
    if any("quantized" in type(m).__module__ for m in module.modules()):
        raise UnsatisfiableError("cannot store this INT8 model: its quantization recipe is not known",
                                 hint="use technique=dynamic_int8, static_int8, qat or onnx_int8")
    return None


def kept_after_failure(path: str | os.PathLike, step: str, exc: BaseException, command: str) -> UnsatisfiableError:
    """The error to raise when a step after training fails: the saved model at `path` is KEPT (never delete it).

    Args:
        path: the saved model directory (left where it is).
        step: what failed, e.g. "registration".
        exc: the failure.
        command: the command that finishes the step later.
    Returns:
        UnsatisfiableError (exit 3) naming the kept path and the command.
    """
    cause = getattr(exc, "message", None) or f"{type(exc).__name__}: {str(exc)[:200]}"
    err = UnsatisfiableError(f"{step} failed after training ({cause}); the trained model is kept at {path}",
                             hint=f"finish the {step} with: {command}")
    err.model_path = str(path)  # type: ignore[attr-defined]
    return err


# --- loading ------------------------------------------------------------------------------------
def _read_meta(d: Path) -> dict:
    p = d / META
    try:
        if p.stat().st_size > MAX_META_BYTES:
            raise InputError(f"{p}: model metadata is too large ({p.stat().st_size:,} bytes)")
        meta = json.loads(p.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a model metadata file (binary, expected JSON written by tensor-agent)") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: corrupt model metadata ({exc.msg} at line {exc.lineno})",
                         hint="re-save the model (train it again) or remove the directory") from None
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("family", ""), str):
        raise InputError(f"{p}: corrupt model metadata (expected a JSON object with family, kind, files)")
    if not isinstance(meta.get("files", {}), dict):
        raise InputError(f"{p}: files must be a JSON object of file names")
    return meta


def model_directory(path: str | os.PathLike) -> Path:
    """The model directory `path` names (a directory, or its handle.json); anything else is refused."""
    d = Path(path).expanduser()
    if d.is_file():
        if d.name != META:
            raise InputError(f"{d}: a bare model file is not accepted (it may carry code); expected a model "
                             f"directory with {META} and weights in safetensors, as written by train_model",
                             hint="pass the directory train_model or compress_model saved; nothing was loaded")
        d = d.parent
    if not d.exists():
        raise InputError(f"model directory {d} does not exist", hint="pass the directory train_model saved")
    if not (d / META).is_file():
        raise InputError(f"{d} is not a saved model: expected {META} with weights in safetensors "
                         f"(written by train_model)", hint="nothing was loaded")
    return d


def load_model(path: str | os.PathLike, *, workspace: Optional[str | os.PathLike] = None) -> ModelHandle:
    """Load a model directory written by `save_model`; never runs code from a file.

    Args:
        path: the model directory (or its handle.json).
        workspace: the workspace (TENSOR_HOME); an old-format directory inside it is migrated in place.

    Raises:
        InputError: not a model directory, a file outside it, a file not in the expected format, or a
            model of the old format outside the workspace (the message gives the command that re-saves it).
    """
    d = model_directory(path)
    meta = _read_meta(d)
    if "format" not in meta:
        return _migrate(d, meta, workspace)
    if meta.get("format") != FORMAT:
        raise InputError(f"{d / META}: unknown model format {meta.get('format')!r} (expected {FORMAT})",
                         hint="it was written by another tensor-agent version")
    module = _read_module(d, meta)
    return _handle_from(meta, module, d)


def _handle_from(meta: dict, module: Any, d: Path) -> ModelHandle:
    extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
    for key in ("tokenizer_path", "pretrained_path", "tokenizer"):
        extra.pop(key, None)  # never follow a path from the file: the rebuilt family supplies its own
    extra.update(getattr(module, "_tensor_extra", None) or {})
    if hasattr(module, "_tensor_extra"):
        del module._tensor_extra
    return ModelHandle(module=module, family=str(meta.get("family") or "custom"), kind=str(meta.get("kind", "torch")),
                       task=str(meta.get("task") or "classification"),
                       input_spec=meta.get("input_spec") if isinstance(meta.get("input_spec"), dict) else {},
                       num_classes=meta.get("num_classes") if isinstance(meta.get("num_classes"), int) else None,
                       dataset=meta.get("dataset"), metrics=meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {},
                       mlflow_run_id=meta.get("mlflow_run_id"), path=str(d), extra=extra)


def _read_module(d: Path, meta: dict) -> Any:
    files = meta.get("files") or {}
    unknown = set(files) - set(EXPECTED)
    if unknown:
        raise InputError(f"{d / META}: unknown file role(s) {sorted(unknown)} (expected one of {sorted(EXPECTED)})")
    paths = {role: confined(d, rel, role) for role, rel in files.items()}
    for role, p in paths.items():
        ok = p.suffix in (".json", ".ubj") if role == "xgboost" else p.suffix == EXPECTED[role].split(" ")[0]
        if not ok:
            raise InputError(f"{p}: files.{role} must be a {EXPECTED[role]} file")
        if not p.is_file():
            raise InputError(f"{p}: missing model file ({role}); the model directory {d} is incomplete",
                             hint="re-save the model (train it again) or remove the directory")
    kind, stored = meta.get("kind", "torch"), meta.get("stored") if isinstance(meta.get("stored"), dict) else {}
    if kind == "xgboost" and "xgboost" in paths:
        return _load_xgboost(paths["xgboost"], stored)
    if kind == "onnx" and "onnx" in paths:
        return OnnxModel.from_file(paths["onnx"], threads=int(stored.get("threads", 1) or 1))
    if kind == "sklearn" and "skops" in paths:
        return _load_skops(paths["skops"])
    if kind == "torch" and ("weights" in paths or "qweights" in paths):
        return _load_torch(d, meta, paths, stored)
    raise InputError(f"{d / META}: a {kind!r} model needs files "
                     f"{ {'torch': 'weights', 'xgboost': 'xgboost', 'onnx': 'onnx', 'sklearn': 'skops'}.get(kind, '?')} "
                     f"(got {sorted(files)})", hint="re-save the model with this tensor-agent")


def _load_xgboost(p: Path, stored: dict):
    import xgboost as xgb

    cls_name = stored.get("class", "XGBClassifier")
    if cls_name not in _XGB_CLASSES:
        raise InputError(f"{p}: unknown xgboost model class {cls_name!r} (expected one of {', '.join(_XGB_CLASSES)})")
    head = p.read_bytes()[:1]
    if p.suffix == ".json" and head != b"{":
        raise InputError(f"{p}: not an XGBoost JSON model (expected a JSON object)")
    model = getattr(xgb, cls_name)()
    try:
        model.load_model(str(p))
    except xgb.core.XGBoostError as exc:
        raise InputError(f"{p}: not a valid XGBoost model ({str(exc).splitlines()[0][:160]})") from None
    return model


def _load_skops(p: Path):
    import skops.io as sio

    try:
        untrusted = [t for t in sio.get_untrusted_types(file=p) if t not in SKOPS_TRUSTED]
    except Exception as exc:  # noqa: BLE001 - any parse failure means: not a skops file
        raise InputError(f"{p}: not a valid skops file ({type(exc).__name__})") from None
    if untrusted:
        raise InputError(f"{p}: holds types that are not trusted: {', '.join(untrusted[:5])}",
                         hint="only scikit-learn/numpy types are loaded; nothing was loaded")
    return sio.load(p, trusted=list(SKOPS_TRUSTED) or None)


def _rebuild(spec: Any, where: Path):
    """Build the float module of `spec` through the family registry."""
    from tensor_agent.tools.core.zoo.registry import create_model

    if not isinstance(spec, dict) or not isinstance(spec.get("family"), str):
        raise InputError(f"{where}: the architecture spec is missing (expected spec.family, variant, hparams)")
    hp = spec.get("hparams") if isinstance(spec.get("hparams"), dict) else {}
    hp = {k: v for k, v in hp.items() if k not in ("variant", "input_spec", "num_classes", "task")}
    try:
        built = create_model(spec["family"], variant=spec.get("variant") or None, input_spec=spec.get("input_spec"),
                             num_classes=spec.get("num_classes"), task=spec.get("task"), **hp)
    except (InputError, UnsatisfiableError) as exc:
        raise InputError(f"{where}: cannot rebuild the architecture ({exc.message})",
                         hint="the spec in handle.json does not describe a known family build") from None
    return built


def _load_torch(d: Path, meta: dict, paths: dict, stored: dict):
    built = _rebuild(meta.get("spec"), d / META)
    module = built.module
    recipe = stored.get("quantization")
    if "qweights" in paths:
        if not isinstance(recipe, dict):
            raise InputError(f"{d / META}: an INT8 state dict needs its quantization recipe (stored.quantization)")
        state = _torch_state(paths["qweights"])
        module = _apply_recipe(module, recipe, built, d)
    else:
        state = _safetensors_state(paths["weights"])
        aliases = stored.get("aliases") if isinstance(stored.get("aliases"), dict) else {}
        for dup, kept in aliases.items():
            if kept in state:
                state[dup] = state[kept]
        adapt_shapes(module, {k: tuple(v.shape) for k, v in state.items()})
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{d}: the weights do not fit the architecture in {META} "
                         f"({str(exc).splitlines()[0][:200]})",
                         hint="the directory is corrupt or was edited; re-save the model") from None
    module.eval()
    module._tensor_extra = {k: v for k, v in built.extra.items() if k in ("tokenizer_path", "pretrained_path")}
    return module


def _safetensors_state(p: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return dict(load_file(str(p)))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise InputError(f"{p}: not a safetensors weights file ({type(exc).__name__}: {str(exc)[:120]})",
                         hint="expected weights written by save_model; nothing was loaded") from None


def _torch_state(p: Path) -> dict:
    import pickle

    import torch

    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, AttributeError) as exc:
        raise InputError(f"{p}: not a plain state dict (refused by torch.load(weights_only=True): "
                         f"{str(exc).splitlines()[0][:160]})", hint="nothing was loaded") from None
    if not isinstance(state, dict):
        raise InputError(f"{p}: expected a state dict, found a {type(state).__name__}")
    return state


def _apply_recipe(module, recipe: dict, built: ModelHandle, d: Path):
    """Turn the rebuilt float model into the recorded INT8 structure (weights come from the state dict)."""
    import warnings

    import torch

    kind = recipe.get("kind")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "dynamic_int8":
            from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

            mods = recipe.get("modules") if isinstance(recipe.get("modules"), dict) else {}
            spec = {str(n): per_channel_dynamic_qconfig if v == "per_channel" else default_dynamic_qconfig
                    for n, v in mods.items()}
            return quantize_dynamic(module.eval(), spec, dtype=torch.qint8)
        if kind == "fx_int8":
            from torch.ao.quantization import get_default_qat_qconfig_mapping, get_default_qconfig_mapping
            from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx, prepare_qat_fx

            from tensor_agent.tools.core.zoo.registry import example_inputs_for

            engine = str(recipe.get("engine") or "x86")
            example = example_inputs_for(built, 1)
            if recipe.get("qat"):
                prepared = prepare_qat_fx(module.train(), get_default_qat_qconfig_mapping(engine), example)
            else:
                prepared = prepare_fx(module.eval(), get_default_qconfig_mapping(engine), example)
            return convert_fx(prepared.eval())
    raise InputError(f"{d / META}: unknown quantization recipe {kind!r} (expected dynamic_int8 or fx_int8)")


def adapt_shapes(module, shapes: dict[str, tuple]) -> None:
    """Resize layers of a freshly built `module` to the stored tensor shapes (structured pruning, new heads).

    Only the layer types whose size lives in their weights are resized (Linear, ConvNd, norms, Embedding);
    anything else is left for `load_state_dict(strict=True)` to report.
    """
    import torch

    own = dict(module.state_dict())
    by_module: dict[str, dict[str, tuple]] = {}
    for key, shape in shapes.items():
        if key in own and tuple(own[key].shape) != tuple(shape):
            prefix, _, attr = key.rpartition(".")
            by_module.setdefault(prefix, {})[attr] = tuple(shape)
    for prefix, attrs in by_module.items():
        sub = module.get_submodule(prefix) if prefix else module
        for attr, shape in attrs.items():
            if attr in sub._parameters and sub._parameters[attr] is not None:
                old = sub._parameters[attr]
                sub._parameters[attr] = torch.nn.Parameter(torch.empty(shape, dtype=old.dtype),
                                                           requires_grad=old.requires_grad)
            elif attr in sub._buffers and sub._buffers[attr] is not None:
                sub._buffers[attr] = torch.empty(shape, dtype=sub._buffers[attr].dtype)
        _fix_layer_attrs(sub)


def _fix_layer_attrs(sub) -> None:
    import torch.nn as nn

    w = getattr(sub, "weight", None)
    if isinstance(sub, nn.Linear) and w is not None:
        sub.out_features, sub.in_features = w.shape
    elif isinstance(sub, nn.modules.conv._ConvNd) and w is not None:
        depthwise = sub.groups > 1 and sub.groups == sub.in_channels == sub.out_channels
        if sub.transposed:
            sub.in_channels, sub.out_channels = w.shape[0], w.shape[1] * sub.groups
        else:
            sub.out_channels = w.shape[0]
            if depthwise:
                sub.groups = sub.in_channels = w.shape[0]
            else:
                sub.in_channels = w.shape[1] * sub.groups
    elif isinstance(sub, nn.modules.batchnorm._NormBase):
        ref = w if w is not None else getattr(sub, "running_mean", None)
        if ref is not None:
            sub.num_features = ref.shape[0]
    elif isinstance(sub, nn.LayerNorm) and w is not None:
        sub.normalized_shape = tuple(w.shape)
    elif isinstance(sub, nn.GroupNorm) and w is not None:
        sub.num_channels = w.shape[0]
    elif isinstance(sub, nn.Embedding) and w is not None:
        sub.num_embeddings, sub.embedding_dim = w.shape


# --- ONNX Runtime models ------------------------------------------------------------------------
class OnnxModel:
    """A callable model backed by an ONNX Runtime session (torch tensors in, torch tensor out)."""

    def __init__(self, onnx_bytes: bytes, threads: int = 1, source_path: Optional[str] = None):
        self.onnx_bytes = onnx_bytes
        self.threads = threads
        self.source_path = source_path
        self._session = None

    @classmethod
    def from_file(cls, p: Path, threads: int = 1) -> "OnnxModel":
        data = p.read_bytes()
        check_onnx(data, p)
        return cls(data, threads=threads, source_path=str(p))

    @property
    def session(self):
        if self._session is None:
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.intra_op_num_threads = max(1, int(self.threads))
            so.log_severity_level = 3
            self._session = ort.InferenceSession(self.onnx_bytes, so, providers=["CPUExecutionProvider"])
        return self._session

    def eval(self):
        return self

    def __call__(self, *inputs):
        import torch

        sess = self.session
        feeds = {i.name: x.detach().cpu().numpy() for i, x in zip(sess.get_inputs(), inputs)}
        return torch.from_numpy(sess.run(None, feeds)[0])


def check_onnx(data: bytes, p: Path) -> None:
    """Refuse anything that is not a self-contained ONNX model (no external data files)."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_model_from_string(data)  # bytes: external data is never loaded
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise InputError(f"{p}: not an ONNX model ({type(exc).__name__})") from None
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise InputError(f"{p}: the ONNX model refers to external data files; expected a self-contained model")


# --- the old format -----------------------------------------------------------------------------
def _migrate(d: Path, meta: dict, workspace: Optional[str | os.PathLike], *, force: bool = False) -> ModelHandle:
    """A directory of the old format: rebuild it from its state dict (weights_only) and re-save it in place."""
    from tensor_agent.workspace import is_inside, workspace_home

    home = Path(workspace) if workspace is not None else workspace_home()
    cmd = MIGRATE_CMD.format(path=d)
    if not force and not is_inside(d, home):
        raise InputError(f"{d} was saved in the old model format (a pickle that can carry code) and lies outside "
                         f"the workspace {home}; it is not loaded",
                         hint=f"if you trust it, re-save it with: {cmd}")
    kind, files = meta.get("kind", "torch"), meta.get("files") or {}
    if kind == "xgboost":
        p = confined(d, files.get("module", "model.json"), "module")
        module = _load_xgboost(p, {"class": files.get("class", "XGBClassifier")})
    elif kind == "torch" and "state_dict" in files:
        state = _torch_state(confined(d, files["state_dict"], "state_dict"))
        extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
        spec = {"family": meta.get("family"), "variant": extra.get("variant"), "hparams": extra.get("hparams") or {},
                "input_spec": meta.get("input_spec") or {}, "num_classes": meta.get("num_classes"),
                "task": meta.get("task")}
        built = _rebuild(spec, d / META)
        adapt_shapes(built.module, {k: tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")})
        try:
            built.module.load_state_dict(state, strict=True)
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{d}: an old-format model that cannot be migrated ({str(exc).splitlines()[0][:160]})",
                             hint="train or compress it again with this tensor-agent") from None
        module = built.module.eval()
    else:
        raise InputError(f"{d}: an old-format {kind} model (pickled) cannot be migrated safely",
                         hint="train or compress it again with this tensor-agent")
    handle = _handle_from({**meta, "kind": kind}, module, d)
    save_model(handle, d)
    print(f"note: migrated {d} to the safe model format (safetensors + JSON spec)", file=sys.stderr)
    return handle


def main(argv: Optional[list[str]] = None) -> int:
    """`python -m tensor_agent.tools.core.model_store migrate DIR...`: re-save old-format directories."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != "migrate":
        print("usage: python -m tensor_agent.tools.core.model_store migrate DIR [DIR...]", file=sys.stderr)
        return 2
    code = 0
    for path in argv[1:]:
        try:
            d = model_directory(path)
            meta = _read_meta(d)
            if "format" in meta:
                print(f"{d}: already in format {meta['format']}")
                continue
            _migrate(d, meta, None, force=True)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
