"""Code-generation back-ends for frameworks other than PyTorch (Keras, Flax, scikit-learn).

Each module here registers itself with `@register_backend("<framework>")` from
`tensor_agent.tools.design.codegen.registry`; `registry._load_frameworks()` imports every module of
this package once.
"""
