"""AXIOM stand-in: the mathematics of the techniques the plan asks about, and the trade-offs between them.

AXIOM answers the topics the planner read from the message (`plan.topics`, in message order: see
tensor_agent/planner/topics.py), then the training settings, techniques and architecture the plan
carries. Every topic of the planner's TOPIC_PATTERNS has an entry here (a test checks it): formulas,
what they mean, the trade-off and when to prefer it. When the plan names two techniques of the same kind
(two optimizers, two schedules, ...) AXIOM compares them, naming both sides. It never reads `plan.text`.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tensor_agent.catalogue import FAMILIES
from tensor_agent.peers.common import techniques
from tensor_agent.peers.registry import PeerReply, Section, register_peer
from tensor_agent.schema import Plan

#: topic -> entry. One entry per topic of tensor_agent/planner/topics.py TOPIC_PATTERNS (a test checks it),
#: plus `backprop` (the default for an MLP or a question without a named technique).
ENTRIES: dict[str, dict[str, Any]] = {
    # ---------------------------------------------------------------- optimizers
    "sgd": dict(
        title="SGD with momentum", group="optimizer",
        formulas=["v_t = μ v_{t−1} + g_t,   θ_t = θ_{t−1} − η v_t",
                  "Nesterov: g_t evaluated at the look-ahead point θ_{t−1} − η μ v_{t−1}"],
        notes=["Momentum μ = 0.9 averages ≈ 1/(1−μ) = 10 past gradients.",
               "One global step size: needs a tuned learning rate and a schedule; memory is one buffer per weight."],
        trade_off="Cheapest state (one buffer) and often the best generalisation for CNNs, but sensitive to the "
                  "learning rate and slow on badly scaled or sparse gradients.",
        when="large CNN training with a tuned schedule, or when Adam-style methods generalise worse"),
    "adam": dict(
        title="Adam", group="optimizer",
        formulas=["m_t = β₁ m_{t−1} + (1 − β₁) g_t",
                  "v_t = β₂ v_{t−1} + (1 − β₂) g_t²",
                  "m̂_t = m_t / (1 − β₁ᵗ),   v̂_t = v_t / (1 − β₂ᵗ)",
                  "θ_t = θ_{t−1} − η · m̂_t / (√v̂_t + ε)"],
        notes=["Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e−8; the bias correction matters in the first ~1/(1−β₂) steps.",
               "The per-coordinate step is ≈ η in magnitude whatever the gradient scale (adaptive learning rates)."],
        trade_off="Robust to the learning rate and to badly scaled gradients, at two buffers per weight; with L2 in "
                  "the loss the penalty is rescaled by √v̂, so regularisation is uneven (see AdamW).",
        when="new models and sparse or badly scaled gradients (a forgiving default)"),
    "adamw": dict(
        title="AdamW (decoupled weight decay)", group="optimizer",
        formulas=["m_t = β₁ m_{t−1} + (1 − β₁) g_t,   v_t = β₂ v_{t−1} + (1 − β₂) g_t²  (bias-corrected m̂_t, v̂_t)",
                  "θ_t = θ_{t−1} − η ( m̂_t / (√v̂_t + ε) + λ θ_{t−1} )"],
        notes=["In Adam with L2, the penalty λθ is added to g and then divided by √v̂: heavily-updated weights are barely "
               "regularised. AdamW applies λθ outside the adaptive scaling (Loshchilov & Hutter).",
               "Typical λ = 0.01-0.1; exclude biases and normalisation gains from the decay."],
        trade_off="Adam's robustness with weight decay that behaves like true L2 shrinkage; the per-layer step is not "
                  "normalised, so very large batches (≫ 4k) need long warm-up or become unstable.",
        when="transformers and fine-tuning at ordinary batch sizes (the standard choice)"),
    "lamb": dict(
        title="LAMB (layer-wise adaptive large-batch optimisation)", group="optimizer",
        formulas=["r_t = m̂_t / (√v̂_t + ε) + λ θ_{t−1}   (the AdamW direction with decoupled decay)",
                  "trust ratio τ_l = φ(‖θ_l‖) / ‖r_l‖   per layer l  (φ often the identity, clipped)",
                  "θ_l ← θ_l − η · τ_l · r_l"],
        notes=["The trust ratio makes each layer's step proportional to its weight norm, which keeps training stable at "
               "batch sizes of 32k+ (BERT pre-training in 76 minutes).",
               "At small batches the trust ratio mostly adds noise: AdamW is as good and simpler."],
        trade_off="Scales to huge batches with little warm-up by normalising each layer's step, at the cost of two "
                  "extra norms per layer per step and no benefit at ordinary batch sizes.",
        when="data-parallel pre-training with batches of thousands of examples"),
    # ---------------------------------------------------------------- schedules
    "cosine": dict(
        title="Cosine annealing", group="schedule",
        formulas=["η_t = η_min + ½ (η_max − η_min) (1 + cos(π t / T))"],
        notes=["Decays smoothly from η_max to η_min over T steps; no milestones to tune.",
               "Often combined with a linear warm-up of a few hundred steps for transformers."],
        trade_off="Smooth decay with only T to set; it commits to a training length in advance.",
        when="a fixed training budget"),
    "cosine_warm_restarts": dict(
        title="Cosine annealing with warm restarts (SGDR)", group="schedule",
        formulas=["η_t = η_min + ½ (η_max − η_min) (1 + cos(π T_cur / T_i))",
                  "T_cur resets to 0 after T_i epochs (a restart), then T_{i+1} = T_mult · T_i"],
        notes=["Each restart jumps back to η_max: the model leaves a sharp minimum and can settle in a flatter one; "
               "the end of every cycle is a good checkpoint (snapshot ensembles).",
               "With T_0 = 10 and T_mult = 2 the cycles end at epochs 10, 30, 70, 150."],
        trade_off="Anytime schedule with periodic exploration and free snapshot ensembles, but the loss jumps at each "
                  "restart and training must stop at a cycle end to be at a low learning rate.",
        when="an unknown or open-ended training length, or when snapshot ensembles are wanted"),
    "step": dict(
        title="Step decay", group="schedule",
        formulas=["η_t = η₀ · γ^{⌊t / s⌋}   (or γ at chosen milestones)"],
        notes=["Step decay with γ = 0.1 at 50% and 75% of training is the classic ResNet recipe.",
               "Loss curves show a sharp drop right after each decay."],
        trade_off="Simple and well understood, but the milestones and γ are extra hyper-parameters and the abrupt "
                  "drops can end training in a sharper minimum than a smooth schedule.",
        when="reproducing a known recipe, or when the milestones are already tuned"),
    "exponential": dict(
        title="Exponential decay", group="schedule",
        formulas=["η_t = η₀ · γ^{t},   0 < γ < 1   (half-life ln 2 / −ln γ steps)"],
        notes=["γ = 0.95 per epoch halves the learning rate every ~13.5 epochs."],
        trade_off="One parameter and smooth, but the learning rate keeps shrinking geometrically, so a badly chosen γ "
                  "either stalls training early or never decays enough.",
        when="long trainings where a steady geometric decay is wanted"),
    "warmup": dict(
        title="Learning-rate warm-up", group="schedule",
        formulas=["η_t = η_max · t / T_w  for t < T_w, then the main schedule"],
        notes=["Adam's v̂ is a poor estimate in the first steps and transformer LayerNorm gradients are large: a short "
               "warm-up (1-5% of steps) avoids early divergence."],
        trade_off="Stabilises the first steps of adaptive optimizers and large batches at the cost of a few slow steps.",
        when="transformers, large batches, or large peak learning rates"),
    # ---------------------------------------------------------------- regularisers
    "dropout": dict(
        title="Dropout", group="regulariser",
        formulas=["h̃ = (m ⊙ h) / (1 − p),   m_i ~ Bernoulli(1 − p)"],
        notes=["Scaling by 1/(1−p) during training (inverted dropout) makes inference a no-op.",
               "p = 0.1 for transformers, 0.2-0.5 for MLP heads."],
        trade_off="Cheap ensemble-like regularisation, but slows convergence and interacts badly with BatchNorm "
                  "statistics when both sit in the same block.",
        when="over-fitting MLPs and transformer blocks"),
    "l1": dict(
        title="L1 penalty (lasso)", group="regulariser",
        formulas=["L' = L + λ ‖θ‖₁,   ∂/∂θ_i = ∂L/∂θ_i + λ sign(θ_i)   (proximal step: soft-threshold by ηλ)"],
        notes=["The constant-size pull drives small weights to exactly 0: sparse, feature-selecting models."],
        trade_off="Sparse, interpretable weights, but not differentiable at 0 and it shrinks large weights as much as "
                  "small ones (biased estimates).",
        when="sparse models and feature selection"),
    "l2": dict(
        title="L2 penalty / weight decay", group="regulariser",
        formulas=["L' = L + (λ/2) ‖θ‖²,   ∂/∂θ = ∂L/∂θ + λ θ   (SGD: θ ← (1 − ηλ) θ − η g)"],
        notes=["With SGD, L2 and weight decay are the same; with Adam they are not (use AdamW's decoupled decay)."],
        trade_off="Smoothly shrinks all weights (no sparsity); easy to optimise, but the right λ depends on the "
                  "optimizer and learning rate.",
        when="almost every model (the default regulariser)"),
    "batchnorm": dict(
        title="Batch normalisation", group="normalisation",
        formulas=["x̂ = (x − μ_B) / √(σ_B² + ε),  y = γ x̂ + β   (μ_B, σ_B² over the batch, per channel)",
                  "inference: running averages μ ← (1−m) μ + m μ_B (same for σ²)"],
        notes=["With few batches the running statistics never settle and eval-mode accuracy collapses: recompute them "
               "over the training data.", "Fold it into the preceding convolution before quantizing."],
        trade_off="Speeds up and stabilises CNN training, but depends on the batch (bad at batch sizes < 8, different "
                  "in train and eval mode).",
        when="CNNs with reasonable batch sizes"),
    "layernorm": dict(
        title="Layer normalisation", group="normalisation",
        formulas=["x̂ = (x − μ) / √(σ² + ε),  y = γ x̂ + β   (μ, σ² over the features of each example)"],
        notes=["Independent of the batch: identical in training and inference; the standard in transformers "
               "(pre-LN blocks train more stably than post-LN)."],
        trade_off="Batch-independent and simple at inference, but normalises less effectively than BatchNorm for CNNs.",
        when="transformers, RNNs and small or variable batches"),
    "early_stopping": dict(
        title="Early stopping", group="regulariser",
        formulas=["stop at the first epoch e with min_{e' ∈ (e−P, e]} L_val(e') > min_{e' ≤ e−P} L_val(e')  (patience P)",
                  "return θ at argmin_e L_val(e)"],
        notes=["For gradient descent on a quadratic loss, stopping after t steps acts like L2 with λ ≈ 1/(η t)."],
        trade_off="Free regularisation that also saves time, but needs a validation split and can stop too early on "
                  "noisy curves (set the patience to a few epochs).",
        when="any training with a validation split"),
    # ---------------------------------------------------------------- compression and transfer
    "quantization": dict(
        title="Quantization (affine INT8)", group="compression",
        formulas=["q = clamp(round(x / s) + z, q_min, q_max),   x̂ = s (q − z)",
                  "s = (x_max − x_min) / (q_max − q_min),   z = q_min − round(x_min / s)",
                  "symmetric: z = 0, s = max|x| / 127"],
        notes=["Rounding error per value ≤ s/2; per-channel scales for weights keep s small.",
               "QAT inserts fake-quantize x̂ in the forward pass and uses the straight-through estimator ∂x̂/∂x ≈ 1 "
               "inside the range."],
        trade_off="4x smaller weights and 1.5-3x faster CPU inference for a small accuracy loss; static INT8 needs "
                  "calibration data, QAT needs retraining.",
        when="CPU/edge deployment where size and latency matter"),
    "pruning": dict(
        title="Pruning", group="compression",
        formulas=["magnitude: mask_ij = 1[|w_ij| > τ],  τ = the s-quantile of |w| for sparsity s",
                  "structured (channel c): importance ‖W_c‖₁ or ‖W_c‖₂; remove the lowest and its dependent inputs",
                  "lottery ticket: train → prune p% → rewind survivors to θ₀ (or θ_k) → retrain; repeat"],
        notes=["Unstructured sparsity shrinks storage (compressed) but not dense-kernel latency; structured pruning "
               "does both."],
        trade_off="Removes parameters with little loss after fine-tuning; unstructured pruning rarely speeds up dense "
                  "hardware, structured pruning does but loses more accuracy per removed weight.",
        when="over-parameterised models with a fine-tuning budget"),
    "distillation": dict(
        title="Knowledge distillation", group="compression",
        formulas=["p_i^T = softmax(z_i / T)",
                  "L = α · T² · KL(p^T_teacher ‖ p^T_student) + (1 − α) · CE(y, softmax(z_student))"],
        notes=["The T² factor keeps the soft-target gradients' scale independent of the temperature; T = 2-4, "
               "α = 0.5-0.9."],
        trade_off="Any smaller architecture can be the student and it learns from the teacher's dark knowledge, but "
                  "it costs a full training run plus teacher inference.",
        when="a much smaller or faster architecture than pruning/quantization can give"),
    "lora": dict(
        title="LoRA (low-rank adaptation)", group="transfer",
        formulas=["W' = W₀ + ΔW = W₀ + (α / r) · B A,   B ∈ ℝ^{d×r}, A ∈ ℝ^{r×k}, r ≪ min(d, k)",
                  "h = W₀ x + (α / r) · B (A x)   (W₀ frozen; only A, B trained)",
                  "trainable params per matrix: r (d + k) instead of d k"],
        notes=["A is initialised Gaussian and B = 0, so ΔW = 0 at the start and training begins from the pretrained model.",
               "For d = k = 768 and r = 8: 12,288 trainable parameters instead of 589,824 (2.1%).",
               "After training, merge W = W₀ + (α/r) B A: no inference overhead."],
        trade_off="Fine-tunes ~1-2% of the parameters with no inference cost once merged, but the low rank can cap "
                  "quality on tasks far from pre-training.",
        when="fine-tuning large pretrained models on little memory"),
    "adapter": dict(
        title="Adapter modules", group="transfer",
        formulas=["h ← h + W_up · σ(W_down · h),   W_down ∈ ℝ^{m×d}, W_up ∈ ℝ^{d×m}, m ≪ d"],
        notes=["A bottleneck MLP with a residual connection after attention/FFN; W_up starts at 0 so the block is the "
               "identity.", "Trainable parameters per block: 2 d m (+ biases)."],
        trade_off="Small per-task modules that can be swapped, but they add layers (and latency) at inference, unlike "
                  "merged LoRA.",
        when="many tasks sharing one frozen backbone"),
    # ---------------------------------------------------------------- architectures
    "attention": dict(
        title="Scaled dot-product attention", group="architecture",
        formulas=["Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V,   Q = X W_Q, K = X W_K, V = X W_V",
                  "MultiHead(X) = Concat(head₁, …, head_h) W_O",
                  "cost: O(n² d) time and O(n²) memory in the sequence length n"],
        notes=["Dividing by √d_k keeps the logits' variance ≈ 1, so the softmax does not saturate.",
               "M is the mask: −∞ above the diagonal for causal (GPT) decoders, 0 for bidirectional (BERT) encoders."],
        trade_off="Any token can attend to any other in one step (long-range, parallel), at a cost quadratic in the "
                  "sequence length.",
        when="sequences up to a few thousand tokens where global context matters"),
    "transformer": dict(
        title="Transformer block", group="architecture",
        formulas=["X' = X + MultiHead(LN(X))   (pre-LN residual attention)",
                  "Y = X' + W₂ GELU(W₁ LN(X') + b₁) + b₂   (position-wise FFN, usually 4d wide)",
                  "positions: sinusoidal PE(p, 2i) = sin(p / 10000^{2i/d}) or learned / rotary embeddings",
                  "params per block ≈ 12 d² (4 d² attention + 8 d² FFN)"],
        notes=["Encoders (BERT) see the whole input; decoders (GPT) are causal; encoder-decoders (T5) add cross-attention."],
        trade_off="Scales best with data and compute and transfers well from pre-training, but is data-hungry from "
                  "scratch and quadratic in sequence length.",
        when="text, and images or sequences with enough data or a pretrained checkpoint"),
    "convolution": dict(
        title="Convolution", group="architecture",
        formulas=["y[c_out, i, j] = b[c_out] + Σ_{c_in} Σ_{u,v} w[c_out, c_in, u, v] · x[c_in, i·s + u − p, j·s + v − p]",
                  "output size: H_out = ⌊(H + 2p − k) / s⌋ + 1",
                  "params: C_out · C_in · k² (+ C_out); MACs: params × H_out × W_out",
                  "residual block (ResNet): y = F(x) + x"],
        notes=["Weight sharing and locality give translation equivariance; pooling/stride grows the receptive field.",
               "Depthwise-separable convolution (EfficientNet/MobileNet) costs C_in k² + C_in C_out instead of C_in C_out k²."],
        trade_off="Strong locality prior: data-efficient and fast on small images, but global context only through "
                  "depth (a limited receptive field).",
        when="images, especially small datasets and edge devices"),
    "diffusion": dict(
        title="Diffusion models (DDPM / DDIM)", group="architecture",
        formulas=["forward: q(x_t | x_{t−1}) = 𝒩(√(1−β_t) x_{t−1}, β_t I);   q(x_t | x₀) = 𝒩(√ᾱ_t x₀, (1−ᾱ_t) I),  ᾱ_t = Π_{s≤t}(1−β_s)",
                  "training loss: L = E_{t, x₀, ε} ‖ε − ε_θ(√ᾱ_t x₀ + √(1−ᾱ_t) ε, t)‖²",
                  "reverse: x_{t−1} = (1/√α_t) (x_t − (β_t/√(1−ᾱ_t)) ε_θ(x_t, t)) + σ_t z,  z ~ 𝒩(0, I)"],
        notes=["DDIM makes the reverse process deterministic and lets you skip steps (e.g. 50 instead of 1000)."],
        trade_off="Stable training and high sample quality and diversity, but sampling needs tens to thousands of "
                  "network evaluations.",
        when="image generation where quality matters more than sampling speed"),
    "state_space": dict(
        title="State space models (S4 / Mamba)", group="architecture",
        formulas=["continuous: h'(t) = A h(t) + B x(t),  y(t) = C h(t) + D x(t)",
                  "discretised (zero-order hold, step Δ): Ā = exp(ΔA),  B̄ = (ΔA)^{−1}(exp(ΔA) − I) ΔB",
                  "recurrence: h_t = Ā h_{t−1} + B̄ x_t,  y_t = C h_t",
                  "Mamba (selective): Δ, B, C depend on x_t; computed with a parallel scan in O(n) time"],
        notes=["Linear in sequence length (attention is quadratic), with constant memory per step at inference."],
        trade_off="Linear time and constant-memory inference on very long sequences, but exact recall of arbitrary "
                  "earlier tokens is harder than with attention and tooling is younger.",
        when="long sequences (thousands of steps): audio, genomics, sensor logs"),
    "gnn": dict(
        title="Graph neural networks (GCN, GAT, GraphSAGE)", group="architecture",
        formulas=["GCN: H^{(l+1)} = σ( D̃^{−½} Ã D̃^{−½} H^{(l)} W^{(l)} ),   Ã = A + I,  D̃_ii = Σ_j Ã_ij",
                  "GAT: α_ij = softmax_j(LeakyReLU(aᵀ[W h_i ‖ W h_j])),  h_i' = σ(Σ_j α_ij W h_j)",
                  "GraphSAGE: h_i' = σ( W · [h_i ‖ AGG({h_j : j ∈ S(i)})] ),  S(i) a sampled neighbourhood"],
        notes=["Each layer mixes one more hop of neighbours; 2-3 layers are typical (deeper over-smooths).",
               "GraphSAGE's sampling makes it inductive (unseen nodes) and scalable to large graphs."],
        trade_off="Uses the graph structure directly; deeper models over-smooth, and full-graph training needs the "
                  "whole graph in memory (sampling trades exactness for scale).",
        when="node, edge or graph prediction where relations carry signal"),
    "xgboost": dict(
        title="Gradient boosting (XGBoost)", group="architecture",
        formulas=["ŷ_i = Σ_k f_k(x_i),  objective = Σ_i l(y_i, ŷ_i) + Σ_k (γ T_k + ½ λ ‖w_k‖²)",
                  "second-order step: g_i = ∂l/∂ŷ, h_i = ∂²l/∂ŷ²;  optimal leaf weight w_j* = −G_j / (H_j + λ)",
                  "split gain = ½ [G_L²/(H_L+λ) + G_R²/(H_R+λ) − (G_L+G_R)²/(H_L+H_R+λ)] − γ"],
        notes=["Each tree fits the negative gradient of the loss; shrinkage η (0.05-0.3) trades trees for generalisation.",
               "Missing values get a learned default direction at every split."],
        trade_off="State of the art on tabular data with little tuning and native missing values, but it does not "
                  "learn representations of images, text or sequences.",
        when="tabular data"),
    "backprop": dict(
        title="Backpropagation and cross-entropy", group="architecture",
        formulas=["L = −Σ_c y_c log softmax(z)_c;   ∂L/∂z = softmax(z) − y",
                  "chain rule per layer: δ^{(l)} = (W^{(l+1)ᵀ} δ^{(l+1)}) ⊙ σ'(a^{(l)}),  ∂L/∂W^{(l)} = δ^{(l)} h^{(l−1)ᵀ}"],
        notes=["The softmax-cross-entropy gradient is simply prediction minus target."],
        trade_off="Exact gradients at about twice the cost of a forward pass, but all activations must be kept in "
                  "memory (checkpointing trades compute for memory).",
        when="training any differentiable model"),
    # ---------------------------------------------------------------- data issues
    "augmentation": dict(
        title="Data augmentation and MixUp", group="data",
        formulas=["empirical risk over transformed inputs: L = E_{(x,y)} E_{τ ~ 𝒯} ℓ(f(τ(x)), y)",
                  "MixUp: x̃ = λ x_i + (1 − λ) x_j,  ỹ = λ y_i + (1 − λ) y_j,  λ ~ Beta(α, α)"],
        notes=["Transformations must keep the label valid (no horizontal flips for digits or text in images)."],
        trade_off="More effective data and invariances for free, but slower epochs, and wrong transformations teach "
                  "wrong invariances.",
        when="small image/audio datasets"),
    "label_noise": dict(
        title="Label noise", group="data",
        formulas=["noisy labels: P(ỹ = j | y = i) = T_ij  (noise transition matrix T)",
                  "forward correction: ℓ(Tᵀ softmax(z), ỹ);   label smoothing: y_LS = (1 − ε) y + ε / K"],
        notes=["Confident learning flags examples whose out-of-fold predicted probability for the given label is low."],
        trade_off="Correcting for noise recovers accuracy when T is known or estimable; smoothing is cheap but also "
                  "softens correct labels.",
        when="crowd-sourced or weakly labelled data"),
    "class_imbalance": dict(
        title="Class imbalance", group="data",
        formulas=["weighted cross-entropy: L = −Σ_i w_{y_i} log p_{y_i},  w_c = N / (K · N_c)",
                  "focal loss: FL(p_t) = −(1 − p_t)^γ log p_t,  γ ≈ 2",
                  "decision threshold: predict 1 when p ≥ τ, τ chosen on validation for the cost of errors"],
        notes=["Accuracy is misleading under imbalance: report PR-AUC / macro-F1 and per-class recall."],
        trade_off="Re-weighting or resampling raises minority recall at the cost of precision and calibration; "
                  "threshold tuning changes nothing about the model itself.",
        when="data with a minority class under ~10%"),
}

#: The maths topic of each architecture family (a test checks every catalogue family has one).
FAMILY_TOPICS: dict[str, str] = {
    "xgboost": "xgboost", "mlp": "backprop", "cnn": "convolution", "resnet": "convolution",
    "efficientnet": "convolution", "convnext": "convolution", "vit": "attention", "bert": "transformer",
    "gpt": "transformer", "t5": "transformer", "mamba": "state_space", "diffusion": "diffusion",
    "gcn": "gnn", "gat": "gnn", "graphsage": "gnn",
}
#: Techniques of the plan (`plan.techniques`) -> topic.
TECHNIQUE_TOPICS: dict[str, str] = {
    "int8": "quantization", "dynamic_int8": "quantization", "static_int8": "quantization", "qat": "quantization",
    "onnx_int8": "quantization", "quantization": "quantization", "pruning": "pruning",
    "structured_pruning": "pruning", "lottery_ticket": "pruning", "distillation": "distillation",
    "lora": "lora", "adapter": "adapter",
}
#: What is specific to a head-to-head comparison (beyond each side's own trade-off).
PAIRS: dict[frozenset, str] = {
    frozenset({"lamb", "adamw"}): "LAMB is AdamW plus a per-layer trust ratio ‖θ_l‖ / ‖r_l‖: identical direction, "
        "different step length per layer. Below batch ~4k the ratio adds nothing and AdamW is simpler; at 8k-64k "
        "AdamW needs very long warm-up or diverges while LAMB trains with the linear-scaled learning rate.",
    frozenset({"cosine_warm_restarts", "step"}): "Step decay lowers η in a few abrupt jumps at fixed milestones "
        "(η₀ γ^{⌊t/s⌋}); cosine with restarts lowers it smoothly within each cycle and jumps back up at every restart "
        "(T_i growing by T_mult). Step needs the milestones tuned to the run length; SGDR needs T_0/T_mult and yields "
        "a checkpoint at every cycle end.",
    frozenset({"cosine", "step"}): "Both decay η over a fixed run: step in discrete drops (milestones and γ to tune), "
        "cosine smoothly with only T; at equal budget cosine usually matches or beats a tuned step schedule.",
    frozenset({"cosine", "cosine_warm_restarts"}): "Plain cosine anneals once over the whole run; warm restarts repeat "
        "the anneal in cycles, trading a smooth curve for exploration and anytime checkpoints.",
    frozenset({"adam", "sgd"}): "Adam adapts a step per coordinate (m̂/√v̂) and converges fast with little tuning; "
        "SGD+momentum uses one global step and often generalises better on vision tasks once tuned.",
    frozenset({"adam", "adamw"}): "Same moments; Adam puts the L2 term inside the gradient (rescaled by 1/√v̂), AdamW "
        "decays the weights directly (−ηλθ), which regularises every weight evenly.",
    frozenset({"sgd", "adamw"}): "AdamW's adaptive steps converge faster on transformers; SGD+momentum is cheaper "
        "(one buffer) and the classic choice for CNNs.",
    frozenset({"l1", "l2"}): "L1's constant pull (λ sign θ) zeroes small weights (sparsity); L2's proportional pull "
        "(λθ) shrinks all weights smoothly and never to exactly zero.",
    frozenset({"batchnorm", "layernorm"}): "BatchNorm normalises over the batch (per channel) and behaves differently "
        "in eval mode; LayerNorm normalises over each example's features and is batch-independent.",
    frozenset({"quantization", "pruning"}): "Quantization keeps every weight at lower precision (4x smaller, faster "
        "integer kernels); pruning removes weights (sparsity), and only structured pruning speeds up dense kernels.",
    frozenset({"pruning", "distillation"}): "Pruning shrinks the trained network in place; distillation trains a new, "
        "smaller architecture to imitate it: more freedom, more training.",
    frozenset({"quantization", "distillation"}): "Quantization is post-training and cheap (4x smaller); distillation "
        "changes the architecture and needs a training run, and the two combine.",
    frozenset({"lora", "adapter"}): "LoRA adds a low-rank update to existing weight matrices and merges away; adapters "
        "add bottleneck layers that stay in the network at inference.",
    frozenset({"attention", "state_space"}): "Attention compares all token pairs (O(n²)); a state space model carries "
        "a fixed-size state through a linear recurrence (O(n)) and scales to far longer sequences.",
    frozenset({"transformer", "state_space"}): "Transformers are quadratic in length but recall any earlier token "
        "directly; Mamba-style SSMs are linear and constant-memory at inference but compress history into a state.",
    frozenset({"convolution", "attention"}): "Convolutions mix a local window with shared weights (strong prior, "
        "data-efficient); attention mixes all positions with input-dependent weights (global, data-hungry).",
    frozenset({"convolution", "transformer"}): "CNNs bring locality and translation equivariance (good with little "
        "data); vision transformers learn them from data and win with large datasets or pre-training.",
}


def pick_topics(plan: Plan) -> list[str]:
    """Topics in order: those the message asks about (plan.topics), then the plan's settings, techniques and
    architecture; the basics when there is none."""
    picked = [t for t in plan.topics if t in ENTRIES]
    s = plan.settings
    extra = [s.optimizer, s.schedule if s.schedule != "constant" else None, "warmup" if s.warmup_epochs else None,
             "dropout" if s.dropout else None, "l1" if s.l1 else None, "l2" if s.weight_decay else None,
             "early_stopping" if s.patience else None]
    extra += [TECHNIQUE_TOPICS.get(t) for t in techniques(plan)]
    extra += [str(plan.constraint(n) or "").lower() or None for n in ("optimizer", "schedule")]
    extra.append(FAMILY_TOPICS.get(plan.architecture or ""))
    for topic in extra:
        if topic in ENTRIES and topic not in picked:
            picked.append(topic)
    return picked or ["backprop", "adam"]


def comparisons(topics: list[str], asked: list[str]) -> list[tuple[str, str]]:
    """Pairs of asked topics of the same kind, in message order (each consecutive pair in a group)."""
    groups: dict[str, list[str]] = {}
    for t in topics:
        if t in asked:
            groups.setdefault(ENTRIES[t]["group"], []).append(t)
    return [pair for members in groups.values() for pair in pairwise(members)]


def short(topic: str) -> str:
    """The entry's title without its parenthesis: 'LAMB (layer-wise ...)' -> 'LAMB'."""
    return ENTRIES[topic]["title"].split(" (")[0]


def _comparison_section(a: str, b: str) -> Section:
    ea, eb = ENTRIES[a], ENTRIES[b]
    items = [f"{ea['title']}: {ea['trade_off']}", f"{eb['title']}: {eb['trade_off']}"]
    if frozenset({a, b}) in PAIRS:
        items.append(PAIRS[frozenset({a, b})])
    items.append(f"Choose {short(a)} for {ea['when']}; choose {short(b)} for {eb['when']}.")
    return Section(title=f"{ea['title']} vs {eb['title']}", items=items)


@register_peer("AXIOM", standin=True)
def axiom(plan: Plan, context: dict[str, Any]) -> PeerReply:
    """The maths of the technique(s) the plan names, and the comparisons it asks for."""
    topics = pick_topics(plan)
    asked = [t for t in plan.topics if t in ENTRIES]
    topics = topics[:max(len(asked), 4)]
    pairs = comparisons(topics, asked)
    sections = [_comparison_section(a, b) for a, b in pairs]
    for name in topics:
        t = ENTRIES[name]
        sections.append(Section(title=f"{t['title']}: formulas", items=list(t["formulas"])))
        sections.append(Section(title=f"{t['title']}: what it means", items=[*t["notes"], f"Trade-off: {t['trade_off']}"]))
    if pairs:
        summary = "; ".join(f"{short(a)} vs {short(b)}: {short(a)} for {ENTRIES[a]['when']}, {short(b)} for "
                            f"{ENTRIES[b]['when']}" for a, b in pairs) + "."
    else:
        first = ENTRIES[topics[0]]
        summary = f"{first['title']}: {first['formulas'][0]}" + (
            f" (also: {', '.join(ENTRIES[n]['title'] for n in topics[1:])})" if len(topics) > 1 else "")
    recs = [f"{short(n)}: use it for {ENTRIES[n]['when']}." for n in topics]
    return PeerReply(
        peer="AXIOM", summary=summary, sections=sections, recommendations=recs,
        data={"topics": topics, "asked": asked, "formulas": {n: ENTRIES[n]["formulas"] for n in topics},
              "comparisons": [{"a": a, "b": b} for a, b in pairs]},
    )
