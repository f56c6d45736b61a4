"""`appwright train ...`, `appwright data ...` and `appwright models export[-hf|-peft]`: thin shells
over train/. Mounted by the top-level CLI (the models package never imports this one).

    appwright models export-hf qwen2.5-coder-0.5b --out runs/hf/qwen0.5b
    appwright models export-peft appwright-0.5b --out runs/aw05b     # our model, to go on training it
    appwright data sample --model qwen2.5-coder-1.5b --split train --samples 4 --keep good --out data/good.jsonl
    appwright data sft data/good.jsonl --out data/sft
    appwright train sft examples/train/sft-qwen0.5b.yaml
    appwright train rl examples/train/rl-qwen0.5b.yaml
    appwright train recipe examples/train/recipe-appwright-0.5b.yaml   # all of it, resumable
    appwright models export qwen0.5b-rl1 --from runs/rl1 --eval runs/eval-after
    appwright train card qwen0.5b-rl1 --eval runs/eval-after     # add eval scores later

Bad input (a config that does not validate, a held-out split, an unknown model) prints one
line and exits 2; a failure while running (a model that fails to load, a pull that fails,
no trajectory kept) exits 1 (appwright/exits.py). torch, transformers and TRL are imported
only inside the commands, so `appwright --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from appwright.exits import FAILED, INTERRUPTED, USAGE, fail

train_app = typer.Typer(help="Train the own model: SFT on good trajectories, GRPO in the harness.",
                        no_args_is_help=True)
data_app = typer.Typer(help="Training data: rejection sampling on train tasks, trajectories -> SFT dataset.",
                       no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@train_app.command("sft")
def sft_command(config: Path = typer.Argument(..., help="An SFT config YAML (see examples/train/).")) -> None:
    """Supervised fine-tuning with LoRA on a chat dataset, loss on assistant tokens only."""
    from appwright.train.config import ConfigError, SFTRunConfig, load_config
    from appwright.train.rl import TrainError
    from appwright.train.sft import run_sft

    try:
        record = run_sft(load_config(SFTRunConfig, config), err)
    except (ConfigError, TrainError) as exc:  # a config or dataset that does not fit
        fail(str(exc), USAGE)
    except KeyboardInterrupt:  # trainer cpu saved a checkpoint; a rerun goes on from it
        raise typer.Exit(INTERRUPTED)
    out.print(f"[green]done[/] {record.steps} steps; adapter: {escape(record.adapter)}", highlight=False)


@train_app.command("recipe")
def recipe_command(config: Path = typer.Argument(..., help="A recipe YAML (examples/train/recipe-*.yaml).")) -> None:
    """Our own model in one command: base -> HF, reference data, SFT, expert iteration rounds, adapter GGUFs.
    Resumable: run it again after a stop and it goes on where it was."""
    from appwright.models import ModelError
    from appwright.train.config import ConfigError, load_config
    from appwright.train.data import DataError
    from appwright.train.export import ExportError
    from appwright.train.hf import HFExportError
    from appwright.train.recipe import RecipeConfig, run_recipe
    from appwright.train.rl import TrainError

    try:
        recipe = load_config(RecipeConfig, config)
    except ConfigError as exc:
        fail(str(exc), USAGE)
    try:
        result = run_recipe(recipe, err)
    except ConfigError as exc:  # another config for the same out, a model name taken
        fail(str(exc), USAGE)
    except (TrainError, DataError, ExportError, HFExportError, ModelError) as exc:  # a stage that failed
        fail(str(exc), FAILED)
    except KeyboardInterrupt:
        err.print("stopped; run the same command again to go on", highlight=False)
        raise typer.Exit(INTERRUPTED)
    out.print(f"[green]done[/]: {escape(result['model'])} (adapter {escape(result['adapter'])}); stages in "
              f"{escape(str(Path(recipe.out) / 'recipe.json'))}", highlight=False)


@train_app.command("rl")
def rl_command(config: Path = typer.Argument(..., help="An RL config YAML (see examples/train/).")) -> None:
    """GRPO on train tasks: completions go through the harness, rewards come from the graders."""
    from appwright.train.config import ConfigError, RLConfig, load_config
    from appwright.train.rl import TrainError, run_rl

    try:
        record = run_rl(load_config(RLConfig, config), err)
    except (ConfigError, TrainError) as exc:  # a config or task selection that does not fit
        fail(str(exc), USAGE)
    out.print(f"[green]done[/] {record.steps} steps; adapter: {escape(record.adapter)}", highlight=False)


@train_app.command("card")
def card_command(
    name: str = typer.Argument(..., help="A model made by `appwright models export`."),
    eval_dir: Path = typer.Option(..., "--eval", help="An `appwright eval run` output folder (its metrics.json)."),
) -> None:
    """Add an eval run's scores to a trained model's card (NAME's GGUF + .card.json)."""
    from appwright.models import ModelError, get_model
    from appwright.train.export import ExportError, add_eval, card_path

    try:
        spec = get_model(name)
        card = add_eval(card_path(spec.lora_path() or Path(spec.location)), eval_dir)  # an adapter's card is beside it
    except (ModelError, ExportError, FileNotFoundError) as exc:  # unknown model, no card, no metrics.json
        fail(str(exc), USAGE)
    out.print(f"{name}: eval scores from {', '.join(card.eval)}", highlight=False)


@data_app.command("sample")
def sample_command(
    model: str = typer.Option(..., "--model", help="A registry name (appwright models list): any backend."),
    out_file: Path = typer.Option(..., "--out", help="Trajectories JSONL to append the kept attempts to."),
    split: str = typer.Option("train", help="Only train: dev and test are never trained on."),
    samples: int = typer.Option(4, help="Attempts per task."),
    keep: str = typer.Option("good", help="good: keep attempts that pass every required check; all: keep all."),
    kinds: str = typer.Option("build,edit,fix,taste", help="Task kinds, comma-separated."),
    limit: Optional[int] = typer.Option(None, help="At most this many tasks (the first N by id)."),
    max_steps: int = typer.Option(2, help="Model calls per attempt (2: one answer and one repair)."),
    temperature: float = typer.Option(0.7, help="Sampling temperature (diversity across samples)."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Grade with the browser checks too."),
    ray: Optional[str] = typer.Option(None, "--ray", help="Run the attempts on Ray: local, auto, or a cluster "
                                      "head's host:port (docs/scale.md)."),
    ray_workers: int = typer.Option(2, help="With --ray: workers (one model instance and its Chromiums each)."),
    ray_threads: int = typer.Option(1, help="With --ray: CPUs per worker, and its llama.cpp threads."),
) -> None:
    """Rejection sampling: run the agent on train tasks, grade each attempt, keep the good ones."""
    from appwright.agent.config import Budget, HarnessConfig
    from appwright.cluster import RayConfig
    from appwright.models import ModelError, get_model, load_backend
    from appwright.tasks.bank import TaskBank
    from appwright.train.data import DataError, sample

    if split != "train":
        fail(f"--split {split}: only train tasks are sampled for training (dev and test are held out)", USAGE)
    if keep not in ("good", "all") or samples < 1:
        fail("--keep is good or all, and --samples at least 1", USAGE)
    wanted = {k.strip() for k in kinds.split(",") if k.strip()}
    tasks = sorted((t for t in TaskBank.default().select(split="train") if t.kind in wanted), key=lambda t: t.id)
    tasks = tasks[:limit] if limit else tasks
    try:
        spec = get_model(model)
        cluster = RayConfig(ray, ray_workers, ray_threads) if ray is not None else None
    except (ModelError, ValueError) as exc:  # an unknown model, a bad --ray
        fail(str(exc), USAGE)
    try:
        if cluster is None:
            backend = load_backend(model, console=err)
        else:  # each Ray worker loads its own; the weights are pulled here first
            from appwright.models.pull import ensure_model

            backend = model
            if spec.embedded:
                ensure_model(spec, err)
    except ModelError as exc:  # the model failed to pull or load
        fail(str(exc), FAILED)
    try:
        stats = sample(tasks, backend, out_file, samples, keep,  # type: ignore[arg-type]
                       config=HarnessConfig(budget=Budget(max_steps=max_steps), temperature=temperature),
                       browser=browser, prompt_style=spec.prompt, ray=cluster,
                       on_attempt=lambda t, traj: err.print(f"  {escape(t.id)}: reward "
                                                            f"{traj.grade.reward:.2f}"
                                                            f"{' good' if traj.grade.good else ''}",
                                                            highlight=False))
    except DataError as exc:  # a held-out task among them, or attempts that failed on Ray
        fail(str(exc), USAGE if cluster is None else FAILED)
    except ConnectionError as exc:  # --ray: nothing answers at the address
        fail(str(exc), FAILED)
    except KeyboardInterrupt:
        err.print(f"[yellow]interrupted:[/] the kept attempts are in {escape(str(out_file))}; run the same command "
                  "again to go on", highlight=False)
        raise typer.Exit(INTERRUPTED)
    finally:
        if not isinstance(backend, str):
            backend.close()
    out.print(f"{stats.attempts} attempts, {stats.good} good, {stats.kept} kept in {escape(str(out_file))} "
              f"({stats.skipped} already there)", highlight=False)


@data_app.command("sft")
def data_sft_command(
    trajectories: list[Path] = typer.Argument(..., help="Trajectory JSONL files (data sample, eval runs)."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for the dataset (datasets' save_to_disk)."),
    keep: str = typer.Option("good", help="good: only trajectories graded good; all: every graded one."),
) -> None:
    """Turn trajectories into a deduplicated chat dataset of train tasks only."""
    from appwright.train.data import DataError, build_sft_dataset

    if keep not in ("good", "all"):
        fail("--keep is good or all", USAGE)
    try:
        stats = build_sft_dataset(trajectories, out_dir, keep)  # type: ignore[arg-type]
    except DataError as exc:  # no trajectory was kept: nothing to write
        fail(str(exc), FAILED)
    except (FileNotFoundError, ValueError) as exc:  # a trajectory file that is missing or not one
        fail(str(exc), USAGE)
    out.print(f"{stats.rows} rows of {stats.tasks} train tasks from {stats.read} trajectories -> "
              f"{escape(str(out_dir))} (dropped: {stats.dropped_split} not train, {stats.dropped_not_good} not good, "
              f"{stats.dropped_ungraded} ungraded, {stats.dropped_duplicate} duplicates)", highlight=False)


@data_app.command("references")
def data_references_command(
    out_dir: Path = typer.Option(..., "--out", help="Folder for the dataset (replaced)."),
    max_tokens: int = typer.Option(250_000, help="Token budget of whole rows (system + request + answer); "
                                                 "0 with --repairs: repair rows only."),
    seed: int = typer.Option(0, help="Which rows, when the budget holds fewer than all."),
    tokenizer: Optional[Path] = typer.Option(None, help="An HF folder whose tokenizer counts the tokens "
                                                        "(default: characters / 4)."),
    weight: list[str] = typer.Option([], help="KIND=N: N rows of that kind per family for each row of a kind "
                                              "not named (repeatable), e.g. build=6."),
    repairs: int = typer.Option(0, help="Add this many repair-turn rows (a first answer with a bug, check_app's "
                                        "request, the fixed file); runs Chromium, about 5 s a row."),
) -> None:
    """The reference solutions of train tasks as SFT rows, in the harness's answer format, even across kinds and families."""
    from appwright.train.references import (check_weights, estimate_tokens, reference_rows, select_rows,
                                            tokenizer_count, write_reference_dataset)

    if repairs < 0:
        fail("--repairs must be 0 or more", USAGE)
    if max_tokens < (0 if repairs else 1):
        fail("--max-tokens must be positive (or 0 with --repairs, for repair rows only)", USAGE)
    try:
        if any("=" not in w for w in weight):
            raise ValueError("no =")
        weights = check_weights({k.strip(): int(n) for k, n in (w.split("=", 1) for w in weight)})
    except ValueError as exc:  # no "=", a count that is not a whole number, an unknown kind
        fail(f"--weight {' '.join(weight)}: {exc}; write KIND=N, e.g. build=6", USAGE)
    count = estimate_tokens
    if tokenizer is not None:
        from transformers import AutoTokenizer

        try:
            count = tokenizer_count(AutoTokenizer.from_pretrained(str(tokenizer)))
        except (OSError, ValueError) as exc:  # not a folder with a tokenizer
            fail(f"--tokenizer {tokenizer}: {exc}", USAGE)
    rows = reference_rows() if max_tokens else []  # 0: repair rows only
    picked, duplicates = select_rows(rows, max_tokens, seed, count, weights) if rows else ([], 0)
    if max_tokens and not picked:
        fail(f"no row fits in {max_tokens} tokens", USAGE)
    fixed = []
    if repairs:
        from appwright.train.repairs import repair_rows

        with Progress(TextColumn("repair rows"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err) as bar:
            job = bar.add_task("repairs", total=repairs)
            fixed, skipped = repair_rows(repairs, seed, on_row=lambda i, n: bar.update(job, completed=i))
        for reason, n in sorted(skipped.items()):
            err.print(f"skipped {n}: {escape(reason)}", highlight=False)
        if len(fixed) < repairs:
            err.print(f"[yellow]only {len(fixed)} repair rows of {repairs} asked for[/]")
    stats = write_reference_dataset(picked + fixed, out_dir, read=len(rows) or None, duplicates=duplicates)
    kinds = {}
    for r in picked:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    if fixed:
        kinds["repair"] = len(fixed)
    out.print(f"{stats.rows} rows ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}) of "
              f"{stats.read} train tasks -> {escape(str(out_dir))}", highlight=False)


def export_hf_command(
    name: str = typer.Argument(..., help="An embedded model (appwright models list), e.g. qwen2.5-coder-0.5b."),
    out_dir: Path = typer.Option(..., "--out", help="An empty folder for the HF model."),
) -> None:
    """Write an embedded GGUF model as a trainable Hugging Face folder (weights, tokenizer, chat template)."""
    from appwright.models import ModelError, get_model
    from appwright.models.pull import ensure_model
    from appwright.train.hf import HFExportError, export_hf

    try:
        spec = get_model(name)
    except ModelError as exc:  # an unknown model
        fail(str(exc), USAGE)
    if spec.backend not in ("llamacpp", "transformers") or not spec.cache_path().suffix == ".gguf":
        fail(f"{name} is not a local GGUF model (backend {spec.backend})", USAGE)
    try:
        gguf = ensure_model(spec, err)
    except ModelError as exc:  # the pull failed
        fail(str(exc), FAILED)
    try:
        source = export_hf(gguf, out_dir, base=name)
    except HFExportError as exc:  # no chat template, a --out that holds files
        fail(str(exc), USAGE)
    out.print(f"{escape(str(out_dir))}: {source.parameters:,} parameters in {source.seconds:.0f} s", highlight=False)


def export_peft_command(
    name: str = typer.Argument(..., help="A LoRA model of the registry, e.g. appwright-0.5b."),
    out_dir: Path = typer.Option(..., "--out", help="An empty folder: OUT/adapter is the PEFT adapter."),
) -> None:
    """Write a GGUF LoRA model as a PEFT adapter to go on training (an SFT config's `adapter: OUT/adapter`)."""
    from appwright.models import ModelError, get_model
    from appwright.train.gguf_lora import GGUFLoraError, peft_from_gguf

    try:
        spec = get_model(name)
    except ModelError as exc:  # an unknown model
        fail(str(exc), USAGE)
    try:
        folder = peft_from_gguf(spec, out_dir)
    except GGUFLoraError as exc:  # not a LoRA model, a file that is no qwen2 GGUF adapter, a full --out
        fail(str(exc), USAGE)
    except ModelError as exc:  # the adapter is missing or not the bytes its card pins, the base's pull failed
        fail(str(exc), FAILED)
    out.print(f"{escape(str(folder))}: the PEFT adapter of {escape(name)}; go on training it with "
              f"`adapter: {escape(str(folder))}` in an SFT config", highlight=False)


def export_command(
    name: str = typer.Argument(..., help="The new model's registry name."),
    checkpoint: Path = typer.Option(..., "--from", help="A training run folder, its adapter/ or a checkpoint-N."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for the GGUF (default: the model cache's "
                                                                "trained/)."),
    quant: Optional[str] = typer.Option(None, help="q4_k_m (the default; what the embedded models use), q8_0 or "
                                                   "f16; with --adapter: f16 (the default), q8_0 or f32."),
    evals: list[Path] = typer.Option([], "--eval", help="`appwright eval run` folders whose scores go in the card."),
    adapter: bool = typer.Option(False, "--adapter", help="Write the LoRA alone as a GGUF adapter served on top of "
                                                          "its base's GGUF (no merge, no second copy of the base)."),
    base: Optional[str] = typer.Option(None, "--base", help="With --adapter: the registry model it sits on (default: "
                                                            "the one its HF base folder was exported from)."),
    prompt: Optional[str] = typer.Option(None, help="The system prompt it was trained with, which the registry "
                                                    "entry serves it with: compact or full (default: an RL run's "
                                                    "config says; SFT: compact, as `appwright data references` "
                                                    "writes)."),
) -> None:
    """Merge a LoRA into its base (--adapter: keep it apart), write a GGUF llamacpp serves, add it to your registry."""
    from appwright.models import ModelError
    from appwright.models.settings import models_settings
    from appwright.train.export import ConversionError, ExportError, export_adapter, export_model

    if base is not None and not adapter:
        fail("--base goes with --adapter (a merged export carries its base inside)", USAGE)
    target = out_dir or models_settings().cache_dir / "trained"
    try:
        card = (export_adapter(name, checkpoint, target, quant or "f16", base, evals, prompt=prompt) if adapter
                else export_model(name, checkpoint, target, quant or "q4_k_m", evals, prompt=prompt))
    except ConversionError as exc:  # the converter, the quantiser or the smoke test failed
        fail(str(exc), FAILED)
    except (ExportError, ModelError) as exc:  # no adapter, a name taken, a bad --quant or --eval, no base GGUF
        fail(str(exc), USAGE)
    out.print(f"[green]{escape(name)}[/]: {escape(card.gguf)} ({card.size_bytes / 2**20:.0f} MiB); "
              f"{escape(card.summary())}", highlight=False)
