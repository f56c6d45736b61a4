"""`appwright train recipe CONFIG`: our own model from the embedded base, every stage in order,
on the same code a user runs stage by stage, resumable at any point.

    appwright train recipe examples/train/recipe-appwright-0.5b.yaml
    run_recipe(load_config(RecipeConfig, path))

The stages, each one's output in its own folder under `out`:

1. hf       the base GGUF as a trainable HF folder (`models export-hf`)            out/hf
2. data     the reference answers of train tasks, `data_tokens` of them          out/data
            (`data references`), even across kinds and families, or tilted by `kind_weights`
3. sft      LoRA SFT on them (`train sft`, trainer cpu unless `sft:` says)       out/sft
4. export   the adapter as a GGUF on the base, registered as NAME-sft            out/gguf
5. rounds of expert iteration, r = 1..`rounds` (the CPU form of RL): sample the current model
   (llama.cpp, base + adapter, the compact prompt) on `round_tasks` train tasks of every train
   family but `held_out_family`, `samples` attempts each, graded; keep the good ones; train the
   adapter on them plus as many reference rows again (so it keeps the format); export NAME-rN.
   Before and after each round, the same `gain_tasks` tasks of the held-out family are
   attempted by the model before and after it: the round's gain is measured on a family that
   round never samples or trains on (its reference rows are left out of the round's data; the
   first SFT saw some, as it sees every train family).                            out/round-N

`out/recipe.json` records the config and each finished stage (what it made, how long it
took); a rerun skips those and goes on inside the one that was running (SFT from its newest
checkpoint, sampling from the attempts already in its JSONL file). A rerun with another
config is refused, except for more `rounds`; a model name the registry already holds for
something else stops the recipe before it starts. The last adapter is the recipe's
model; whether it becomes the default is decided on the frozen dev 40 (`appwright eval run
--tasks docs/results/dev40.txt`), not here.

Not done: GRPO (the GPU path, scripts/gpu_train.sh, reads the same adapter), several rounds
on a schedule of growing task sets, studio turns in the data (none yet).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from appwright.cluster import RayConfig
from appwright.train.config import ConfigError, SFTRunConfig, from_mapping, to_yaml

RECIPE_FILE = "recipe.json"
RECIPE_KEYS = ("model", "dataset", "out", "adapter")  # SFT keys the recipe sets itself
GROWABLE = ("rounds",)  # what a rerun may change: more rounds go on from the last
HOW = ("gradient_checkpointing", "bf16", "save_steps", "save_minutes", "save_total_limit", "logging_steps")
#      SFT keys a rerun may change too: how it trains, not what (cpu_sft.SAME_RUN guards the rest)


def _what(config: dict) -> dict:
    """The config less what a rerun may change about how the SFT stages run, and less keys left
    empty (a key added since a run was saved reads as its empty default)."""
    return {k: {kk: vv for kk, vv in v.items() if kk not in HOW} if k in ("sft", "round_sft") and v else v
            for k, v in config.items() if v not in ({}, None)}


@dataclass(frozen=True)
class RecipeConfig:
    out: str  # every stage's output, and recipe.json
    name: str = "appwright-0.5b"  # registry names: NAME-sft, NAME-r1, ...
    base: str = "qwen2.5-coder-0.5b"  # the embedded registry model it starts from
    data_tokens: int = 250_000  # reference rows (system + request + answer), whole rows
    kind_weights: dict = field(default_factory=dict)  # kind -> rows of each family per round of the
    #                                                   data's round robin (1 if not named): {build: 3}
    seed: int = 0
    sft: dict = field(default_factory=dict)  # SFTRunConfig keys for the first SFT, less model/dataset/out
    rounds: int = 1  # expert iteration rounds after the first SFT
    held_out_family: str = "learning"  # a train family no round samples or trains on: each round's gain is
    #                                    measured on it
    round_tasks: int = 24  # train tasks sampled per round
    samples: int = 2  # attempts per task
    temperature: float = 0.7
    gain_tasks: int = 12  # held-out family tasks attempted before and after each round
    round_sft: dict = field(default_factory=dict)  # SFTRunConfig keys of each round's training
    browser: bool = True  # grade with the browser checks too (the good ones are what the user sees)
    quant: str = "f16"  # the adapter GGUF: f16, q8_0 or f32
    ray: RayConfig | None = None  # the rounds' sampling on Ray workers (address, workers, threads); docs/scale.md

    def __post_init__(self):
        for key in ("data_tokens", "round_tasks", "samples", "gain_tasks", "temperature"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{key} must be positive; got {getattr(self, key)!r}")
        from appwright.train.references import check_weights

        try:
            check_weights(self.kind_weights)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.rounds < 0:
            raise ConfigError("rounds: 0 or more expert iteration rounds")
        from appwright.tasks.domains import load_domains

        families = {d.family for d in load_domains() if d.split == "train"}
        if self.held_out_family not in families:
            raise ConfigError(f"held_out_family: one of the train families {', '.join(sorted(families))}; "
                              f"got {self.held_out_family!r}")
        self.sft_config("sft", "m", "d", "o")  # unknown or bad keys fail now, not an hour in
        self.sft_config("round_sft", "m", "d", "o", adapter="a")

    def sft_config(self, key: str, model: str, dataset: str, out: str, adapter: str | None = None) -> SFTRunConfig:
        values: dict[str, Any] = getattr(self, key) or {}
        taken = sorted(set(values) & set(RECIPE_KEYS))
        if taken:
            raise ConfigError(f"{key}: the recipe sets {', '.join(taken)} itself")
        return from_mapping(SFTRunConfig, {"trainer": "cpu", "seed": self.seed, **values, "model": model,
                                           "dataset": dataset, "out": out, "adapter": adapter}, key)


class Recipe:
    """recipe.json: the stages done, in order, with what each made."""

    def __init__(self, out: Path, config: RecipeConfig):
        self.path = out / RECIPE_FILE
        self.done: dict[str, dict] = {}
        if self.path.is_file():
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            before, now = _what(saved.get("config", {})), _what(json.loads(json.dumps(asdict(config))))
            changed = sorted(k for k in set(before) | set(now) if k not in GROWABLE and before.get(k) != now.get(k))
            if changed:
                raise ConfigError(f"{out} holds a recipe run with other {', '.join(changed)}; run it with the "
                                  f"same config (only {', '.join(GROWABLE)} may grow) or choose another out")
            self.done = saved["stages"]
        self.config = json.loads(json.dumps(asdict(config)))

    def run(self, name: str, console: Console, make: Callable[[], dict]) -> dict:
        if name in self.done:
            console.print(f"[dim]{name}: done before[/]", highlight=False)
            return self.done[name]
        console.rule(name)
        started = time.monotonic()
        result = {**make(), "seconds": round(time.monotonic() - started, 1)}
        self.done[name] = result
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"format": 1, "config": self.config, "stages": self.done}, indent=2) + "\n",
                       encoding="utf-8")
        tmp.replace(self.path)
        return result


SFT_TOKENS_PER_S = {False: 35.0, True: 90.0}  # the 0.5B, LoRA r16, trainer cpu, 2 cores, by `bf16` (docs/training.md)
ATTEMPT_S = 75.0  # one 0.5B attempt with its grading, 2 cores (docs/results.md: median 58 to 88 s)


def plan(config: RecipeConfig, done: dict[str, dict]) -> list[tuple[str, str, float]]:
    """(stage, status, rough seconds) for every stage, from this machine's measured speeds."""
    epochs = float((config.sft or {}).get("num_epochs", 1))
    speed = SFT_TOKENS_PER_S[bool((config.sft or {}).get("bf16"))]
    rows = [("hf", 60.0), ("data", 15.0), ("sft", config.data_tokens * epochs / speed),
            ("export-sft", 60.0)]
    for r in range(1, config.rounds + 1):
        sampled = config.round_tasks * config.samples
        rows += [(f"round-{r}-before", config.gain_tasks * ATTEMPT_S), (f"round-{r}-sample", sampled * ATTEMPT_S),
                 (f"round-{r}-data", 15.0), (f"round-{r}-sft", sampled * 0.5 * 2 * 2500 / speed),
                 (f"round-{r}-export", 60.0), (f"round-{r}-after", config.gain_tasks * ATTEMPT_S)]
    return [(name, "done" if name in done else "to do", 0.0 if name in done else s) for name, s in rows]


def show_plan(config: RecipeConfig, done: dict[str, dict], console: Console) -> None:
    from rich.table import Table

    rows = plan(config, done)
    left = sum(s for _, _, s in rows)
    table = Table(title=f"recipe {config.name}: about {left / 3600:.1f} h left on 2 cores (rough)")
    for col in ("stage", "status", "rough time"):
        table.add_column(col)
    for name, status, seconds in rows:
        table.add_row(name, status, "" if status == "done" else f"{seconds / 60:.0f} min")
    console.print(table)


def pick(tasks: list, n: int, seed: int) -> list:
    """n tasks, even across kinds, fixed by the seed."""
    rng = random.Random(seed)
    by_kind: dict[str, list] = {}
    for t in sorted(tasks, key=lambda t: t.id):
        by_kind.setdefault(t.kind, []).append(t)
    for group in by_kind.values():
        rng.shuffle(group)
    out, queues = [], list(by_kind.values())
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop())
    return out


def good_rate(path: Path) -> dict:
    from appwright.agent.trajectory import read_jsonl

    grades = [t.grade for t in read_jsonl(path) if t.grade] if path.is_file() else []
    n = len(grades)
    return {"attempts": n, "good": sum(g.good for g in grades),
            "mean_reward": round(sum(g.reward for g in grades) / n, 4) if n else 0.0}


def run_recipe(config: RecipeConfig, console: Console | None = None) -> dict:
    from appwright.agent.config import Budget, HarnessConfig
    from appwright.models import get_model, load_backend
    from appwright.models.pull import ensure_model
    from appwright.models.registry import load_registry
    from appwright.tasks.bank import TaskBank
    from appwright.tasks.domains import load_domains
    from appwright.train.data import sample
    from appwright.train.export import export_adapter
    from appwright.train.hf import export_hf
    from appwright.train.references import (reference_rows, select_rows, tokenizer_count,
                                            write_reference_dataset)
    from appwright.train.sft import run_sft

    console = console or Console(stderr=True)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.yaml").write_text(to_yaml(config), encoding="utf-8")
    recipe = Recipe(out, config)
    hf, data = out / "hf", out / "data"
    show_plan(config, recipe.done, console)

    # 1-2. The base as an HF folder; the reference rows.
    def make_hf() -> dict:
        import shutil

        shutil.rmtree(hf, ignore_errors=True)  # a half-written folder from a stopped run
        source = export_hf(ensure_model(get_model(config.base), console), hf, base=config.base)
        return {"folder": str(hf), "parameters": source.parameters}

    def make_data() -> dict:
        from transformers import AutoTokenizer

        rows = reference_rows()
        count = tokenizer_count(AutoTokenizer.from_pretrained(str(hf)))
        picked, duplicates = select_rows(rows, config.data_tokens, config.seed, count, config.kind_weights)
        stats = write_reference_dataset(picked, data, read=len(rows), duplicates=duplicates)
        return {"dataset": str(data), "rows": stats.rows, "tokens": sum(sum(count(m["content"]) for m in r.messages())
                                                                        for r in picked)}

    def ours(name: str) -> bool:
        """`name` is registered as this recipe's own adapter (a run stopped before recording the stage)."""
        spec = load_registry().get(name)
        if spec is None:
            return False
        mine = (out / "gguf" / f"{name}.lora-{config.quant}.gguf").resolve()
        if spec.lora_path() != mine or not mine.is_file():
            raise ConfigError(f"the model name {name} is taken by another model ({spec.lora_path() or spec.location});"
                              f" choose another recipe name, or remove it from your models.toml")
        return True

    for r in range(config.rounds + 1):  # a name taken by someone else stops the recipe now, not hours in
        ours(f"{config.name}-r{r}" if r else f"{config.name}-sft")

    if "hf" in recipe.done and not (hf / "config.json").is_file():  # made again from the base, not kept
        del recipe.done["hf"]  # (a run carried to another machine without its 2.5 GB copy of the base)
    recipe.run("hf", console, make_hf)
    recipe.run("data", console, make_data)

    # 3-4. SFT and its adapter GGUF.
    def train(key: str, dataset: Path, folder: Path, adapter: str | None) -> dict:
        record = run_sft(config.sft_config(key, str(hf), str(dataset), str(folder), adapter), console)
        return {"adapter": record.adapter, "steps": record.steps, **record.final_metrics}

    def export(name: str, folder: Path) -> dict:
        if ours(name):
            return {"model": name, "gguf": str(get_model(name).lora_path())}
        card = export_adapter(name, folder, out / "gguf", config.quant, config.base)
        return {"model": name, "gguf": card.gguf, "sha256": card.sha256, "bytes": card.size_bytes}

    recipe.run("sft", console, lambda: train("sft", data, out / "sft", None))
    model = recipe.run("export-sft", console, lambda: export(f"{config.name}-sft", out / "sft"))["model"]
    adapter = recipe.done["sft"]["adapter"]

    # 5. Expert iteration.
    bank = TaskBank.default()
    family = {d.name: d.family for d in load_domains()}
    train_tasks = [t for t in bank.select(split="train") if t.domain in family]
    in_round = [t for t in train_tasks if family[t.domain] != config.held_out_family]
    held_out = pick([t for t in train_tasks if family[t.domain] == config.held_out_family], config.gain_tasks,
                    config.seed)
    harness = HarnessConfig(budget=Budget(max_steps=2), temperature=config.temperature)

    def attempts(model_name: str, tasks: list, path: Path, samples: int, keep: str) -> dict:
        cluster = config.ray
        backend = load_backend(model_name, console=console) if cluster is None else model_name  # Ray: per worker
        try:
            sample(tasks, backend, path, samples, keep, harness, browser=config.browser,  # type: ignore[arg-type]
                   prompt_style=get_model(model_name).prompt, ray=cluster,
                   on_attempt=lambda t, tr: console.print(f"  {t.id}: reward {tr.grade.reward:.2f}"
                                                          f"{' good' if tr.grade.good else ''}", highlight=False))
        finally:
            if not isinstance(backend, str):
                backend.close()
        return {"model": model_name, "file": str(path), **good_rate(path)}

    def round_data(r: int, samples_file: Path) -> dict:
        from datasets import load_from_disk

        from appwright.agent.sft import SFTDataStats, write_sft_dataset
        from appwright.train.data import build_sft_dataset

        good_dir, folder = out / f"round-{r}" / "good", out / f"round-{r}" / "data"
        build_sft_dataset([samples_file], good_dir)
        good = [dict(x) for x in load_from_disk(str(good_dir))]
        family_of = {t.id: family[t.domain] for t in train_tasks}
        refs = [dict(x) for x in load_from_disk(str(data)).shuffle(seed=config.seed + r)
                if family_of.get(x["task_id"]) != config.held_out_family][:len(good)]  # held out of the round
        write_sft_dataset(good + refs, SFTDataStats(sources=[str(samples_file), str(data)], read=len(good) + len(refs),
                                                    rows=len(good) + len(refs),
                                                    tasks=len({x["task_id"] for x in good + refs})), folder)
        return {"dataset": str(folder), "good_rows": len(good), "reference_rows": len(refs)}

    for r in range(1, config.rounds + 1):
        folder = out / f"round-{r}"
        tasks = pick(in_round, config.round_tasks, config.seed + r)
        before = recipe.run(f"round-{r}-before", console,
                            lambda: attempts(model, held_out, folder / "held-out-before.jsonl", 1, "all"))
        sampled = recipe.run(f"round-{r}-sample", console,  # all kept: a rerun makes only the missing ones
                             lambda: attempts(model, tasks, folder / "samples.jsonl", config.samples, "all"))
        if not sampled["good"]:
            console.print(f"round {r}: no good attempt to train on; the recipe stops at {model}", highlight=False)
            break
        made = recipe.run(f"round-{r}-data", console, lambda: round_data(r, folder / "samples.jsonl"))
        trained = recipe.run(f"round-{r}-sft", console,
                             lambda: train("round_sft", Path(made["dataset"]), folder / "sft", adapter))
        adapter = trained["adapter"]
        model = recipe.run(f"round-{r}-export", console, lambda: export(f"{config.name}-r{r}", folder / "sft"))["model"]
        after = recipe.run(f"round-{r}-after", console,
                           lambda: attempts(model, held_out, folder / "held-out-after.jsonl", 1, "all"))
        console.print(f"round {r} on {config.held_out_family} (held out): good {before['good']} -> {after['good']} "
                      f"of {after['attempts']}, mean reward {before['mean_reward']} -> {after['mean_reward']}",
                      highlight=False)
    return {"model": model, "adapter": adapter, "stages": recipe.done}

