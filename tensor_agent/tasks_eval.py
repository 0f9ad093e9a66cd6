"""Whole-task evaluation for eval harnesses: `tensor-agent eval --tasks TASKS.jsonl`.

A task is one message or a conversation, options, and expectations:

    {"id": "digits-cnn", "quick": true,
     "messages": ["@TENSOR train a CNN on the digits dataset"],     # or "message": "..."
     "options": {"epochs": 3},                                       # applied to every turn
     "expect": {"exit_code": 0, "tools": ["train_model"],
                "metrics": ["train_model.test_accuracy >= 0.95"],    # TOOL.KEY OP NUMBER
                "files": ["train_model.model_path"],                  # result fields naming files that must exist
                "time_limit_s": 120}}

Each task runs in a fresh workspace (in parallel with `--workers N`), against the in-process agent or a
served one (`--target http://host:port`, the OpenAI-compatible route of `tensor-agent serve`). The
report (JSON, rewritten after every task, so `--resume` skips finished tasks) and JUnit XML give
pass/fail, the measured values and the time per task. Metric keys are looked up as a dotted path in
the tool's result, else as the first key of that name anywhere inside it (so `test_accuracy` finds
`test_metrics.accuracy` written as `test_metrics.test_accuracy` or `metrics.accuracy` equally).
"""

from __future__ import annotations

import json
import math
import operator
import os
import re
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Optional
from xml.sax.saxutils import escape

from pydantic import BaseModel, Field, ValidationError, model_validator

from tensor_agent.errors import InputError

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq, "!=": operator.ne}
_METRIC = re.compile(r"^\s*([A-Za-z_][\w]*)\.([\w.]+)\s*(>=|<=|==|!=|>|<)\s*(-?[\d.]+(?:e-?\d+)?)\s*$")


class Expect(BaseModel):
    """What a task must produce."""

    exit_code: int = Field(default=0, description="Exit code of the last turn (0 ok, 2 bad input, 3 cannot be met).")
    tools: list[str] = Field(default_factory=list, description="Tools that must have run successfully (any turn).")
    metrics: list[str] = Field(default_factory=list, description="'TOOL.KEY OP NUMBER' checks on the last results.")
    files: list[str] = Field(default_factory=list, description="'TOOL.KEY' result fields naming files that exist.")
    time_limit_s: Optional[float] = Field(default=None, gt=0, description="Wall-clock limit for the whole task.")
    answer_contains: list[str] = Field(default_factory=list, description="Words the readable answer must contain.")

    @model_validator(mode="after")
    def _check_metrics(self) -> "Expect":
        for m in self.metrics:
            if not _METRIC.match(m):
                raise ValueError(f"metric check {m!r} is not 'TOOL.KEY OP NUMBER' (OP one of {', '.join(_OPS)})")
        return self


class Task(BaseModel):
    id: str = Field(description="Unique task id.")
    messages: list[str] = Field(default_factory=list, description="The conversation, one turn per message.")
    message: Optional[str] = Field(default=None, description="A single message (instead of messages).")
    options: dict[str, Any] = Field(default_factory=dict, description="Options passed with every turn.")
    quick: bool = Field(default=False, description="Part of the --quick subset.")
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def _one_conversation(self) -> "Task":
        if self.message and not self.messages:
            self.messages = [self.message]
        if not self.messages:
            raise ValueError("a task needs 'message' or 'messages'")
        return self


class TaskResult(BaseModel):
    id: str
    passed: bool
    exit_code: int
    seconds: float
    checks: list[dict] = Field(default_factory=list, description="Each expectation with its measured value.")
    error: Optional[str] = None


class TasksReport(BaseModel):
    tasks_file: str
    target: str = "in-process"
    results: list[TaskResult] = Field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)


def load_tasks(path: str | os.PathLike, *, quick: bool = False) -> list[Task]:
    """Read and validate a tasks file; every line is checked before anything runs."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read tasks file {p}: {exc}", hint="pass a JSONL file, one task per line") from None
    tasks, seen = [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            task = Task.model_validate(json.loads(line))
        except (ValueError, ValidationError) as exc:
            raise InputError(f"{p}:{n}: invalid task ({str(exc).splitlines()[0]})",
                             hint="see tensor_agent/tasks_eval.py for the task format") from None
        if task.id in seen:
            raise InputError(f"{p}:{n}: duplicate task id {task.id!r}")
        seen.add(task.id)
        tasks.append(task)
    if not tasks:
        raise InputError(f"{p}: no tasks")
    return [t for t in tasks if t.quick] if quick else tasks


def lookup(result: dict, tool: str, key: str) -> Any:
    """The value at `key` (dotted) in `result[tool]`, else the first key of that last name anywhere inside."""
    node: Any = (result or {}).get(tool)
    if node is None:
        return None
    cur: Any = node
    for part in key.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is None:
            break
    if cur is not None:
        return cur
    leaf = key.split(".")[-1]
    stack = [node]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            if leaf in item and not isinstance(item[leaf], (dict, list)):
                return item[leaf]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _judge(task: Task, results: dict, ran: set[str], code: int, answer: str, seconds: float) -> list[dict]:
    e = task.expect
    checks = [{"check": f"exit_code == {e.exit_code}", "value": code, "ok": code == e.exit_code}]
    for tool in e.tools:
        checks.append({"check": f"{tool} ran", "value": tool in ran, "ok": tool in ran})
    for m in e.metrics:
        tool, key, op, num = _METRIC.match(m).groups()  # type: ignore[union-attr]
        value = lookup(results, tool, key)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
            and _OPS[op](float(value), float(num))
        checks.append({"check": m, "value": value, "ok": bool(ok)})
    for f in e.files:
        tool, _, key = f.partition(".")
        value = lookup(results, tool, key)
        ok = isinstance(value, str) and Path(value).exists()
        checks.append({"check": f"{f} exists", "value": value, "ok": ok})
    for word in e.answer_contains:
        checks.append({"check": f"answer contains {word!r}", "value": word.lower() in answer.lower(),
                       "ok": word.lower() in answer.lower()})
    if e.time_limit_s is not None:
        checks.append({"check": f"time <= {e.time_limit_s:g} s", "value": round(seconds, 2),
                       "ok": seconds <= e.time_limit_s})
    return checks


def _run_in_process(task: Task, home: str) -> tuple[dict, set[str], int, str]:
    from tensor_agent.agent import TensorAgent
    from tensor_agent.errors import TensorError

    results: dict = {}
    ran: set[str] = set()
    code, answer = 0, ""
    with TensorAgent(home, progress=False) as agent:
        for message in task.messages:
            try:
                res = agent.invoke(message, thread_id=task.id, **task.options)
            except TensorError as exc:
                code, answer = exc.exit_code, str(exc)
                continue
            results.update(res.results)
            ran |= set(res.results)
            code, answer = (res.exit_code if res.plan.addressed else 0), res.message
    return results, ran, code, answer


def _run_served(task: Task, target: str) -> tuple[dict, set[str], int, str]:
    """One conversation through the OpenAI-compatible route (thread = task id, via the user field)."""
    from openai import OpenAI

    client = OpenAI(base_url=target.rstrip("/") + "/v1", api_key=os.environ.get("TENSOR_API_KEY", "none"))
    results: dict = {}
    ran: set[str] = set()
    code, answer, history = 0, "", []
    for message in task.messages:
        history.append({"role": "user", "content": message})
        resp = client.chat.completions.create(model="tensor", messages=history, user=task.id,
                                              extra_body={"options": task.options})
        answer = resp.choices[0].message.content or ""
        history.append({"role": "assistant", "content": answer})
        extra = (resp.model_extra or {}).get("tensor") or {}
        results.update(extra.get("results") or {})
        ran |= set(extra.get("results") or {})
        code = int(extra.get("exit_code", 0))
    return results, ran, code, answer


def run_task(task_json: str, target: Optional[str] = None, root: Optional[str] = None) -> dict:
    """Run one task (in a fresh workspace) and judge it; a module-level function so workers can pickle it."""
    task = Task.model_validate_json(task_json)
    home = tempfile.mkdtemp(prefix=f"task-{re.sub(r'[^A-Za-z0-9_-]', '_', task.id)}-", dir=root)
    t0 = time.perf_counter()
    error = None
    try:
        results, ran, code, answer = _run_served(task, target) if target else _run_in_process(task, home)
    except Exception as exc:  # noqa: BLE001 - a crashing task is a failed task, the harness goes on
        results, ran, code, answer, error = {}, set(), 1, "", f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - t0
    checks = _judge(task, results, ran, code, answer, seconds)
    return TaskResult(id=task.id, passed=error is None and all(c["ok"] for c in checks), exit_code=code,
                      seconds=round(seconds, 2), checks=checks, error=error).model_dump(mode="json")


def run_tasks(path: str, *, quick: bool = False, workers: int = 1, target: Optional[str] = None,
              report_path: Optional[str] = None, junit_path: Optional[str] = None, resume: bool = False,
              progress=None) -> TasksReport:
    """Run every task of `path` and write the JSON report (after each task) and the JUnit XML."""
    tasks = load_tasks(path, quick=quick)
    report = TasksReport(tasks_file=str(path), target=target or "in-process")
    done: dict[str, TaskResult] = {}
    if resume and report_path and Path(report_path).exists():
        try:
            old = TasksReport.model_validate_json(Path(report_path).read_text(encoding="utf-8"))
            done = {r.id: r for r in old.results}
        except (OSError, ValueError):
            done = {}
    todo = [t for t in tasks if t.id not in done]
    report.results = [done[t.id] for t in tasks if t.id in done]
    root = tempfile.mkdtemp(prefix="tensor-tasks-")

    def record(raw: dict) -> None:
        report.results.append(TaskResult.model_validate(raw))
        if progress:
            r = report.results[-1]
            progress(f"{'PASS' if r.passed else 'FAIL'} {r.id} ({r.seconds:.1f} s)")
        if report_path:
            _atomic_write(report_path, report.model_dump_json(indent=2))

    if workers <= 1:
        for t in todo:
            record(run_task(t.model_dump_json(), target, root))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_task, t.model_dump_json(), target, root) for t in todo]
            for fut in as_completed(futures):
                record(fut.result())
    order = {t.id: i for i, t in enumerate(tasks)}
    report.results.sort(key=lambda r: order.get(r.id, 0))
    if report_path:
        _atomic_write(report_path, report.model_dump_json(indent=2))
    if junit_path:
        _atomic_write(junit_path, junit_xml(report))
    return report


def junit_xml(report: TasksReport) -> str:
    """The report as JUnit XML (one testcase per task)."""
    failures = sum(not r.passed for r in report.results)
    total = sum(r.seconds for r in report.results)
    out = [f'<?xml version="1.0" encoding="utf-8"?>',
           f'<testsuite name="tensor-agent tasks" tests="{len(report.results)}" failures="{failures}" '
           f'time="{total:.2f}">']
    for r in report.results:
        out.append(f'  <testcase classname="tasks" name="{escape(r.id)}" time="{r.seconds:.2f}">')
        if not r.passed:
            bad = [c for c in r.checks if not c["ok"]]
            text = "; ".join(f"{c['check']} (measured {c['value']!r})" for c in bad) or (r.error or "failed")
            out.append(f'    <failure message="{escape(text, {chr(34): "&quot;"})}">{escape(r.error or text)}</failure>')
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"


def _atomic_write(path: str | os.PathLike, text: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, p)
