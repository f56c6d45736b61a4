"""The CPU SFT loop (train/cpu_sft.py) on the tiny random Qwen2 with the real tokenizer: the
head on the answer gives the same loss as the head everywhere; a run stopped half way and
resumed ends with the same adapter as a run that was never stopped; what it leaves behind is
what `train rl` and `models export` read."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from appwright.agent.sft import SFTDataStats, sft_row, write_sft_dataset
from appwright.tasks.bank import TaskBank
from appwright.train.config import ConfigError, SFTRunConfig
from appwright.train.metrics import read_metrics
from appwright.train.records import read_run
from appwright.train.rl import TrainError

pytestmark = pytest.mark.slow
TASKS = [t for t in TaskBank.default().select(split="train", kind="build")][:3]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    rows = [sft_row([{"role": "system", "content": "You build web apps."},
                     {"role": "user", "content": t.prompt},
                     {"role": "assistant", "content": f'<file path="app.json">\n{{"name": "{t.domain}"}}\n</file>\n'
                                                      f"Your {t.domain} app is ready."}],
                    t.id, f"r{i}", "reference", 1.0) for i, t in enumerate(TASKS)]
    out = tmp_path_factory.mktemp("data") / "sft"
    write_sft_dataset(rows, SFTDataStats(rows=len(rows), tasks=len(rows)), out)
    return out


def config(tiny: Path, dataset: Path, out: Path, **kw) -> SFTRunConfig:
    return SFTRunConfig(model=str(tiny), dataset=str(dataset), out=str(out), trainer="cpu", max_steps=4,
                        gradient_accumulation_steps=2, learning_rate=5e-3, save_steps=100, **kw)


def test_the_head_on_the_answer_alone_gives_the_same_loss(tiny):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from appwright.train.cpu_sft import answer_loss, full_loss, tokenize

    tok = AutoTokenizer.from_pretrained(str(tiny))
    model = AutoModelForCausalLM.from_pretrained(str(tiny), dtype=torch.float32)
    rows = [[{"role": "user", "content": "a notes app"}, {"role": "assistant", "content": "Here it is: notes."}]]
    (e,), skipped = tokenize(rows, tok, max_length=512)
    assert skipped == 0 and tok.decode(e.ids[e.start:]) == "Here it is: notes.<|im_end|>"
    a, n = answer_loss(model, torch.tensor([e.ids]), e.start)
    b, m = full_loss(model, torch.tensor([e.ids]), e.start)
    assert n == m == len(e.ids) - e.start and torch.allclose(a, b, rtol=1e-5)
    assert tokenize(rows, tok, max_length=e.start + 2) == ([], 1)  # too long: skipped, not cut
    c, k = answer_loss(model, torch.tensor([e.ids]), e.start, bf16=True)  # autocast: near, not equal
    assert k == n and torch.isclose(a, c, rtol=0.05) and not torch.equal(a, c)


def test_bf16_trains_under_autocast_and_keeps_float32_weights(tiny, dataset, tmp_path):
    from safetensors.torch import load_file

    from appwright.train.cpu_sft import run_cpu_sft

    record = run_cpu_sft(config(tiny, dataset, tmp_path / "bf16", bf16=True))
    losses = [r["loss"] for r in read_metrics(tmp_path / "bf16" / "metrics.jsonl") if "loss" in r]
    assert record.steps == 4 and len(losses) == 4 and losses[-1] < losses[0]
    weights = load_file(Path(record.adapter) / "adapter_model.safetensors")
    assert weights and all(str(w.dtype) == "torch.float32" for w in weights.values())


def test_a_stopped_run_resumes_to_the_same_adapter(tiny, dataset, tmp_path):
    from safetensors.torch import load_file

    from appwright.train.cpu_sft import run_cpu_sft

    whole = run_cpu_sft(config(tiny, dataset, tmp_path / "whole"))
    lines = (tmp_path / "whole" / "metrics.jsonl").read_text()
    assert run_cpu_sft(config(tiny, dataset, tmp_path / "whole")).steps == 4  # finished: nothing more to do
    assert (tmp_path / "whole" / "metrics.jsonl").read_text() == lines
    with pytest.raises(TrainError, match="other learning_rate"):
        run_cpu_sft(replace(config(tiny, dataset, tmp_path / "whole"), learning_rate=1e-3))
    with pytest.raises(KeyboardInterrupt):
        run_cpu_sft(config(tiny, dataset, tmp_path / "split"), stop_after_steps=2)
    assert (tmp_path / "split" / "checkpoint-2").is_dir() and not (tmp_path / "split" / "adapter").exists()
    resumed = run_cpu_sft(config(tiny, dataset, tmp_path / "split"))
    assert whole.steps == resumed.steps == 4
    a = load_file(str(Path(whole.adapter) / "adapter_model.safetensors"))
    b = load_file(str(Path(resumed.adapter) / "adapter_model.safetensors"))
    start = load_file(str(tmp_path / "split" / "checkpoint-2" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all((a[k] - b[k]).abs().max() < 1e-6 for k in a)
    assert any((a[k] - start[k]).abs().max() > 0 for k in a)  # steps 3 and 4 moved it
    rows = read_metrics(tmp_path / "split" / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and rows[-1]["loss"] < rows[0]["loss"]
    assert all(r["tokens_per_s"] > 0 and r["answer_tokens"] > 0 for r in rows)
    record = read_run(tmp_path / "split")
    assert record.kind == "sft" and record.steps == 4 and "3 rows" in record.data
    assert json.loads((Path(record.adapter) / "adapter_config.json").read_text())["r"] == 16

    # The next round of expert iteration goes on training that adapter.
    again = run_cpu_sft(replace(config(tiny, dataset, tmp_path / "next"), adapter=resumed.adapter, max_steps=1))
    assert again.started_from == resumed.adapter and [r.steps for r in again.previous] == [4]
    c = load_file(str(Path(again.adapter) / "adapter_model.safetensors"))
    assert c.keys() == b.keys() and any((c[k] - b[k]).abs().max() > 0 for k in c)


def test_the_cpu_trainer_takes_one_example_at_a_time():
    with pytest.raises(ConfigError, match="batch_size 1"):
        SFTRunConfig(model="m", dataset="d", out="o", trainer="cpu", batch_size=2)
    with pytest.raises(ConfigError, match="trainer"):
        SFTRunConfig(model="m", dataset="d", out="o", trainer="fast")
