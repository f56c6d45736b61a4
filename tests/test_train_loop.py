"""The whole training loop on a CPU, end to end, with a tiny random Qwen2 (2 layers, hidden 64)
built from the real tokenizer: rejection-sampled data -> SFT (2 steps) -> GRPO (2 steps, TRL
generating, rewards from the real graders on real bundles) -> resume -> GRPO on known answers
(rewards that differ, so the policy moves; graded on two Ray workers) -> merged GGUF served by
the llamacpp backend.

The random model writes garbage, so its rewards are 0 and GRPO's advantages with them: the
first GRPO run checks the loop (a reward per completion, metrics, checkpoints, resume). The
second replays one reference answer and one bad answer per group through TRL's `rollout_func`
seam, so the graders' rewards differ and every LoRA parameter must change.
"""

import json
from pathlib import Path

import pytest

from appwright.models import GenerationConfig, Message
from appwright.models import ScriptedBackend
from appwright.tasks.bank import TaskBank, reference_files
from appwright.train.config import RLConfig, SFTRunConfig
from appwright.train.curriculum import PassRates
from appwright.train.data import build_sft_dataset, sample
from appwright.train.metrics import read_metrics

pytestmark = pytest.mark.slow
BANK = TaskBank.default()
TASK = next(t for t in BANK.select(split="train", kind="build") if t.domain)


def files_answer(files: dict[str, str]) -> str:
    return "\n".join(f'<file path="{p}">\n{c}\n</file>' for p, c in files.items())


def lora_tensors(folder: Path) -> dict:
    from safetensors.torch import load_file

    tensors = load_file(str(folder / "adapter_model.safetensors"))
    assert tensors and all("lora_" in k for k in tensors)
    return tensors


@pytest.fixture(scope="module")
def sft_run(tiny, tmp_path_factory):
    from appwright.train.sft import run_sft

    root = tmp_path_factory.mktemp("sft")
    good = files_answer(reference_files(TASK, records=True))  # the short reference (aw.ui.records): fewer tokens
    stats = sample([TASK], ScriptedBackend([good]), root / "good.jsonl", samples=1, browser=False,
                   prompt_style="compact")  # our model's prompt (registry `prompt`), a third of the full one
    assert stats.kept == 1
    build_sft_dataset([root / "good.jsonl"], root / "data")
    config = SFTRunConfig(model=str(tiny), dataset=str(root / "data"), out=str(root / "run"), max_steps=2,
                          gradient_accumulation_steps=1, learning_rate=1e-2, save_steps=1)
    return run_sft(config), Path(config.out)


def test_sft_trains_every_lora_parameter_on_assistant_tokens(sft_run):
    record, out = sft_run
    assert record.kind == "sft" and record.steps == 2 and record.base == "tiny-qwen2-2x64"
    first, last = lora_tensors(out / "checkpoint-1"), lora_tensors(out / "adapter")
    # step 1 moves every B (A's gradient is 0 while B is 0), step 2 moves every A and B
    unchanged = [k for k in first if (first[k] == last[k]).all()]
    assert not unchanged, unchanged
    rows = read_metrics(out / "metrics.jsonl")
    assert [r["step"] for r in rows if "loss" in r] == [1, 2] and all(r["loss"] > 0 for r in rows if "loss" in r)
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))


@pytest.fixture(scope="module")
def rl_run(tiny, tmp_path_factory):
    from appwright.train.rl import run_rl

    out = tmp_path_factory.mktemp("rl") / "run"
    config = RLConfig(model=str(tiny), out=str(out), limit=3, max_steps=2, num_generations=2, tasks_per_step=1,
                      max_completion_length=8, browser=False, save_steps=1, learning_rate=1e-3,
                      prompt="compact")  # a third of the full prompt's tokens: TRL scores every position
    return config, run_rl(config), out


def test_grpo_runs_two_steps_with_a_grader_reward_per_completion(rl_run):
    config, record, out = rl_run
    assert record.kind == "rl" and record.steps == 2
    rollouts = [json.loads(x) for x in (out / "rollouts.jsonl").read_text().splitlines()]
    assert len(rollouts) == 2 * config.generation_batch  # every completion graded, each step
    assert {r["step"] for r in rollouts} == {0, 1}
    assert all(r["reward"] == 0.0 and r["failed_checks"] for r in rollouts)  # garbage, graded for real
    rows = [r for r in read_metrics(out / "metrics.jsonl") if "reward" in r]
    assert [r["step"] for r in rows] == [1, 2]
    for key in ("reward", "harness/good_rate", "completions/mean_length", "rewards/harness/mean", "entropy"):
        assert all(key in r for r in rows), key
    assert (out / "checkpoint-2" / "pass_rates.json").is_file() and (out / "adapter").is_dir()
    rates = PassRates.load(out / "pass_rates.json")
    assert sum(rates.tried.values()) == len(rollouts) and not any(rates.passed.values())


def test_a_rerun_resumes_from_the_last_checkpoint(rl_run):
    from dataclasses import replace

    from appwright.train.rl import run_rl

    config, _, out = rl_run
    before = len((out / "rollouts.jsonl").read_text().splitlines())
    record = run_rl(replace(config, max_steps=3))  # continues from checkpoint-2: one more step
    after = (out / "rollouts.jsonl").read_text().splitlines()
    assert record.steps == 3 and len(after) == before + config.generation_batch
    assert json.loads(after[-1])["step"] == 2
    assert sum(PassRates.load(out / "pass_rates.json").tried.values()) == len(after)  # rates carried over


def replay(prompts, trainer):
    """TRL's rollout_func: one completion per (already repeated) prompt, a reference answer and a
    bad one by turns."""
    good = files_answer(reference_files(TASK, records=True)).removeprefix('<file path="app.json">\n')
    bad = "no app, sorry"
    tok = trainer.processing_class
    answers = [good if i % 2 == 0 else bad for i in range(len(prompts))]
    return {"prompt_ids": [tok(p, add_special_tokens=False)["input_ids"] for p in prompts],
            "completion_ids": [tok(a + "<|im_end|>", add_special_tokens=False)["input_ids"] for a in answers],
            "logprobs": None}


@pytest.fixture(scope="module")
def replay_run(tiny, sft_run, tmp_path_factory):
    """Two GRPO steps from the SFT adapter, the rollouts graded on two Ray workers (a local Ray):
    the path of GRPO's grading on a cluster (the rl_run above grades in this process)."""
    from appwright.cluster import RayConfig
    from appwright.train.rl import run_rl

    out = tmp_path_factory.mktemp("replay") / "run"
    config = RLConfig(model=str(tiny), adapter=sft_run[0].adapter, out=str(out), task_ids=(TASK.id,),
                      tasks_per_step=1, num_generations=2, max_steps=2, max_completion_length=2048,
                      browser=False, learning_rate=1e-2, save_steps=10, ray=RayConfig("local", workers=2))
    return run_rl(config, rollout_func=replay), out


def test_grpo_moves_every_lora_parameter_when_the_graders_rewards_differ(sft_run, replay_run):
    record, out = replay_run
    rollouts = [json.loads(x) for x in (out / "rollouts.jsonl").read_text().splitlines()]
    # graded on the Ray workers, the rewards come back in order
    assert record.steps == 2 and [(r["step"], r["reward"]) for r in rollouts] == [(0, 1.0), (0, 0.0), (1, 1.0),
                                                                                  (1, 0.0)]
    start, end = lora_tensors(Path(sft_run[0].adapter)), lora_tensors(out / "adapter")
    assert start.keys() == end.keys()
    unchanged = [k for k in start if (start[k] == end[k]).all()]
    assert not unchanged, unchanged
    assert [s.kind for s in [*record.previous, record]] == ["sft", "rl"]


def test_the_export_is_a_gguf_the_llamacpp_backend_serves(replay_run, tmp_path, monkeypatch, request):
    from appwright.models.llamacpp import LlamaCppBackend
    from appwright.models.registry import load_registry
    from appwright.train.export import card_path, export_model

    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(tmp_path / "models.toml"))
    _, out = replay_run
    card = export_model("tiny-rl", out, tmp_path / "gguf", quant="q8_0",
                        cache=Path(request.config.cache.mkdir("appwright-train")))
    spec = load_registry()["tiny-rl"]
    assert spec.backend == "llamacpp" and Path(spec.location) == Path(card.gguf)
    assert "sft 2 steps" in spec.description and "rl 2 steps" in spec.description
    assert spec.prompt == "compact"  # the RL run went on from the SFT adapter, so it prompted as the SFT rows do
    assert json.loads(card_path(Path(card.gguf)).read_text())["stages"][1]["kind"] == "rl"
    backend = LlamaCppBackend(spec, spec.location, n_ctx=256)
    try:
        done = backend.complete([Message("user", "hi")], config=GenerationConfig(max_tokens=3, seed=0))
    finally:
        backend.close()
    assert done.completion_tokens >= 1 and done.prompt_token_ids
