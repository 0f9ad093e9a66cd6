"""The shared layer below the tools (`tensor_agent.tools.core`).

Every tool package (design, train, compress, estimate, ...) depends only on this layer and on
`tensor_agent.catalogue`/`schema`/`errors`, never on another tool package
(tests/unit/test_layers.py fails otherwise). What lives here:

- `context`     ToolContext, ModelHandle, per-(workspace, thread) sessions
- `model_store`  saving and loading models (no code in model files)
- `datasets`     built-in and user datasets as DataBundles
- `zoo`          the model-family registry (`create_model`), input specs, family builders
- `engine`       the training loop, optimizers, schedules, TrainConfig
- `measure`      parameters, size, MACs, latency, peak memory of a built module
- `runtime`      interleaved before/after measurement of runnable models (torch, ONNX Runtime)
- `tracking`     MLflow runs
- `stats`        ModelStats (pure pydantic)

Importing this package imports nothing heavy.
"""
