"""SFT on a CPU: a short training loop on PEFT, for `appwright train sft` with `trainer: cpu`.

    record = run_cpu_sft(load_config(SFTRunConfig, "examples/train/sft-qwen0.5b-cpu.yaml"))
    loss, n = answer_loss(model, ids, start)     # one example's summed loss over its answer

Why not TRL's SFTTrainer here: its loss runs the model's output head (896 x 151,936 for the
0.5B, a quarter of the model's arithmetic per position) over every position of the example,
the prompt's included, and then masks the prompt out; it checkpoints by steps, not by time.
On two CPU cores a step of the 0.5B takes minutes, so this loop:

- runs the transformer over the whole example but the head over the answer's positions only
  (`logits_to_keep`: the answer is the example's last message, so its positions are a suffix);
- with `bf16: true`, runs the forward pass under CPU autocast: the matmuls in bfloat16, the
  weights, gradients and AdamW in float32; 2.1 to 2.4x faster on these cores (AVX512-BF16;
  benchmarks/train.py --sft), and slower on a CPU without bfloat16 instructions;
- trains one example at a time (batch 1, `gradient_accumulation_steps` examples per optimiser
  step, the loss averaged over the step's answer tokens): nothing is padded, so there is no
  padding to save by bucketing lengths;
- saves a checkpoint (adapter, optimiser, schedule, data order and position, RNG) at most
  `save_minutes` apart and every `save_steps` steps, and on Ctrl-C; a rerun with `resume: true`
  goes on from the newest checkpoint where it stopped, on the same data order.

An example is a row of an SFT dataset (`appwright data sft`, `appwright data references`):
the last message is the answer the loss is on (the assistant's, `<|im_end|>` included);
everything before it is prompt. A row longer than `max_length` tokens is skipped and
counted, not cut (a cut row would teach an answer to a request nobody made, or half an
answer). Nothing here needs a CPU: the TRL trainer (sft.py) stays the default on a GPU.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from appwright.train.config import SFTRunConfig, to_yaml
from appwright.train.metrics import METRICS, append_row
from appwright.train.records import read_run
from appwright.train.rl import TrainError

STATE = "trainer_state.json"
CHECKPOINT = "checkpoint-"


@dataclass
class Example:
    ids: list[int]  # prompt and answer tokens
    start: int  # index of the answer's first token


@dataclass
class LoopState:
    """Where a run stands; saved in every checkpoint."""
    step: int = 0  # optimiser steps done
    position: int = 0  # examples consumed, over all epochs
    tokens: int = 0  # answer tokens trained on
    seconds: float = 0.0  # training time so far, over all sessions
    skipped: int = 0  # rows longer than max_length, or whose answer the template does not keep apart
    seed: int = 0
    loss: float | None = None  # the last step's


def tokenize(rows: list[list[dict]], tokenizer, max_length: int) -> tuple[list[Example], int]:
    """Chat rows -> examples (prompt + last message); returns (examples, rows skipped as too long)."""
    out, skipped = [], 0
    for messages in rows:
        if not messages or messages[-1]["role"] != "assistant":
            skipped += 1  # nothing to learn from
            continue
        prompt = tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=True)
        full = tokenizer.apply_chat_template(messages, tokenize=True)
        prompt, full = _ids(prompt), _ids(full)
        if full[:len(prompt)] != prompt:  # e.g. an answer that starts with a newline merges with the header's
            skipped += 1
            continue
        end = len(full)  # the answer ends with <|im_end|>; a newline after it carries no loss
        while end > len(prompt) + 1 and tokenizer.decode(full[end - 1:end]).strip() == "":
            end -= 1
        if end > max_length:
            skipped += 1
            continue
        out.append(Example(ids=full[:end], start=len(prompt)))
    return out, skipped


def _ids(x) -> list[int]:
    return list(x["input_ids"] if isinstance(x, dict) or hasattr(x, "keys") else x)


def answer_loss(model, ids, start: int, bf16: bool = False):
    """(summed cross-entropy over the answer's tokens, their count) for one example. `ids`: a
    1 x L tensor; the answer is ids[start:]. The head runs on the L - start positions that
    predict it, not on the prompt. `bf16`: the forward pass under CPU autocast (matmuls in
    bfloat16, the float32 weights and the loss as they are)."""
    import torch
    import torch.nn.functional as F

    n = ids.shape[1] - start
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(input_ids=ids[:, :-1], logits_to_keep=n, use_cache=False).logits
    loss = F.cross_entropy(logits[0].float(), ids[0, start:], reduction="sum")
    return loss, n


def full_loss(model, ids, start: int):
    """The same loss with the head over every position, as TRL computes it (benchmarks compare)."""
    import torch.nn.functional as F

    logits = model(input_ids=ids[:, :-1], use_cache=False).logits
    return F.cross_entropy(logits[0, start - 1:].float(), ids[0, start:], reduction="sum"), ids.shape[1] - start


def order(n: int, epochs: int, seed: int) -> list[int]:
    """The examples' order over all epochs: a fresh shuffle per epoch, fixed by the seed."""
    rng, out = random.Random(seed), []
    for _ in range(epochs):
        idx = list(range(n))
        rng.shuffle(idx)
        out += idx
    return out


@contextmanager
def deferred_interrupt():
    """Ctrl-C while the parameters are being updated lands after the update, not in the middle of it
    (a checkpoint of half-updated weights would not resume the run it came from)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hit = []
    old = signal.signal(signal.SIGINT, lambda *_: hit.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if hit:
        raise KeyboardInterrupt


def checkpoints(out: Path) -> list[Path]:
    found = [p for p in out.glob(CHECKPOINT + "*") if p.name[len(CHECKPOINT):].isdigit() and (p / STATE).is_file()]
    return sorted(found, key=lambda p: int(p.name[len(CHECKPOINT):]))


def save_checkpoint(out: Path, model, optimizer, scheduler, state: LoopState, keep: int, rng) -> Path:
    """Write checkpoint-STEP atomically (a folder renamed into place), then drop the oldest. `rng`:
    the torch RNG state at the end of step STEP (dropout of the next step draws from it)."""
    import torch

    final = out / f"{CHECKPOINT}{state.step}"
    tmp = out / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": rng}, tmp / "optimizer.pt")
    (tmp / STATE).write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in checkpoints(out)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(folder: Path, model, optimizer, scheduler) -> LoopState:
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    set_peft_model_state_dict(model, load_file(str(folder / "adapter_model.safetensors")))
    saved = torch.load(folder / "optimizer.pt", weights_only=False)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["torch_rng"])
    return LoopState(**json.loads((folder / STATE).read_text(encoding="utf-8")))


SAME_RUN = ("model", "dataset", "adapter", "lora", "max_steps", "num_epochs", "learning_rate",
            "gradient_accumulation_steps", "max_length", "seed")  # what a resume must not change


def check_same_run(out: Path, config: SFTRunConfig) -> None:
    """Refuse to resume checkpoints in `out` with a config that trains something else."""
    import yaml

    saved = out / "config.yaml"
    if not checkpoints(out) or not saved.is_file():
        return
    before, now = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}, yaml.safe_load(to_yaml(config))
    changed = [k for k in SAME_RUN if before.get(k) != now.get(k)]
    if changed:
        raise TrainError(f"{out} holds checkpoints of a run with other {', '.join(changed)}; resume it with the "
                         f"same config, set resume: false to start over, or choose another out")


def run_cpu_sft(config: SFTRunConfig, console: Console | None = None, stop_after_steps: int | None = None):
    """Train a LoRA adapter on `config.dataset`; returns the RunRecord (sft.py writes it).
    `stop_after_steps`: stop (with a checkpoint) after this many steps of this session, as a
    Ctrl-C would (tests of resume)."""
    import torch
    from datasets import load_from_disk
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from appwright.train.sft import check_splits, finish

    console = console or Console(stderr=True)
    started = time.monotonic()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    if not config.resume:
        for old in checkpoints(out):
            shutil.rmtree(old)
    check_same_run(out, config)
    (out / "config.yaml").write_text(to_yaml(config), encoding="utf-8")
    torch.manual_seed(config.seed)

    # 1. Data, held to the train split, tokenized once.
    dataset = load_from_disk(config.dataset)
    if "messages" not in dataset.column_names:
        raise TrainError(f"{config.dataset}: no `messages` column; build it with `appwright data sft`")
    check_splits(list(dataset["task_id"]))
    tokenizer = AutoTokenizer.from_pretrained(config.model)
    examples, too_long = tokenize(list(dataset["messages"]), tokenizer, config.max_length)
    if not examples:
        raise TrainError(f"{config.dataset}: every row is longer than max_length ({config.max_length} tokens)")
    accum = config.gradient_accumulation_steps
    total = config.max_steps if config.max_steps > 0 else math.ceil(config.num_epochs * len(examples) / accum)
    plan = order(len(examples), math.ceil(total * accum / len(examples)), config.seed)

    # 2. Model and adapter, optimiser and a linear decay to zero.
    model = AutoModelForCausalLM.from_pretrained(config.model, dtype=torch.float32)
    lora = config.lora
    if config.adapter:  # go on training it: its own rank and modules, not config.lora's
        model = PeftModel.from_pretrained(model, config.adapter, is_trainable=True)
    else:
        model = get_peft_model(model, LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                                                 target_modules=list(lora.target_modules), task_type="CAUSAL_LM"))
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / total))
    state = LoopState(seed=config.seed, skipped=too_long)
    found = checkpoints(out)
    if found:
        state = load_checkpoint(found[-1], model, optimizer, scheduler)
        console.print(f"resuming from {found[-1]} (step {state.step} of {total})", highlight=False)
        if state.step >= total and (done := read_run(out)) is not None:
            return done  # finished before: nothing to do

    # 3. Train.
    model.train()
    session_steps, last_save, interrupted = 0, time.monotonic(), False
    progress = Progress(TextColumn("[bold]sft[/]"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                        TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("eta"),
                        TimeRemainingColumn(), console=console, transient=False)
    bar = progress.add_task("sft", total=total, completed=state.step, info="")
    try:
        with progress:
            while state.step < total:
                t0 = time.monotonic()
                rng = torch.get_rng_state()  # what this step's checkpoint keeps if it is stopped half way
                batch = [examples[plan[state.position + i]] for i in range(accum)]
                n_tokens = sum(len(e.ids) - e.start for e in batch)
                summed = 0.0
                for e in batch:
                    loss, _ = answer_loss(model, torch.tensor([e.ids]), e.start, config.bf16)
                    (loss / n_tokens).backward()
                    summed += loss.item()
                with deferred_interrupt():
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    seconds = time.monotonic() - t0
                    state.step += 1
                    state.position += accum
                    state.tokens += n_tokens
                    state.seconds += seconds
                    state.loss = summed / n_tokens
                    rng = torch.get_rng_state()
                session_steps += 1
                all_tokens = sum(len(e.ids) for e in batch)
                row = {"format": 1, "step": state.step, "epoch": round(state.position / len(examples), 3),
                       "time": round(time.time(), 3), "loss": summed / n_tokens,
                       "learning_rate": scheduler.get_last_lr()[0], "answer_tokens": n_tokens,
                       "tokens": all_tokens, "tokens_per_s": all_tokens / seconds, "step_seconds": seconds}
                append_row(out / METRICS, row)
                info = f"loss {row['loss']:.3f} · {row['tokens_per_s']:.0f} tok/s"
                progress.update(bar, completed=state.step, info=info)
                if not console.is_terminal:  # a log file: one line a step, with the time left
                    left = state.seconds / state.step * (total - state.step) if state.step else 0
                    console.print(f"sft step {state.step}/{total}: {info}, about {left / 60:.0f} min left",
                                  highlight=False)
                due = (time.monotonic() - last_save >= config.save_minutes * 60
                       or state.step % config.save_steps == 0 or state.step == total)
                if due:
                    save_checkpoint(out, model, optimizer, scheduler, state, config.save_total_limit, rng)
                    last_save = time.monotonic()
                if stop_after_steps is not None and session_steps >= stop_after_steps and state.step < total:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        interrupted = True
        if state.step and not (out / f"{CHECKPOINT}{state.step}").is_dir():
            save_checkpoint(out, model, optimizer, scheduler, state, config.save_total_limit, rng)
        console.print(f"stopped at step {state.step} of {total}; run it again to go on", highlight=False)
    if interrupted:
        raise KeyboardInterrupt
    final = {"train_loss": state.loss, "train_tokens": state.tokens,
             "train_seconds": round(state.seconds, 1), "skipped_too_long": state.skipped}
    return finish(config, model, tokenizer, out, steps=state.step, rows=len(dataset),
                  seconds=time.monotonic() - started, metrics=final)
