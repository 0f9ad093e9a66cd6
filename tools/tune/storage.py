"""Where studies live: an Optuna storage shared by every worker of a study.

Default: a journal file under the workspace (`<TENSOR_HOME>/optuna/journal.log`, Optuna's
`JournalStorage` + `JournalFileBackend`, safe for several local processes). `TENSOR_OPTUNA_STORAGE` (or the
`storage` option) names any other storage: `sqlite:///...`, `postgresql://user:pw@host/db` (several machines
on one study; RDB storages get heartbeats so a dead worker's trial is marked failed), or `journal:<file>`.

A worker that dies mid-trial leaves its trial RUNNING; `fail_dead_trials` marks such trials FAIL when the
process that owned them (same host, recorded pid) no longer exists, so the study stays usable.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import BackendUnavailable, InputError
from tensor_agent.tools.core.procs import pid_alive

ENV = "TENSOR_OPTUNA_STORAGE"
HOST_ATTR, PID_ATTR = "worker_host", "worker_pid"
_REMOTE = ("postgresql", "postgres", "mysql", "mariadb", "grpc")


def storage_url(settings, option: Optional[str] = None) -> str:
    """The storage URL of this workspace: option, then TENSOR_OPTUNA_STORAGE, then the workspace journal file.

    Raises:
        InputError: a file storage (journal/sqlite) given as an option that lies outside the workspace.
    """
    if option:
        url = str(option).strip()
        path = _file_of(url)
        if path is not None:
            home = Path(settings.home).expanduser().resolve()
            resolved = (home / path if not path.is_absolute() else path).resolve()
            if home != resolved and home not in resolved.parents:
                raise InputError(f"storage {url!r} is outside the workspace {home}",
                                 hint="use a file under TENSOR_HOME, a database URL, or set TENSOR_OPTUNA_STORAGE")
            return f"journal:{resolved}" if not url.startswith("sqlite") else f"sqlite:///{resolved}"
        if not url.split(":", 1)[0].split("+", 1)[0] in _REMOTE:
            raise InputError(f"unsupported storage {url!r}",
                             hint="use journal:<file>, sqlite:///<file>, postgresql://... or mysql://...")
        return url
    env = os.environ.get(ENV, "").strip()
    if env:
        return env
    return f"journal:{settings.path('optuna') / 'journal.log'}"


def _file_of(url: str) -> Optional[Path]:
    if url.startswith("journal:"):
        return Path(url[len("journal:"):]).expanduser()
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):]).expanduser()
    if "://" not in url and (url.endswith(".log") or url.endswith(".jsonl") or url.endswith(".db")):
        return Path(url).expanduser()
    return None


def open_storage(url: str):
    """An Optuna storage object for `url` (journal file or RDB with heartbeats).

    Raises:
        BackendUnavailable: optuna is missing or the database cannot be reached.
    """
    try:
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
    except ImportError as exc:  # pragma: no cover - optuna is a dependency
        raise BackendUnavailable(f"optuna is not installed ({exc})", hint="pip install optuna") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url.startswith("journal:") or ("://" not in url and _file_of(url) is not None):
        path = _file_of(url) if url.startswith("journal:") else Path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    try:
        return optuna.storages.RDBStorage(url, heartbeat_interval=20, grace_period=60,
                                          engine_kwargs={"connect_args": {"timeout": 60}}
                                          if url.startswith("sqlite") else None)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy raises many kinds; all mean "cannot open"
        raise BackendUnavailable(f"cannot open the Optuna storage {url} ({type(exc).__name__}: "
                                 f"{str(exc)[:200]})", hint=f"check the URL or unset {ENV}") from None


def mark_owner(trial) -> None:
    """Record which process runs `trial` (used to fail it if that process dies)."""
    trial.set_user_attr(HOST_ATTR, socket.gethostname())
    trial.set_user_attr(PID_ATTR, os.getpid())




def fail_dead_trials(study) -> list[int]:
    """Mark FAIL every RUNNING trial whose owner process on this host is gone; returns their numbers."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    failed: list[int] = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = t.user_attrs.get(PID_ATTR)
        if t.user_attrs.get(HOST_ATTR) == host and isinstance(pid, int) and pid != os.getpid() and not pid_alive(pid):
            try:
                study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
            except (RuntimeError, ValueError):  # finished meanwhile by someone else
                continue
            failed.append(t.number)
    from optuna.storages import RDBStorage, fail_stale_trials

    if isinstance(study._storage, RDBStorage):  # heartbeats: trials of dead workers on any machine
        fail_stale_trials(study)
    return failed


def study_summaries(storage) -> list[Any]:
    """Every study in `storage` (for warm starts)."""
    return storage.get_all_studies()
