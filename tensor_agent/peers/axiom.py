"""AXIOM stand-in: the mathematics of the technique the plan names.

Topics are picked by keywords in the message, the architecture family and the
constraints (optimizer, schedule, technique); each comes with its formulas, what the
symbols mean, and a practical consequence.
"""

from __future__ import annotations

import re
from typing import Any

from tensor_agent.peers.common import techniques, text_of
from tensor_agent.peers.registry import PeerReply, Section, register_peer
from tensor_agent.schema import Plan

#: topic -> (title, keyword regexes, formulas, notes)
TOPICS: dict[str, dict[str, Any]] = {
    "lora": dict(
        title="LoRA (low-rank adaptation)",
        keys=[r"\blora\b", r"low[- ]rank"],
        formulas=["W' = W₀ + ΔW = W₀ + (α / r) · B A,   B ∈ ℝ^{d×r}, A ∈ ℝ^{r×k}, r ≪ min(d, k)",
                  "h = W₀ x + (α / r) · B (A x)   (W₀ frozen; only A, B trained)",
                  "trainable params per matrix: r (d + k) instead of d k"],
        notes=["A is initialised Gaussian and B = 0, so ΔW = 0 at the start and training begins from the pretrained model.",
               "For d = k = 768 and r = 8: 12,288 trainable parameters instead of 589,824 (2.1%).",
               "After training, merge W = W₀ + (α/r) B A: no inference overhead."]),
    "adapter": dict(
        title="Adapter modules",
        keys=[r"\badapters?\b"],
        formulas=["h ← h + W_up · σ(W_down · h),   W_down ∈ ℝ^{m×d}, W_up ∈ ℝ^{d×m}, m ≪ d"],
        notes=["A bottleneck MLP with a residual connection after attention/FFN; W_up starts at 0 so the block is the identity.",
               "Trainable parameters per block: 2 d m (+ biases)."]),
    "adam": dict(
        title="Adam",
        keys=[r"\badam\b(?!w)"],
        formulas=["m_t = β₁ m_{t−1} + (1 − β₁) g_t",
                  "v_t = β₂ v_{t−1} + (1 − β₂) g_t²",
                  "m̂_t = m_t / (1 − β₁ᵗ),   v̂_t = v_t / (1 − β₂ᵗ)",
                  "θ_t = θ_{t−1} − η · m̂_t / (√v̂_t + ε)"],
        notes=["Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e−8; the bias correction matters in the first ~1/(1−β₂) steps.",
               "The per-coordinate step is ≈ η in magnitude whatever the gradient scale (adaptive learning rates)."]),
    "adamw": dict(
        title="AdamW (decoupled weight decay)",
        keys=[r"\badamw\b", r"weight decay"],
        formulas=["θ_t = θ_{t−1} − η ( m̂_t / (√v̂_t + ε) + λ θ_{t−1} )"],
        notes=["In Adam with L2, the penalty λθ is added to g and then divided by √v̂: heavily-updated weights are barely "
               "regularised. AdamW applies λθ outside the adaptive scaling (Loshchilov & Hutter)."]),
    "sgd": dict(
        title="SGD with momentum",
        keys=[r"\bsgd\b", r"momentum", r"gradient descent"],
        formulas=["v_t = μ v_{t−1} + g_t,   θ_t = θ_{t−1} − η v_t",
                  "Nesterov: g_t evaluated at θ_{t−1} − η μ v_{t−1}"],
        notes=["Momentum μ = 0.9 averages ≈ 1/(1−μ) = 10 past gradients; stable and often generalises better than Adam for CNNs."]),
    "lamb": dict(
        title="LAMB (layer-wise adaptive large-batch optimisation)",
        keys=[r"\blamb\b", r"large[- ]batch"],
        formulas=["r_t = m̂_t / (√v̂_t + ε) + λ θ_{t−1}   (Adam direction with decoupled decay)",
                  "trust ratio τ_l = φ(‖θ_l‖) / ‖r_l‖   per layer l",
                  "θ_l ← θ_l − η · τ_l · r_l"],
        notes=["The trust ratio makes each layer's step proportional to its weight norm, which keeps training stable at "
               "batch sizes of 32k+ (BERT pre-training in 76 minutes)."]),
    "cosine": dict(
        title="Cosine annealing",
        keys=[r"\bcosine\b", r"annealing", r"warm restarts?", r"\bsgdr\b"],
        formulas=["η_t = η_min + ½ (η_max − η_min) (1 + cos(π T_cur / T_max))",
                  "warm restarts (SGDR): T_cur resets to 0 after T_i epochs, T_{i+1} = T_mult · T_i"],
        notes=["Often combined with a linear warm-up of a few hundred steps for transformers."]),
    "step": dict(
        title="Step and exponential decay",
        keys=[r"step decay", r"exponential decay", r"\bschedul\w*", r"learning rate"],
        formulas=["step: η_t = η₀ · γ^{⌊t / s⌋}", "exponential: η_t = η₀ · γ^{t}"],
        notes=["Step decay with γ = 0.1 at 50% and 75% of training is the classic ResNet recipe."]),
    "attention": dict(
        title="Scaled dot-product attention",
        keys=[r"attention", r"transformer", r"\bbert\b", r"\bgpt\b", r"\bt5\b", r"\bvit\b", r"self[- ]attention"],
        formulas=["Attention(Q, K, V) = softmax(Q Kᵀ / √d_k + M) V,   Q = X W_Q, K = X W_K, V = X W_V",
                  "MultiHead(X) = Concat(head₁, …, head_h) W_O",
                  "cost: O(n² d) time and O(n²) memory in the sequence length n"],
        notes=["Dividing by √d_k keeps the logits' variance ≈ 1, so the softmax does not saturate.",
               "M is the mask: −∞ above the diagonal for causal (GPT) decoders, 0 for bidirectional (BERT) encoders."]),
    "convolution": dict(
        title="Convolution",
        keys=[r"convolution\w*", r"\bcnn\b", r"\bconv\w*", r"resnet", r"efficientnet", r"convnext", r"pooling"],
        formulas=["y[c_out, i, j] = b[c_out] + Σ_{c_in} Σ_{u,v} w[c_out, c_in, u, v] · x[c_in, i·s + u − p, j·s + v − p]",
                  "output size: H_out = ⌊(H + 2p − k) / s⌋ + 1",
                  "params: C_out · C_in · k² (+ C_out); MACs: params × H_out × W_out",
                  "residual block (ResNet): y = F(x) + x"],
        notes=["Weight sharing and locality give translation equivariance; pooling/stride grows the receptive field.",
               "Depthwise-separable convolution (EfficientNet/MobileNet) costs C_in k² + C_in C_out instead of C_in C_out k²."]),
    "diffusion": dict(
        title="Diffusion models (DDPM)",
        keys=[r"diffusion", r"\bddpm\b", r"\bddim\b", r"denois\w*", r"image generation"],
        formulas=["forward: q(x_t | x_{t−1}) = 𝒩(√(1−β_t) x_{t−1}, β_t I);   q(x_t | x₀) = 𝒩(√ᾱ_t x₀, (1−ᾱ_t) I),  ᾱ_t = Π_{s≤t}(1−β_s)",
                  "training loss: L = E_{t, x₀, ε} ‖ε − ε_θ(√ᾱ_t x₀ + √(1−ᾱ_t) ε, t)‖²",
                  "reverse: x_{t−1} = (1/√α_t) (x_t − (β_t/√(1−ᾱ_t)) ε_θ(x_t, t)) + σ_t z,  z ~ 𝒩(0, I)"],
        notes=["DDIM makes the reverse process deterministic and lets you skip steps (e.g. 50 instead of 1000)."]),
    "gcn": dict(
        title="Graph convolution (GCN)",
        keys=[r"\bgcn\b", r"graph conv\w*", r"\bgnn\b", r"graph neural", r"message passing", r"\bgraph\b"],
        formulas=["H^{(l+1)} = σ( D̃^{−½} Ã D̃^{−½} H^{(l)} W^{(l)} ),   Ã = A + I,  D̃_ii = Σ_j Ã_ij",
                  "node view: h_i' = σ( Σ_{j ∈ N(i) ∪ {i}} h_j W / √(d̃_i d̃_j) )"],
        notes=["Each layer mixes one more hop of neighbours; 2-3 layers are typical (deeper over-smooths).",
               "GAT replaces the fixed 1/√(d_i d_j) weights by learned attention α_ij = softmax_j(LeakyReLU(aᵀ[W h_i ‖ W h_j]))."]),
    "graphsage": dict(
        title="GraphSAGE",
        keys=[r"graphsage", r"\bsage\b", r"neighbou?r sampling"],
        formulas=["h_i' = σ( W · [h_i ‖ AGG({h_j : j ∈ S(i)})] ),  S(i) a sampled neighbourhood"],
        notes=["Sampling a fixed number of neighbours per layer makes it inductive and scalable to large graphs."]),
    "ssm": dict(
        title="State space models (S4/Mamba)",
        keys=[r"\bmamba\b", r"state[- ]space", r"\bssm\b", r"\bs4\b", r"long sequence"],
        formulas=["continuous: h'(t) = A h(t) + B x(t),  y(t) = C h(t) + D x(t)",
                  "discretised (zero-order hold, step Δ): Ā = exp(ΔA),  B̄ = (ΔA)^{−1}(exp(ΔA) − I) ΔB",
                  "recurrence: h_t = Ā h_{t−1} + B̄ x_t,  y_t = C h_t",
                  "Mamba (selective): Δ, B, C depend on x_t; computed with a parallel scan in O(n) time"],
        notes=["Linear in sequence length (attention is quadratic), with constant memory per step at inference."]),
    "distillation": dict(
        title="Knowledge distillation",
        keys=[r"distil\w*", r"teacher", r"student"],
        formulas=["p_i^T = softmax(z_i / T)",
                  "L = α · T² · KL(p^T_teacher ‖ p^T_student) + (1 − α) · CE(y, softmax(z_student))"],
        notes=["The T² factor keeps the soft-target gradients' scale independent of the temperature; T = 2-4, α = 0.5-0.9."]),
    "quantization": dict(
        title="Quantization (affine INT8)",
        keys=[r"quanti[sz]\w*", r"\bint8\b", r"\bqat\b", r"\bint4\b", r"8[- ]bit"],
        formulas=["q = clamp(round(x / s) + z, q_min, q_max),   x̂ = s (q − z)",
                  "s = (x_max − x_min) / (q_max − q_min),   z = q_min − round(x_min / s)",
                  "symmetric: z = 0, s = max|x| / 127"],
        notes=["Rounding error per value ≤ s/2; per-channel scales for weights keep s small.",
               "QAT inserts fake-quantize x̂ in the forward pass and uses the straight-through estimator ∂x̂/∂x ≈ 1 inside the range."]),
    "pruning": dict(
        title="Pruning",
        keys=[r"prun\w*", r"sparsit\w*", r"lottery"],
        formulas=["magnitude: mask_ij = 1[|w_ij| > τ],  τ = the s-quantile of |w| for sparsity s",
                  "structured (channel c): importance ‖W_c‖₁ or ‖W_c‖₂; remove the lowest and its dependent inputs",
                  "lottery ticket: train → prune p% → rewind survivors to θ₀ (or θ_k) → retrain; repeat"],
        notes=["Unstructured sparsity shrinks storage (compressed) but not dense-kernel latency; structured pruning does both."]),
    "xgboost": dict(
        title="Gradient boosting (XGBoost)",
        keys=[r"xgboost", r"boost\w*", r"gradient[- ]boosted"],
        formulas=["ŷ_i = Σ_k f_k(x_i),  objective = Σ_i l(y_i, ŷ_i) + Σ_k (γ T_k + ½ λ ‖w_k‖²)",
                  "second-order step: g_i = ∂l/∂ŷ, h_i = ∂²l/∂ŷ²;  optimal leaf weight w_j* = −G_j / (H_j + λ)",
                  "split gain = ½ [G_L²/(H_L+λ) + G_R²/(H_R+λ) − (G_L+G_R)²/(H_L+H_R+λ)] − γ"],
        notes=["Each tree fits the negative gradient of the loss; shrinkage η (0.05-0.3) trades trees for generalisation."]),
    "backprop": dict(
        title="Backpropagation and cross-entropy",
        keys=[r"backprop\w*", r"cross[- ]entropy", r"\bloss\b", r"gradient", r"\bmlp\b", r"derivation", r"proof"],
        formulas=["L = −Σ_c y_c log softmax(z)_c;   ∂L/∂z = softmax(z) − y",
                  "chain rule per layer: δ^{(l)} = (W^{(l+1)ᵀ} δ^{(l+1)}) ⊙ σ'(a^{(l)}),  ∂L/∂W^{(l)} = δ^{(l)} h^{(l−1)ᵀ}"],
        notes=["The softmax-cross-entropy gradient is simply prediction minus target."]),
    "batchnorm": dict(
        title="Normalisation",
        keys=[r"batch ?norm\w*", r"layer ?norm\w*", r"normali[sz]ation"],
        formulas=["BatchNorm: x̂ = (x − μ_B) / √(σ_B² + ε),  y = γ x̂ + β  (statistics over the batch)",
                  "LayerNorm: same, statistics over the features of each example"],
        notes=["At inference BatchNorm uses running averages; fold it into the previous convolution before quantizing."]),
    "dropout": dict(
        title="Dropout and weight penalties",
        keys=[r"dropout", r"\bl1\b", r"\bl2\b", r"regulari[sz]\w*"],
        formulas=["dropout: h̃ = (m ⊙ h) / (1 − p),  m_i ~ Bernoulli(1 − p)",
                  "L2: L + (λ/2)‖θ‖²  (gradient adds λθ);  L1: L + λ‖θ‖₁ (drives weights to exactly 0)"],
        notes=["Scaling by 1/(1−p) during training (inverted dropout) makes inference a no-op."]),
}

FAMILY_TOPICS = {
    "cnn": ["convolution"], "resnet": ["convolution"], "efficientnet": ["convolution"], "convnext": ["convolution"],
    "vit": ["attention"], "bert": ["attention"], "gpt": ["attention"], "t5": ["attention"], "mamba": ["ssm"],
    "diffusion": ["diffusion"], "gcn": ["gcn"], "gat": ["gcn"], "graphsage": ["graphsage"], "xgboost": ["xgboost"],
    "mlp": ["backprop"],
}
CONSTRAINT_TOPICS = {
    "lora": "lora", "adapter": "adapter", "int8": "quantization", "qat": "quantization", "static_int8": "quantization",
    "dynamic_int8": "quantization", "pruning": "pruning", "structured_pruning": "pruning", "lottery_ticket": "pruning",
    "distillation": "distillation", "adam": "adam", "adamw": "adamw", "sgd": "sgd", "lamb": "lamb",
    "cosine": "cosine", "cosine_warm_restarts": "cosine", "step": "step", "exponential": "step",
}


def pick_topics(plan: Plan) -> list[str]:
    """Topics in priority order: named in the text, then constraints, then the architecture family."""
    text = text_of(plan)
    found: list[tuple[int, str]] = []
    for name, topic in TOPICS.items():
        pos = [m.start() for k in topic["keys"] for m in [re.search(k, text)] if m]
        if pos:
            found.append((min(pos), name))
    # techniques named in the text first (in message order), then architecture-level topics
    arch_level = {"attention", "convolution", "gcn", "graphsage", "ssm", "xgboost", "backprop", "step"}
    picked = [n for _, n in sorted(found) if n not in arch_level] + [n for _, n in sorted(found) if n in arch_level]
    # generic words ("learning rate", "loss", "gradient") only count if nothing more specific matched
    generic = {"step", "backprop"}
    if any(p not in generic for p in picked):
        picked = [p for p in picked if p not in generic]
    for value in techniques(plan) + [str(plan.constraint("optimizer") or ""), str(plan.constraint("schedule") or "")]:
        topic = CONSTRAINT_TOPICS.get(value.lower())
        if topic and topic not in picked:
            picked.append(topic)
    for topic in FAMILY_TOPICS.get(plan.architecture or "", []):
        if topic not in picked:
            picked.append(topic)
    if "adamw" in picked and "adam" not in picked:
        picked.insert(picked.index("adamw"), "adam")
    return picked or ["backprop", "adam"]


@register_peer("AXIOM", standin=True)
def axiom(plan: Plan, context: dict[str, Any]) -> PeerReply:
    """The maths of the technique(s) the plan names."""
    topics = pick_topics(plan)[:4]
    sections = []
    for name in topics:
        t = TOPICS[name]
        sections.append(Section(title=f"{t['title']}: formulas", items=list(t["formulas"])))
        sections.append(Section(title=f"{t['title']}: what it means", items=list(t["notes"])))
    first = TOPICS[topics[0]]
    summary = f"{first['title']}: {first['formulas'][0]}" + (
        f" (also: {', '.join(TOPICS[n]['title'] for n in topics[1:])})" if len(topics) > 1 else "")
    recs = [TOPICS[n]["notes"][0] for n in topics]
    return PeerReply(
        peer="AXIOM",
        summary=summary,
        sections=sections,
        recommendations=recs,
        data={"topics": topics, "formulas": {n: TOPICS[n]["formulas"] for n in topics}},
    )
