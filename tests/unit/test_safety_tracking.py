"""Tracking: a run left RUNNING by a dead process is marked KILLED when the next run starts (any tool)."""

from __future__ import annotations

import socket
import subprocess


def test_dead_runs_are_marked_killed_by_the_next_run(ctx):
    from tensor_agent.tools.core.tracking import EXPERIMENT, get_client, mlflow_run

    with mlflow_run(ctx, "first"):
        pass
    client = get_client(ctx.settings)
    exp = client.get_experiment_by_name(EXPERIMENT).experiment_id
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = client.create_run(exp, tags={"tensor.pid": str(dead.pid), "tensor.host": socket.gethostname()})
    other_host = client.create_run(exp, tags={"tensor.pid": str(dead.pid), "tensor.host": "elsewhere"})
    with mlflow_run(ctx, "next") as run:
        assert client.get_run(run.run_id).data.tags["tensor.pid"].isdigit()
    assert client.get_run(orphan.info.run_id).info.status == "KILLED"
    assert client.get_run(other_host.info.run_id).info.status == "RUNNING"  # not ours to judge
    assert client.get_run(run.run_id).info.status == "FINISHED"
