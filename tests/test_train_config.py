"""Training configs: YAML files that read back into equal records, and every bad value refused."""

from pathlib import Path

import pytest

from appwright.train.config import ConfigError, LoraConfig, RLConfig, SFTRunConfig, from_mapping, load_config, to_yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "train"


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.startswith("accelerate-")),
                         ids=lambda p: p.name)  # accelerate's own config: tests/test_train_ddp.py
def test_every_example_config_loads_and_round_trips(path, tmp_path):
    from appwright.train.recipe import RecipeConfig

    cls = {"sft": SFTRunConfig, "rl": RLConfig, "recipe": RecipeConfig}[path.name.split("-")[0]]
    config = load_config(cls, path)
    again = tmp_path / "again.yaml"
    again.write_text(to_yaml(config))
    assert load_config(cls, again) == config


def test_unknown_keys_and_missing_ones_name_the_key():
    with pytest.raises(ConfigError, match="unknown keys \\['num_generation'\\]"):
        from_mapping(RLConfig, {"model": "m", "out": "o", "num_generation": 4})
    with pytest.raises(ConfigError, match="lora: unknown keys \\['rank'\\]"):
        from_mapping(RLConfig, {"model": "m", "out": "o", "lora": {"rank": 8}})
    with pytest.raises(ConfigError, match="out"):
        from_mapping(SFTRunConfig, {"model": "m", "dataset": "d"})


@pytest.mark.parametrize("bad, says", [
    ({"num_generations": 1}, "at least 2"),
    ({"kinds": ["build", "deploy"]}, "kinds"),
    ({"micro_batch_size": 3}, "must divide"),
    ({"limit": 1}, "tasks_per_step"),
    ({"loss_type": "ppo"}, "loss_type"),
    ({"beta": -0.1}, "beta"),
    ({"max_steps": 0}, "max_steps"),
    ({"prompt": "short"}, "prompt: full or compact"),
])
def test_rl_config_refuses_bad_combinations(bad, says):
    with pytest.raises(ConfigError, match=says):
        from_mapping(RLConfig, {"model": "m", "out": "o", **bad})


def test_lora_and_sft_limits():
    with pytest.raises(ConfigError, match="lora.r"):
        LoraConfig(r=0)
    with pytest.raises(ConfigError, match="max_steps"):
        SFTRunConfig(model="m", dataset="d", out="o", max_steps=0)
    assert RLConfig(model="m", out="o", tasks_per_step=3, num_generations=4).generation_batch == 12


def test_grpo_prompts_with_the_system_prompt_its_start_model_was_trained_on():
    assert RLConfig(model="m", out="o").prompt_style == "full"  # a fresh adapter on the base model
    assert RLConfig(model="m", out="o", adapter="runs/sft/adapter").prompt_style == "compact"  # our SFT's rows
    assert RLConfig(model="m", out="o", adapter="a", prompt="full").prompt_style == "full"


def test_every_knob_is_in_the_docs():
    from dataclasses import fields

    doc = (Path(__file__).resolve().parent.parent / "docs" / "training.md").read_text()
    for cls in (LoraConfig, SFTRunConfig, RLConfig):
        missing = [f.name for f in fields(cls) if f"| `{f.name}` |" not in doc]
        assert not missing, f"{cls.__name__}: document {missing} in docs/training.md"


def test_an_export_registers_the_system_prompt_the_last_run_trained_on():
    from appwright.train.export import ExportError, check_prompt
    from appwright.train.records import RunRecord

    def run(kind, config):
        return RunRecord(format=1, kind=kind, model="hf", base="b", steps=1, data="d", adapter="a", config=config)

    sft = run("sft", to_yaml(SFTRunConfig(model="m", dataset="d", out="o")))
    fresh = run("rl", to_yaml(RLConfig(model="m", out="o")))
    onward = run("rl", to_yaml(RLConfig(model="m", out="o", adapter="runs/sft/adapter")))
    assert check_prompt(None, []) == check_prompt(None, [sft]) == "compact"
    assert check_prompt(None, [fresh]) == "full" and check_prompt(None, [sft, onward]) == "compact"
    assert check_prompt("full", [sft, onward]) == "full"
    with pytest.raises(ExportError, match="--prompt: compact or full"):
        check_prompt("tiny", [sft])
    with pytest.raises(ExportError, match="say it with --prompt"):
        check_prompt(None, [run("rl", "model: m\nout: o\nnum_generations: 1\n")])
