"""The task bank: the generated tasks plus task files (YAML), validated on load.

    bank = TaskBank.default()                       # generated + people.yaml + appwright/tasks/bank/*.yaml
    bank.select(split="dev", kind="fix", domain="notes")
    task = bank.get("fix-notes-owner-innerhtml")
    start_dir = materialise_start(task, "out/app")  # writes the start bundle, if any
    load_file("my_tasks.yaml")                      # one task or a list of them; errors name the path

A task file holds one task (a mapping) or a list of them; a `start.path` is relative to the
file. `export(tasks, DIR)` writes tasks as YAML files that `load_file` reads back unchanged.
Reference solutions exist for generated and people tasks (`reference_files`), so tests can
prove that every task's checks can be met.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from appwright.tasks.domains import domain
from appwright.tasks.generate import generate
from appwright.tasks.model import Task
from appwright.tasks.people import people_domain, people_tasks
from appwright.tasks.reference import RECORDS_FEATURES, records_render, render


class TaskError(Exception):
    """A task file that cannot be used; the message names the file and the problem."""


def _errors(exc: ValidationError) -> str:
    return "\n".join(f"  {'.'.join(str(p) for p in e['loc']) or '(task)'}: {e['msg']}" for e in exc.errors())


def load_file(path: str | Path) -> list[Task]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaskError(f"{path}: cannot read it as YAML: {exc}") from None
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise TaskError(f"{path}: task {i + 1}: expected a mapping of task fields, got {type(item).__name__}")
        if isinstance(item.get("start"), dict) and "path" in item["start"]:
            item = {**item, "start": {**item["start"], "path": str((path.parent / item["start"]["path"]).resolve())}}
        try:
            out.append(Task.model_validate(item))
        except ValidationError as exc:
            raise TaskError(f"{path}: task {item.get('id', i + 1)}:\n{_errors(exc)}") from None
    return out


def export(tasks: list[Task], out_dir: str | Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for t in tasks:
        path = out_dir / f"{t.id}.yaml"
        path.write_text(yaml.safe_dump(t.data(), sort_keys=False,
                                       allow_unicode=True, width=100), encoding="utf-8")
        written.append(path)
    return written


def materialise_start(task: Task, dest: str | Path) -> Path | None:
    """Write the task's start bundle into `dest` (created); None when the task has none."""
    if task.start is None:
        return None
    dest = Path(dest)
    files = start_files(task)
    for rel, text in files.items():
        target = (dest / rel).resolve()
        if dest.resolve() not in target.parents:
            raise TaskError(f"task {task.id}: start file {rel!r} points outside the bundle")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return dest


def start_files(task: Task) -> dict[str, str]:
    """The task's start bundle as path -> text (empty when it has none)."""
    start = task.start
    if start is None:
        return {}
    if start.files is not None:
        return start.files
    root = Path(start.path)
    if not root.is_dir():
        raise TaskError(f"start bundle {root} is not a folder")
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}


def reference_files(task: Task, records: bool = False) -> dict[str, str]:
    """A bundle that passes every check of a generated or people task. `records`: its pages
    written with aw.ui.records where that covers the task's features (reference.RECORDS_FEATURES)
    and the app is new (no start bundle to change); else the pages written by hand."""
    if task.domain is None:
        raise TaskError(f"task {task.id} has no domain, so no generated reference solution")
    d = people_domain(task.domain) if task.split == "people" else domain(task.domain)
    if records and task.start is None and set(task.features) <= RECORDS_FEATURES:
        return records_render(d, task.features)
    return render(d, task.features)


@dataclass
class TaskBank:
    tasks: list[Task]

    def __post_init__(self):
        counts = Counter(t.id for t in self.tasks)
        dupes = sorted(k for k, n in counts.items() if n > 1)
        if dupes:
            raise TaskError(f"task ids must be unique; repeated: {', '.join(dupes[:10])}")
        self._by_id = {t.id: t for t in self.tasks}

    @classmethod
    def default(cls) -> "TaskBank":
        return _default()

    def get(self, task_id: str) -> Task:
        try:
            return self._by_id[task_id]
        except KeyError:
            near = [i for i in self._by_id if task_id in i][:5]
            raise TaskError(f"no task {task_id!r}" + (f"; did you mean {', '.join(near)}?" if near else
                                                       "; `appwright tasks list` shows them")) from None

    def select(self, split: str | None = None, kind: str | None = None, domain: str | None = None) -> list[Task]:
        return [t for t in self.tasks if (split is None or t.split == split) and (kind is None or t.kind == kind)
                and (domain is None or t.domain == domain)]


def bank_files() -> list[Path]:
    folder = resources.files("appwright.tasks").joinpath("bank")
    return sorted(Path(str(folder)).glob("*.yaml"))


@cache
def _default() -> TaskBank:
    tasks = generate() + people_tasks()
    for f in bank_files():
        tasks += load_file(f)
    return TaskBank(tasks)
