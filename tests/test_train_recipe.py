"""`appwright train recipe` on the tiny random Qwen2 (registered as a llamacpp base): every stage
in order, a round of expert iteration whose gain is measured on the held-out family, and a
rerun that redoes nothing. The attempts are the one stand-in: the tiny model writes garbage,
so a scripted sampler records the reference answers as good attempts, the way the real
sampler records the good ones (appwright/train/data.py `sample`)."""

import json
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appwright.agent.trajectory import MessageRecord, Trajectory, append_jsonl
from appwright.cli import app
from appwright.models import load_registry
from appwright.tasks.bank import TaskBank
from appwright.tasks.domains import load_domains
from appwright.tasks.model import CheckResult, Grade
from appwright.train.config import ConfigError, from_mapping
from appwright.train.recipe import Recipe, RecipeConfig
from appwright.train.references import reference_row

pytestmark = pytest.mark.slow
TINY = "tiny-qwen2-2x64"
BANK = TaskBank.default()


def scripted_sample(calls: list):
    def sample(tasks, backend, out, samples, keep="good", config=None, browser=True, on_attempt=None,
               prompt_style="full", ray=None):
        assert ray is None  # the recipe samples here unless its config names a Ray
        calls.append((backend.name, [t.id for t in tasks], prompt_style))
        for task in tasks:
            row = reference_row(task)
            grade = Grade(task_id=task.id, seconds=0.0, checks=[CheckResult(
                name="schema", kind="schema", passed=True, weight=1.0, required=True, evidence="scripted")])
            append_jsonl(out, Trajectory(id=uuid.uuid4().hex, created_at="2026-12-03T00:00:00+00:00", task_id=task.id,
                                         prompt=task.prompt, model=backend.name, protocol="files", budget={},
                                         messages=[MessageRecord(**m) for m in row.messages()], grade=grade))
    return sample


@pytest.mark.timeout(900)
def test_the_recipe_runs_every_stage_and_a_rerun_redoes_none(tiny_gguf, tmp_path, monkeypatch):
    registry = tmp_path / "models.toml"
    registry.write_text(f'[models."{TINY}"]\nbackend = "llamacpp"\nlocation = "{tiny_gguf}"\ncontext_length = 8192\n')
    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(registry))
    calls: list = []
    monkeypatch.setattr("appwright.train.data.sample", scripted_sample(calls))
    config = tmp_path / "recipe.yaml"
    config.write_text(f"""out: {tmp_path / 'run'}
name: tiny-own
base: {TINY}
data_tokens: 9000
sft: {{max_steps: 1, gradient_accumulation_steps: 1, max_length: 4096}}
rounds: 1
held_out_family: learning
round_tasks: 2
samples: 1
gain_tasks: 1
round_sft: {{max_steps: 1, gradient_accumulation_steps: 1, max_length: 4096}}
browser: false
""")
    r = CliRunner().invoke(app, ["train", "recipe", str(config)])
    assert r.exit_code == 0, r.output
    done = json.loads((tmp_path / "run" / "recipe.json").read_text())["stages"]
    assert list(done) == ["hf", "data", "sft", "export-sft", "round-1-before", "round-1-sample", "round-1-data",
                          "round-1-sft", "round-1-export", "round-1-after"]
    assert 1 <= done["data"]["rows"] and done["data"]["tokens"] <= 9000
    assert done["round-1-data"]["good_rows"] == 2 and done["round-1-data"]["reference_rows"] >= 1
    # The sampler saw the right models with the compact prompt; the round trained on other families only.
    assert [c[0] for c in calls] == ["tiny-own-sft", "tiny-own-sft", "tiny-own-r1"]
    assert all(c[2] == "compact" for c in calls)
    held, sampled = calls[0][1], calls[1][1]
    family = {d.name: d.family for d in load_domains()}
    assert [family[BANK.get(t).domain] for t in held] == ["learning"]
    assert all(family[BANK.get(t).domain] != "learning" for t in sampled)
    spec = load_registry()["tiny-own-r1"]
    assert spec.base == TINY and spec.lora_path().is_file() and spec.prompt == "compact"
    record = json.loads((tmp_path / "run" / "round-1" / "sft" / "run.json").read_text())
    assert record["started_from"] == done["sft"]["adapter"] and [p["kind"] for p in record["previous"]] == ["sft"]

    from datasets import load_from_disk
    trained_on = {BANK.get(t).domain for t in load_from_disk(done["round-1-data"]["dataset"])["task_id"]}
    assert trained_on and all(family[d] != "learning" for d in trained_on)  # held out of the round

    adapter = Path(done["round-1-sft"]["adapter"]) / "adapter_model.safetensors"
    before = adapter.stat().st_mtime_ns
    again = CliRunner().invoke(app, ["train", "recipe", str(config)])
    assert again.exit_code == 0 and again.output.count("done before") == 10
    assert adapter.stat().st_mtime_ns == before and len(calls) == 3
    assert "about 0.0 h left" in again.output  # the plan it starts with: every stage done
    import shutil
    shutil.rmtree(tmp_path / "run" / "hf")  # a run carried to another machine without the base's copy
    carried = CliRunner().invoke(app, ["train", "recipe", str(config)])
    assert carried.exit_code == 0 and carried.output.count("done before") == 9, carried.output
    assert (tmp_path / "run" / "hf" / "config.json").is_file() and adapter.stat().st_mtime_ns == before

    how = config.read_text().replace("max_length: 4096}", "max_length: 4096, gradient_checkpointing: true}")
    config.write_text(how)  # how it trains, not what: taken, and nothing is redone
    assert CliRunner().invoke(app, ["train", "recipe", str(config)]).output.count("done before") == 10
    config.write_text(config.read_text().replace("data_tokens: 9000", "data_tokens: 8000"))
    changed = CliRunner().invoke(app, ["train", "recipe", str(config)])
    assert changed.exit_code == 2 and "other data_tokens" in changed.output
    config.write_text(config.read_text().replace(f"out: {tmp_path / 'run'}", f"out: {tmp_path / 'other'}"))
    taken = CliRunner().invoke(app, ["train", "recipe", str(config)])
    assert taken.exit_code == 2 and "tiny-own-sft is taken by another model" in taken.output
    assert not (tmp_path / "other" / "hf").exists()  # refused before any stage ran


def test_a_recipe_names_its_mistakes_before_it_starts(tmp_path):
    with pytest.raises(ConfigError, match="held_out_family: one of the train families"):
        RecipeConfig(out="o", held_out_family="events")  # a dev family
    with pytest.raises(ConfigError, match="sft: the recipe sets dataset"):
        RecipeConfig(out="o", sft={"dataset": "x"})
    with pytest.raises(ConfigError, match="unknown keys"):
        RecipeConfig(out="o", round_sft={"learning_rat": 1e-4})
    with pytest.raises(ConfigError, match="kind weights: a whole number of 1 or more"):
        RecipeConfig(out="o", kind_weights={"build": 0})
    with pytest.raises(ConfigError, match="got bulid: 3"):
        RecipeConfig(out="o", kind_weights={"bulid": 3})
    with pytest.raises(ConfigError, match="ray: --ray: expected local, auto or a cluster head's host:port"):
        from_mapping(RecipeConfig, {"out": "o", "ray": {"address": "my laptop"}})
    with pytest.raises(ConfigError, match="ray: unknown keys"):
        from_mapping(RecipeConfig, {"out": "o", "ray": {"adress": "local"}})
    assert from_mapping(RecipeConfig, {"out": "o", "ray": {"address": "local", "workers": 3}}).ray.workers == 3
    bad = tmp_path / "r.yaml"
    bad.write_text("out: x\nrounds: -1\n")
    r = CliRunner().invoke(app, ["train", "recipe", str(bad)])
    assert r.exit_code == 2 and "rounds" in r.output


def test_a_run_saved_before_a_key_was_added_resumes_and_a_changed_mix_is_refused(tmp_path):
    config = RecipeConfig(out=str(tmp_path))
    saved = json.loads(json.dumps(asdict(config)))
    del saved["kind_weights"]  # recipe.json of a run made before kind_weights existed
    (tmp_path / "recipe.json").write_text(json.dumps({"format": 1, "config": saved, "stages": {"hf": {"x": 1}}}))
    assert Recipe(tmp_path, config).done == {"hf": {"x": 1}}
    with pytest.raises(ConfigError, match="other kind_weights"):
        Recipe(tmp_path, RecipeConfig(out=str(tmp_path), kind_weights={"build": 6}))
