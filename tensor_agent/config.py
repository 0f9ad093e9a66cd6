"""Settings, read from the environment. Every path the agent writes lives under `home`.

Environment variables (see README "Configuration"):
    TENSOR_HOME            workspace directory (default ~/.tensor-agent)
    TENSOR_PLANNER         "rules" (default) or "llm"; "auto" uses the LLM when a key/base URL is set
    OPENAI_API_KEY         key for the OpenAI-compatible endpoint
    OPENAI_BASE_URL        base URL of the endpoint (e.g. http://127.0.0.1:8000/v1)
    TENSOR_LLM_MODEL       model name (default gpt-4o-mini)
    TENSOR_LLM_TIMEOUT     seconds before the LLM planner falls back to rules (default 20)
    TENSOR_CHROMA_URL      use a Chroma server (http://host:port) instead of the embedded store
    MLFLOW_TRACKING_URI    MLflow tracking store (default sqlite under the workspace)
    TENSOR_PEERS           host replacements for peers, e.g. "PRISM=mypkg.agents:prism"
    TENSOR_DEBUG           1 to print tracebacks of internal errors
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one agent instance."""

    home: Path = field(metadata={"description": "Workspace directory; all state lives here."})
    planner: str = field(default="rules", metadata={"description": "rules | llm | auto"})
    llm_model: str = field(default="gpt-4o-mini", metadata={"description": "Chat model name."})
    llm_base_url: str | None = field(default=None, metadata={"description": "OpenAI-compatible base URL."})
    llm_api_key: str | None = field(default=None, metadata={"description": "API key."})
    llm_timeout: float = field(default=20.0, metadata={"description": "LLM request timeout, seconds."})
    chroma_url: str | None = field(default=None, metadata={"description": "Chroma server URL."})
    mlflow_uri: str | None = field(default=None, metadata={"description": "MLflow tracking URI."})

    @classmethod
    def from_env(cls, home: str | os.PathLike | None = None, **overrides) -> "Settings":
        root = Path(home or _env("TENSOR_HOME") or Path.home() / ".tensor-agent").expanduser()
        try:
            timeout = float(_env("TENSOR_LLM_TIMEOUT", "20"))
        except ValueError:
            timeout = 20.0
        values = dict(
            home=root,
            planner=(_env("TENSOR_PLANNER", "rules") or "rules").lower(),
            llm_model=_env("TENSOR_LLM_MODEL", "gpt-4o-mini"),
            llm_base_url=_env("OPENAI_BASE_URL"),
            llm_api_key=_env("OPENAI_API_KEY"),
            llm_timeout=timeout,
            chroma_url=_env("TENSOR_CHROMA_URL"),
            mlflow_uri=_env("MLFLOW_TRACKING_URI"),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def use_llm(self) -> bool:
        if self.planner == "llm":
            return True
        return self.planner == "auto" and bool(self.llm_api_key or self.llm_base_url)

    # --- workspace layout -------------------------------------------------------------
    def path(self, *parts: str, mkdir: bool = True) -> Path:
        """A directory under the workspace (created on demand)."""
        p = self.home.joinpath(*parts)
        if mkdir:
            p.mkdir(parents=True, exist_ok=True)
        return p

    @property
    def threads_db(self) -> Path:
        return self.path() / "threads.sqlite"

    @property
    def artifacts_dir(self) -> Path:
        return self.path("artifacts")

    @property
    def models_dir(self) -> Path:
        return self.path("models")

    @property
    def code_dir(self) -> Path:
        return self.path("code")

    @property
    def memory_dir(self) -> Path:
        return self.path("memory")

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_uri:
            return self.mlflow_uri
        return f"sqlite:///{self.path('mlflow') / 'mlflow.db'}"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.path("mlflow", "artifacts")
