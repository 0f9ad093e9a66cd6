"""PRISM stand-in: profiles the turn's actual data and proposes the preparation steps it would apply.

With a data file or image folder in the plan (`plan.data.data_path`), PRISM reads it (`profile.py`):
column types, missing values per column, duplicate rows, class balance of the target, leakage hints
(ID-like columns, columns that predict the target almost perfectly or are named after it) and the
preparation steps that follow from those findings. Without one it gives the modality's checklist. The
topics the plan names (`plan.topics`: class imbalance, augmentation, label noise) come first.
"""

from __future__ import annotations

from typing import Any, Optional

from tensor_agent.peers.common import dataset_size, fmt_int, modality_of, num_classes, result, task_of
from tensor_agent.peers.registry import PeerReply, Section, register_peer
from tensor_agent.schema import Plan

#: plan topic (tensor_agent/planner/topics.py) -> checklist topic
PLAN_TOPICS: dict[str, str] = {"class_imbalance": "imbalance", "augmentation": "augmentation",
                               "label_noise": "label_noise"}

GENERIC: dict[str, list[str]] = {
    "cleaning": ["Remove exact and near duplicates (hash rows/files/texts) before splitting.",
                 "Fix types and units; drop or repair corrupt records; log how many rows each rule removes."],
    "missing": ["Measure missingness per field and whether it depends on the label (missing-not-at-random is a signal: add an is_missing indicator).",
                "Impute with statistics fitted on the training split only (median/most-frequent, or model-based)."],
    "imbalance": ["Report the class distribution; with a minority under ~10%, use class weights or focal loss first, "
                  "resampling (SMOTE / undersampling) on the training split only, and threshold tuning on validation.",
                  "Use stratified splits so every split keeps the class ratio."],
    "augmentation": ["Augment only the training split, with transformations that keep the label valid."],
    "leakage": ["Split before any fitting; remove features computed from the future or from the label (post-outcome fields, IDs that encode the target).",
                "Keep all records of one entity (user, patient, session) in one split."],
    "label_noise": ["Estimate label noise: double-annotate a sample (≥200 items) and compute agreement (Cohen's kappa); "
                    "flag suspicious labels with out-of-fold predictions (confident learning) and review them.",
                    "If noise stays high, use label smoothing (0.1) or a noise-robust loss."],
    "eda": ["EDA: summary statistics, per-feature distributions by class, correlations, and a look at 50 random raw examples per class."],
    "features": [],
}

BY_MODALITY: dict[str, dict[str, list[str]]] = {
    "tabular": {
        "cleaning": ["Check dtypes (numbers stored as text, dates as strings), impossible values and outliers (IQR / z-score > 4); winsorise or cap rather than delete when plausible."],
        "features": ["Encode categoricals: one-hot for < ~20 levels, target/ordinal encoding (fitted in-fold) for high cardinality; tree models need no scaling.",
                     "Standardise numeric features for linear/neural models (fit the scaler on train only); add date parts and ratios where meaningful."],
        "augmentation": ["Tabular data rarely benefits from augmentation; prefer more data, class weights or SMOTE for minorities."],
        "eda": ["Profile every column: missing %, cardinality, skew; plot target rate per feature bucket to spot leakage (too-good features)."],
    },
    "image": {
        "cleaning": ["Verify every file decodes; check resolution, channels (grayscale vs RGB) and aspect ratio; remove near-duplicates with perceptual hashes, across splits too."],
        "features": ["Resize/crop to the model's input size and normalise with the backbone's mean/std (ImageNet stats for pretrained weights)."],
        "augmentation": ["Training augmentations: random resized crop, horizontal flip (if orientation does not carry the label), colour jitter, RandAugment/TrivialAugment; MixUp/CutMix for larger models.",
                         "No augmentation on validation/test beyond resize + centre crop."],
        "eda": ["Look at a grid of images per class, the class histogram, image size distribution and brightness; check for watermarks or borders that correlate with labels."],
    },
    "text": {
        "cleaning": ["Normalise unicode and whitespace, strip markup/boilerplate, deduplicate (exact + MinHash near-dup), detect language, remove or mask PII."],
        "features": ["Tokenise with the pretrained model's own tokenizer; choose max length from the token-length distribution (e.g. the 95th percentile)."],
        "augmentation": ["Text augmentation is weak: back-translation, synonym replacement or LLM paraphrases for minority classes; check a sample by hand."],
        "eda": ["Plot token lengths per class, top n-grams per class (spot label-revealing artefacts), vocabulary coverage of the tokenizer."],
    },
    "sequence": {
        "cleaning": ["Sort by timestamp; detect gaps, duplicated timestamps and clock shifts; resample to a regular frequency."],
        "missing": ["Fill short gaps by forward-fill/interpolation, mark long gaps with a mask channel; never fill using future values."],
        "features": ["Normalise with statistics from the training period only; window into fixed-length segments (stride < window for training)."],
        "augmentation": ["Jitter, scaling, time warping, window slicing/cropping; for audio: noise, time shift, SpecAugment masks."],
        "leakage": ["Time-ordered splits only: features and windows must end before the prediction time."],
        "eda": ["Plot series, seasonality (ACF/PACF), stationarity (ADF test), and sequence-length distribution."],
    },
    "graph": {
        "cleaning": ["Remove duplicate edges and unintended self-loops, check for isolated nodes and disconnected components, make edges undirected if the relation is symmetric."],
        "features": ["Normalise node features (row-normalise bag-of-words, standardise numeric); add degree / positional encodings when features are missing."],
        "augmentation": ["Graph augmentation: edge dropout (DropEdge), feature masking, subgraph sampling."],
        "leakage": ["For link prediction remove val/test edges from the message-passing graph; for node tasks keep the split masks fixed across runs."],
        "eda": ["Degree distribution, number of components, label homophily (edge fraction joining same-class nodes: low homophily favours GAT/GraphSAGE over GCN)."],
    },
    "text_generation": {
        "cleaning": ["Deduplicate documents (MinHash), filter low-quality/toxic text, remove PII, and drop any text that overlaps the evaluation sets (contamination)."],
        "features": ["Train or reuse a tokenizer (BPE); pack sequences to the context length with EOS separators."],
        "augmentation": ["No augmentation; mix data sources with explicit sampling weights instead."],
        "eda": ["Token count per source, language mix, document length distribution, duplicate rate."],
    },
    "image_generation": {
        "cleaning": ["Filter by resolution and quality, deduplicate (perceptual hash / embedding), remove unsafe content; centre-crop and resize to the training resolution."],
        "features": ["Scale pixels to [-1, 1]; for text-conditioning, clean and re-caption images."],
        "augmentation": ["Horizontal flips only where symmetry holds; avoid augmentations that leak into generated samples (rotations, colour shifts)."],
        "eda": ["Visual grid per source/class, resolution histogram, duplicate rate."],
    },
}

ORDER = ["eda", "cleaning", "missing", "leakage", "label_noise", "imbalance", "features", "augmentation"]
TITLES = {"eda": "Exploratory analysis", "cleaning": "Cleaning", "missing": "Missing values", "leakage": "Leakage",
          "label_noise": "Label noise", "imbalance": "Class imbalance", "features": "Preprocessing and features",
          "augmentation": "Augmentation"}


def _data_path(plan: Plan, context: dict) -> Optional[str]:
    if plan.data is not None and plan.data.data_path:
        return plan.data.data_path
    ds = result(context, "train_model").get("dataset_info") or {}
    src = ds.get("source")
    return src if src and ("/" in str(src) or "." in str(src)) and not str(src).startswith("sklearn") else None


def _profile_sections(prof: dict, steps: list[str]) -> list[Section]:
    """Sections reporting what the profile found."""
    cols = prof.get("columns") or []
    kinds: dict[str, list[str]] = {}
    for c in cols:
        kinds.setdefault(c["kind"], []).append(c["name"])
    overview = [f"{fmt_int(prof['rows'])} rows" + (f" x {len(cols)} columns" if cols else " (images)")
                + (f"; target '{prof['target']}'" if prof.get("target") else "; no target column named")]
    overview += [f"{k}: {', '.join(v)}" for k, v in sorted(kinds.items())]
    if prof.get("image_sizes"):
        overview.append("image sizes (sample): " + ", ".join(f"{k} x{v}" for k, v in prof["image_sizes"].items()))
    miss = [c for c in cols if c["missing"]]
    missing = [f"'{c['name']}' ({c['kind']}): {c['missing']} missing ({c['missing_pct']:g}%)" for c in miss] or \
        ["no missing values"]
    dups = [f"{prof['duplicate_rows']} exact duplicate rows" if prof.get("duplicate_rows") else "no exact duplicate rows"]
    if prof.get("duplicate_rows_ignoring_ids"):
        dups.append(f"{prof['duplicate_rows_ignoring_ids']} rows repeat once the ID-like columns are ignored")
    leaks = [f"'{c}' looks like an ID (unique per row)" for c in prof.get("id_like") or []]
    leaks += [f"'{l['column']}' {l['why']}" for l in prof.get("leaks") or []]
    out = [Section(title=f"Profile of {prof['path']}", items=overview), Section(title="Missing values", items=missing),
           Section(title="Duplicates", items=dups), Section(title="Leakage hints", items=leaks or ["none found"])]
    bal = prof.get("class_balance")
    if bal:
        out.append(Section(title="Class balance", items=[
            ", ".join(f"{k}: {v}" for k, v in list(bal["counts"].items())[:12])
            + f" (minority {bal['minority_share']:.1%}, majority {bal['majority_share']:.1%})"]))
    out.append(Section(title="Preparation steps I would apply", items=steps or ["nothing to fix: split, then train"]))
    return out


def _checklist(plan: Plan, modality: Optional[str], task: str, requested: list[str]) -> tuple[list[Section], list[str]]:
    order = requested + [t for t in ORDER if t not in requested]
    if task == "generation" and "imbalance" not in requested:
        order.remove("imbalance")
    per_mod = BY_MODALITY.get(modality or "", {})
    sections = []
    for topic in order:
        items = per_mod.get(topic, []) + GENERIC[topic]
        if items:
            sections.append(Section(title=TITLES[topic] + (" (requested)" if topic in requested else ""), items=items))
    checklist = [f"[{TITLES[t]}] {(per_mod.get(t) or GENERIC[t])[0]}" for t in order if (per_mod.get(t) or GENERIC[t])]
    return sections, checklist


@register_peer("PRISM", standin=True)
def prism(plan: Plan, context: dict[str, Any]) -> PeerReply:
    """Profile the turn's data file (when there is one) and the preparation steps; the modality checklist."""
    from tensor_agent.peers.profile import preparation_steps, profile_data

    context = context or {}
    modality = modality_of(plan, context)
    task = task_of(plan, modality, context)
    requested = list(dict.fromkeys(PLAN_TOPICS[t] for t in plan.topics if t in PLAN_TOPICS))
    path = _data_path(plan, context)
    prof = profile_data(path, plan.data.target_column if plan.data else None) if path else None
    if prof is not None and modality is None:
        modality = "image" if prof["kind"] == "images" else "tabular"
    neural = plan.architecture not in (None, "xgboost")
    steps = preparation_steps(prof, neural=neural) if prof else []
    checklist_sections, checklist = _checklist(plan, modality, task, requested)
    sections = _profile_sections(prof, steps) if prof else []
    sections += checklist_sections if not prof else [s for s in checklist_sections if "(requested)" in s.title]
    n, _ = (prof["rows"], "profile") if prof else dataset_size(plan, context)
    k = (prof.get("class_balance") or {}).get("classes") if prof else num_classes(plan, context)
    if n is not None and k:
        sections.insert(0 if not prof else 1, Section(title="Data volume", items=[
            f"{fmt_int(n)} examples over {k} classes = ~{fmt_int(n / k)} per class"
            + (" (thin: prefer transfer learning and strong augmentation)" if n / k < 100 else ".")]))
    if prof:
        found = [f"{sum(1 for c in prof['columns'] if c['missing'])} column(s) with missing values"
                 if any(c["missing"] for c in prof["columns"]) else "", f"{prof['duplicate_rows']} duplicate rows"
                 if prof["duplicate_rows"] else "", "leaking column(s) " + ", ".join(l["column"] for l in prof["leaks"])
                 if prof["leaks"] else "", "ID-like " + ", ".join(prof["id_like"]) if prof["id_like"] else ""]
        summary = (f"Profiled {prof['path']} ({fmt_int(prof['rows'])} rows): " + ("; ".join(f for f in found if f)
                   or "no missing values, duplicates or leakage found") + f". {len(steps)} preparation step(s) proposed.")
    else:
        focus = ", ".join(TITLES[t].lower() for t in requested) if requested else "the full checklist"
        what = (modality or "the").replace("_", " ") + f" {task.replace('_', ' ')}"
        summary = (f"Data preparation for {what}: {focus}; split first, fit every transform on train only. "
                   "Pass data_path=<file> and I will profile the data itself.")
        if modality is None:
            sections.append(Section(title="Modality", items=[
                "The data type is not known from the plan: the checklist is generic. Give data_path=<file or "
                "folder> (or name the modality) for specific steps."]))
    return PeerReply(
        peer="PRISM", summary=summary, sections=sections,
        recommendations=(steps or checklist)[:6],
        data={"modality": modality, "task": task, "requested_topics": requested, "checklist": checklist,
              "dataset_size": n, "num_classes": k, "profile": prof, "steps": steps},
    )
