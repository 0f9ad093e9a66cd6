"""OpenAI-compatible chat server of @TENSOR (`tensor-agent serve`)."""
