"""Appwright-0.5B, our own model, as it ships: a LoRA adapter GGUF inside the package, on the
embedded 0.5B's weights, with its sha256 and a model card; it is the default only while its
card says it cleared the rule on the frozen dev 40 (docs/results.md)."""

import json
from pathlib import Path

import pytest

from appwright.models import DEFAULT_MODEL, get_model
from appwright.models.pull import sha256_file

NAME = "appwright-0.5b"


def test_the_adapter_ships_in_the_package_with_its_card():
    spec = get_model(NAME)
    assert spec.backend == "llamacpp" and spec.base == "qwen2.5-coder-0.5b" and spec.prompt == "compact"
    assert spec.cache_path() == get_model("qwen2.5-coder-0.5b").cache_path()  # no second copy of the base
    adapter = spec.lora_path()
    assert adapter.is_file() and adapter.stat().st_size <= 40 * 2**20
    card = json.loads(adapter.with_name(adapter.name + ".card.json").read_text())
    assert card["sha256"] == sha256_file(adapter) and card["size_bytes"] == adapter.stat().st_size
    assert card["base"] == "qwen2.5-coder-0.5b" and card["lora"] is True
    assert card["stages"] and all(s["kind"] == "sft" and s["steps"] > 0 for s in card["stages"])
    assert card["known_weaknesses"] and card["gate"]


def test_the_default_is_the_adapter_only_if_it_won_on_the_dev_40():
    card = json.loads((lambda p: p.with_name(p.name + ".card.json"))(get_model(NAME).lora_path()).read_text())
    if card["default"]:
        assert DEFAULT_MODEL == NAME
    else:
        assert DEFAULT_MODEL == "qwen2.5-coder-0.5b"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_it_answers_on_the_embedded_base():
    from appwright.models import GenerationConfig, Message, load_backend

    backend = load_backend(NAME)
    try:
        done = backend.complete([Message("user", "a private list of my houseplants")],
                                config=GenerationConfig(max_tokens=16, temperature=0.0, seed=0))
    finally:
        backend.close()
    assert done.completion_tokens >= 1 and done.text.strip()


def test_an_eval_goes_into_the_shipped_card_whatever_the_working_folder(tmp_path, monkeypatch):
    from appwright.train.export import add_eval

    adapter = get_model(NAME).lora_path()
    card = tmp_path / "pkg" / (adapter.name + ".card.json")  # a copy: the card names its GGUF relative to the package
    card.parent.mkdir()
    card.write_text(adapter.with_name(adapter.name + ".card.json").read_text())
    monkeypatch.chdir(tmp_path)  # where "adapters/..." does not exist
    run = Path(__file__).resolve().parent.parent / "docs" / "results" / "eval-aw05b-dev40"
    add_eval(card, run)
    summary = json.loads(card.read_text())["eval"][str(run)]
    assert summary["overall"][0]["model"] == NAME and summary["attempts"] == 40


def test_a_changed_adapter_fails_by_name_and_the_base_still_works(tmp_path, monkeypatch):
    """One flipped byte in a copy of the shipped adapter (its card beside it): `appwright new` on it
    exits 1 naming the file and the sha256, before any load; the base model is untouched."""
    from typer.testing import CliRunner

    from appwright.cli import app
    from appwright.models import ModelError
    from appwright.models.pull import ensure_model

    shipped = get_model(NAME).lora_path()
    copy = tmp_path / shipped.name
    data = bytearray(shipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    copy.with_name(copy.name + ".card.json").write_text(shipped.with_name(shipped.name + ".card.json").read_text())
    registry = tmp_path / "models.toml"
    registry.write_text(f'[models."changed"]\nbackend = "llamacpp"\nbase = "qwen2.5-coder-0.5b"\nlora = "{copy}"\n')
    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(registry))
    with pytest.raises(ModelError, match=f"its LoRA adapter {copy} does not match the sha256"):
        ensure_model(get_model("changed"))
    result = CliRunner().invoke(app, ["new", "a list of my houseplants", "--model", "changed",
                                      "--out", str(tmp_path / "app")], env={"COLUMNS": "400"})
    assert result.exit_code == 1 and str(copy) in result.output and "sha256" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "app").exists()
    assert ensure_model(get_model(NAME)) == get_model("qwen2.5-coder-0.5b").cache_path()
