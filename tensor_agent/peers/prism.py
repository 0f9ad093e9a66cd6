"""PRISM stand-in: a data preparation checklist for the plan's modality.

Covers cleaning, missing values, imbalance, augmentation, leakage, label noise and EDA;
what the message asks about explicitly comes first and is marked as requested.
"""

from __future__ import annotations

from typing import Any

from tensor_agent.peers.common import dataset_size, fmt_int, has, modality_of, num_classes, task_of, text_of
from tensor_agent.peers.registry import PeerReply, Section, register_peer
from tensor_agent.schema import Plan

#: topic -> regexes that say the user asked about it.
TOPICS: dict[str, tuple[str, ...]] = {
    "missing": (r"missing", r"\bnan", r"\bnull", r"imput\w*", r"\bgaps?\b"),
    "imbalance": (r"imbalanc\w*", r"\bskew\w*", r"\brare\b", r"minority", r"oversampl\w*", r"smote"),
    "cleaning": (r"\bclean\w*", r"\bdirty", r"duplicate\w*", r"outlier\w*", r"\bnois\w*", r"preprocess\w*"),
    "augmentation": (r"augment\w*",),
    "label_noise": (r"label nois\w*", r"mislabel\w*", r"noisy label\w*", r"annotation (error|quality)\w*"),
    "leakage": (r"leak\w*",),
    "eda": (r"\beda\b", r"explor\w* (data )?analys\w*", r"\banaly[sz]\w*", r"distribution\w*", r"profil\w*"),
    "features": (r"feature engineer\w*", r"\bfeatures?\b", r"\bencod\w*", r"\bscal\w*", r"normali[sz]\w*"),
}

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


@register_peer("PRISM", standin=True)
def prism(plan: Plan, context: dict[str, Any]) -> PeerReply:
    """Data preparation checklist for the plan's modality, requested topics first."""
    text = text_of(plan)
    modality = modality_of(plan, context)
    task = task_of(plan, modality)
    n, _ = dataset_size(plan, context)
    k = num_classes(plan, context)
    requested = [t for t in ORDER if has(text, *TOPICS[t])]
    order = requested + [t for t in ORDER if t not in requested]
    if task in ("generation",) and "imbalance" in order and "imbalance" not in requested:
        order.remove("imbalance")
    per_mod = BY_MODALITY.get(modality or "", {})
    sections = []
    for topic in order:
        items = per_mod.get(topic, []) + GENERIC[topic]
        if not items:
            continue
        title = TITLES[topic] + (" (requested)" if topic in requested else "")
        sections.append(Section(title=title, items=items))
    checklist = [f"[{TITLES[t]}] {(per_mod.get(t) or GENERIC[t])[0]}" for t in order if (per_mod.get(t) or GENERIC[t])]
    if n is not None and k:
        per_class = n / k
        sections.insert(0, Section(title="Data volume", items=[
            f"{fmt_int(n)} examples over {k} classes = ~{fmt_int(per_class)} per class"
            + (" (thin: prefer transfer learning and strong augmentation)" if per_class < 100 else ".")]))
    focus = ", ".join(TITLES[t].lower() for t in requested) if requested else "the full checklist"
    what = task.replace("_", " ") if modality is None else (
        modality.replace("_", " ") if task == "generation" else f"{modality} {task.replace('_', ' ')}")
    summary = f"Data preparation for {what}: {focus}; split first, fit every transform on train only."
    if modality is None:
        sections.append(Section(title="Modality", items=[
            "The data type is not clear from the request: the checklist is generic. Say whether it is a table, "
            "images, text, time series or a graph for specific steps."]))
    return PeerReply(
        peer="PRISM",
        summary=summary,
        sections=sections,
        recommendations=checklist[:6],
        data={"modality": modality, "task": task, "requested_topics": requested, "checklist": checklist,
              "dataset_size": n, "num_classes": k},
    )
