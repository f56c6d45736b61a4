"""A LoRA exported alone as a GGUF adapter (`appwright models export NAME --adapter`) and served by
llama.cpp on top of its base's GGUF through the registry (`base` + `lora`), with no second copy of
the base.

Cheap tests use the tiny random Qwen2 of appwright/train/tiny.py (2 layers, hidden 64, the real
tokenizer) and its own f16 GGUF as the base: the adapter file holds one A/B pair per LoRA module,
and base + adapter in llama.cpp gives the logits PEFT gives. The slow test does the same on the
real embedded 0.5B (its HF export is made once, in pytest's cache: ~35 s, 2.5 GB).
The converters come from the llama-cpp-python sdist (pip's cache, else PyPI) once, into pytest's
cache, as in tests/test_train_loop.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from appwright.cli import app
from appwright.models import GenerationConfig, Message, ModelError, get_model, load_backend, load_registry
from appwright.models.llamacpp import LlamaCppBackend
from appwright.models.pull import ensure_model, is_installed
from appwright.models.registry import ModelSpec
from appwright.train.export import ExportError, card_path, export_adapter

TINY = "tiny-qwen2-2x64"  # the tiny model's own name (its appwright.json), registered here as a llamacpp base
PROMPT = [Message("user", "Write a Python function that returns the sum of a list.")]
GREEDY = GenerationConfig(max_tokens=12, temperature=0.0, seed=0)


@pytest.fixture(scope="module")
def cache(request) -> Path:
    return Path(request.config.cache.mkdir("appwright-train"))  # shared with test_train_loop: one sdist


# `tiny` (the HF folder) and `tiny_gguf` (it as an f16 GGUF) are the session's, from tests/conftest.py.


def make_adapter(hf: Path, out: Path, r: int, sigma: float, seed: int = 0, **extra) -> Path:
    """A PEFT LoRA on q_proj and v_proj whose B is random (PEFT starts it at 0, a no-op), saved to `out`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(hf), dtype=torch.float32),
                           LoraConfig(r=r, lora_alpha=2 * r, target_modules=["q_proj", "v_proj"], lora_dropout=0.0,
                                      task_type="CAUSAL_LM", **extra))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=generator) * sigma)
    model.save_pretrained(str(out))
    return out


@pytest.fixture(scope="module")
def tiny_adapter(tiny, tmp_path_factory) -> Path:
    return make_adapter(tiny, tmp_path_factory.mktemp("run") / "adapter", r=4, sigma=0.5)


@pytest.fixture
def user_registry(tmp_path, monkeypatch, tiny_gguf) -> Path:
    """A user models.toml holding the tiny GGUF as a llamacpp model, in APPWRIGHT_MODELS_TOML."""
    registry = tmp_path / "models.toml"
    registry.write_text(f'[models."{TINY}"]\nbackend = "llamacpp"\nlocation = "{tiny_gguf}"\n'
                        f'context_length = 32768\nprice = {{output_per_m = 0.5, note = "made up, for a test"}}\n')
    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(registry))
    return registry


def first_logits(backend: LlamaCppBackend, messages: list[Message]) -> np.ndarray:
    """The logits llama.cpp gives for the first answer token (float32, one per vocabulary entry)."""
    llm = backend._llm
    ids = llm.tokenize(backend.render(messages).encode(), add_bos=False, special=True)
    llm.reset()
    llm.eval(ids)
    return np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),)).copy()


def peft_logits(hf: Path, adapter: Path, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(base, base + adapter) logits of the next token after `text`, as transformers and PEFT compute them."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ids = AutoTokenizer.from_pretrained(str(hf))(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(hf), dtype=torch.float32),
                                      str(adapter))
    with torch.no_grad():
        with model.disable_adapter():
            base = model(ids).logits[0, -1].numpy()
        return base, model(ids).logits[0, -1].numpy()


def serve(name: str) -> tuple[list[int], np.ndarray]:
    backend = load_backend(name)
    try:
        done = backend.complete(PROMPT, config=GREEDY)
        assert done.completion_tokens >= 1
        return done.completion_token_ids, first_logits(backend, PROMPT)
    finally:
        backend.close()


# The export -----------------------------------------------------------------------------------


def test_the_adapter_gguf_holds_the_lora_pairs_and_becomes_a_registry_entry_on_its_base(
        tiny_adapter, tiny_gguf, user_registry, cache, tmp_path):
    import gguf
    from safetensors.torch import load_file

    card = export_adapter("tiny-lora", tiny_adapter.parent, tmp_path / "out", cache=cache)
    adapter_gguf = Path(card.gguf)
    assert adapter_gguf == (tmp_path / "out" / "tiny-lora.lora-f16.gguf").resolve() and card.lora
    assert card.base == TINY and card.quant == "f16" and card.size_bytes == adapter_gguf.stat().st_size
    assert card.size_bytes < 20_000 < tiny_gguf.stat().st_size  # the adapter alone, not a copy of the base
    assert json.loads(card_path(adapter_gguf).read_text())["lora"] is True

    reader = gguf.GGUFReader(str(adapter_gguf))
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["adapter.type"].contents() == "lora"
    assert reader.fields["adapter.lora.alpha"].contents() == 8.0  # PEFT's lora_alpha; llama.cpp scales by alpha / r
    tensors = {t.name: t for t in reader.tensors}
    assert sorted(tensors) == sorted(f"blk.{i}.attn_{m}.weight.lora_{ab}"
                                     for i in (0, 1) for m in ("q", "v") for ab in ("a", "b"))
    peft = load_file(str(tiny_adapter / "adapter_model.safetensors"))
    for i in (0, 1):
        for m in ("q", "v"):
            for ab, AB in (("a", "A"), ("b", "B")):
                tensor = tensors[f"blk.{i}.attn_{m}.weight.lora_{ab}"]
                want = peft[f"base_model.model.model.layers.{i}.self_attn.{m}_proj.lora_{AB}.weight"].numpy()
                got = np.asarray(tensor.data, dtype=np.float32).reshape(want.shape)  # (r, in) and (out, r)
                assert tensor.tensor_type.name == "F16"
                np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)

    spec = load_registry()["tiny-lora"]
    assert (spec.backend, spec.base, spec.lora_path()) == ("llamacpp", TINY, adapter_gguf)
    assert spec.prompt == "compact"  # trained on the reference answers, which are written with the compact prompt
    # its weights are its base's; context and price too, where the entry does not set them
    assert spec.cache_path() == tiny_gguf and spec.context_length == 32768 and spec.price.output_per_m == 0.5
    assert "LoRA adapter on tiny-qwen2-2x64" in spec.description
    assert is_installed(spec) and ensure_model(spec) == tiny_gguf


def test_llamacpp_serves_base_plus_adapter_as_peft_computes_it(tiny, tiny_adapter, user_registry, cache,
                                                               tmp_path):
    export_adapter("tiny-lora", tiny_adapter, tmp_path / "out", cache=cache)
    base_ids, base = serve(TINY)
    lora_ids, lora = serve("tiny-lora")
    assert base_ids != lora_ids  # a user sees another answer
    assert serve(TINY)[0] == base_ids  # and the base alone is unchanged once the adapter was loaded

    backend = load_backend(TINY)
    text = backend.render(PROMPT)
    backend.close()
    torch_base, torch_lora = peft_logits(tiny, tiny_adapter, text)
    moved, torch_moved = lora - base, torch_lora - torch_base
    assert np.abs(moved).max() > 0.3
    # the same change as PEFT's (scale alpha / r = 2, f16 weights): a wrong scale or a missed module fails this
    assert np.corrcoef(moved, torch_moved)[0, 1] > 0.99
    assert 0.95 < np.linalg.norm(moved) / np.linalg.norm(torch_moved) < 1.05


def test_the_cli_exports_an_adapter_that_models_list_and_path_show(tiny_adapter, user_registry, cache, tmp_path):
    runner = CliRunner()
    env = {"APPWRIGHT_HOME": str(cache), "COLUMNS": "400"}  # the converters were extracted under `cache`
    done = runner.invoke(app, ["models", "export", "tiny-lora", "--from", str(tiny_adapter.parent), "--adapter",
                               "--quant", "q8_0", "--out", str(tmp_path / "out")], env=env)
    assert done.exit_code == 0, done.output
    adapter_gguf = (tmp_path / "out" / "tiny-lora.lora-q8_0.gguf").resolve()
    assert adapter_gguf.is_file() and "LoRA adapter on tiny-qwen2-2x64" in " ".join(done.output.split())
    listed = runner.invoke(app, ["models", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if "tiny-lora" in line)
    assert "llamacpp + lora" in row and f"yes {TINY} + LoRA {adapter_gguf}" in row
    shown = runner.invoke(app, ["models", "path", "tiny-lora"], env=env)
    assert shown.exit_code == 0 and shown.output.split() == [str(get_model(TINY).cache_path()), str(adapter_gguf)]

    adapter_gguf.unlink()
    row = next(line for line in runner.invoke(app, ["models", "list"], env=env).output.splitlines()
               if "tiny-lora" in line)
    assert f"no {TINY} + LoRA {adapter_gguf} (adapter missing)" in row


# Clear errors ---------------------------------------------------------------------------------


def test_a_missing_adapter_file_is_a_clear_model_error(tiny_gguf, user_registry, tmp_path):
    missing = tmp_path / "gone.gguf"
    user_registry.write_text(user_registry.read_text() + f'\n[models."gone"]\nbackend = "llamacpp"\nbase = "{TINY}"\n'
                                                         f'lora = "{missing}"\n')
    with pytest.raises(ModelError, match=f"its LoRA adapter {missing} does not exist"):
        load_backend("gone")
    result = CliRunner().invoke(app, ["new", "notes", "--model", "gone", "--out", str(tmp_path / "app")],
                                env={"COLUMNS": "400"})
    assert result.exit_code == 1 and "its LoRA adapter" in result.output and "Traceback" not in result.output


def test_a_file_that_is_no_adapter_or_one_for_another_base_is_a_clear_model_error(tiny, tiny_gguf, tiny_adapter,
                                                                                   cache, tmp_path):
    from appwright.train.export import LORA_CONVERTER, convert_lora, converter

    # llama-cpp-python alone would serve both as the bare base (its NULL check never fires; llamacpp.py)
    spec = ModelSpec(name="wrong", backend="llamacpp", location=str(tiny_gguf), context_length=32768, base=TINY,
                     lora=str(tiny_gguf))  # a model, not an adapter
    with pytest.raises(ModelError, match="could not load the LoRA adapter .* it is not a GGUF adapter"):
        LlamaCppBackend(spec, tiny_gguf, n_ctx=64)
    adapter = convert_lora(tiny_adapter, tiny, tmp_path / "tiny.lora.gguf", "f16", converter(cache, LORA_CONVERTER))
    real = get_model("qwen2.5-coder-0.5b").cache_path()  # hidden 896, not the tiny model's 64
    spec = ModelSpec(name="wrong", backend="llamacpp", location=str(real), context_length=32768,
                     base="qwen2.5-coder-0.5b", lora=str(adapter))
    with pytest.raises(ModelError, match="or was made for another base"):
        LlamaCppBackend(spec, real, n_ctx=64)


def registry_error(registry: Path, text: str) -> str:
    registry.write_text(text)
    with pytest.raises(ModelError) as error:
        load_registry(registry)
    return str(error.value)


@pytest.mark.parametrize("entry, words", [
    ('base = "qwen2.5-coder-0.5b"', "needs both base"),
    ('lora = "/x/a.gguf"\nlocation = "/x/m.gguf"\ncontext_length = 64', "needs both base"),
    ('base = "nope"\nlora = "/x/a.gguf"', "base 'nope' is not in the registry"),
    ('base = "qwen2.5-coder-0.5b-hf"\nlora = "/x/a.gguf"', "is not a llamacpp model"),
    ('base = "gpt-4.1-mini"\nlora = "/x/a.gguf"', "is not a llamacpp model"),
    ('base = "qwen2.5-coder-0.5b"\nlora = "/x/a.gguf"\nlocation = "/x/m.gguf"', "uses its base's GGUF"),
    ('base = "qwen2.5-coder-0.5b"\nlora = "/x/adapter.safetensors"', "must be a GGUF adapter file"),
])
def test_a_bad_lora_entry_says_what_is_wrong(tmp_path, entry, words):
    message = registry_error(tmp_path / "models.toml", f'[models."mine"]\nbackend = "llamacpp"\n{entry}\n')
    assert "model 'mine' is invalid" in message and words in message


def test_a_lora_entry_on_a_lora_entry_and_on_another_backend_are_refused(tmp_path):
    chained = ('[models."a"]\nbackend = "llamacpp"\nbase = "qwen2.5-coder-0.5b"\nlora = "/x/a.gguf"\n'
               '[models."b"]\nbackend = "llamacpp"\nbase = "a"\nlora = "/x/b.gguf"\n')
    assert "itself a LoRA entry" in registry_error(tmp_path / "models.toml", chained)
    other = '[models."a"]\nbackend = "transformers"\nbase = "qwen2.5-coder-0.5b"\nlora = "/x/a.gguf"\n'
    assert "llamacpp backend only" in registry_error(tmp_path / "models.toml", other)


def test_a_lora_entry_on_the_embedded_model_pulls_its_base_and_a_relative_lora_ships_in_the_package(tmp_path):
    registry = tmp_path / "models.toml"
    registry.write_text('[models."mine"]\nbackend = "llamacpp"\nbase = "qwen2.5-coder-0.5b"\n'
                        'lora = "adapters/mine.lora-f16.gguf"\ncontext_length = 4096\n')
    spec, base = load_registry(registry)["mine"], load_registry(registry)["qwen2.5-coder-0.5b"]
    assert spec.embedded and spec.packages == base.packages and spec.sha256 == base.sha256
    assert spec.cache_path() == base.cache_path() and spec.price == base.price and spec.context_length == 4096
    import appwright.models

    assert spec.lora_path() == Path(appwright.models.__file__).parent / "adapters" / "mine.lora-f16.gguf"
    assert not is_installed(spec)  # no such adapter shipped
    builtin = {n: s.lora for n, s in load_registry(tmp_path / "none.toml").items() if s.lora}
    assert builtin == {"appwright-0.5b": "adapters/appwright-0.5b.lora-f16.gguf"}  # our own, shipped; nothing else


def test_export_refuses_what_llamacpp_would_serve_differently_or_cannot_place(tiny, user_registry, cache,
                                                                              tmp_path):
    rs = make_adapter(tiny, tmp_path / "rslora" / "adapter", r=4, sigma=0.1, use_rslora=True)
    with pytest.raises(ExportError, match=r"rsLoRA \(use_rslora"):
        export_adapter("x", rs, tmp_path / "out", cache=cache)
    with pytest.raises(ExportError, match="no LoRA adapter"):
        export_adapter("x", tmp_path / "nowhere", tmp_path / "out", cache=cache)
    with pytest.raises(ExportError, match="for an adapter: one of f16, q8_0, f32"):
        export_adapter("x", rs, tmp_path / "out", quant="q4_k_m", cache=cache)
    with pytest.raises(ExportError, match="already in the registry"):
        export_adapter(TINY, rs, tmp_path / "out", cache=cache)
    plain = make_adapter(tiny, tmp_path / "plain" / "adapter", r=4, sigma=0.1)
    with pytest.raises(ExportError, match="the adapter's base: unknown model 'nope'"):
        export_adapter("x", plain, tmp_path / "out", base="nope", cache=cache)
    assert not (tmp_path / "out").exists()  # every refusal came before anything was written


def test_the_cli_says_in_one_line_why_an_adapter_export_cannot_run(tmp_path, monkeypatch):
    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(tmp_path / "models.toml"))
    runner = CliRunner()
    result = runner.invoke(app, ["models", "export", "x", "--from", str(tmp_path / "nowhere"), "--adapter"])
    assert result.exit_code == 2 and "no LoRA adapter" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["models", "export", "x", "--from", str(tmp_path), "--base", "qwen2.5-coder-0.5b"])
    assert result.exit_code == 2 and "--base goes with --adapter" in result.output


# The real 0.5B ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_adapter_on_the_embedded_05b_changes_its_answer_and_leaves_the_base_alone(real_hf_05b, cache, tmp_path,
                                                                                     monkeypatch):
    real_hf = real_hf_05b
    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(tmp_path / "models.toml"))
    adapter = make_adapter(real_hf, tmp_path / "run" / "adapter", r=8, sigma=0.02)
    card = export_adapter("qwen0.5b-lora-test", adapter.parent, tmp_path / "out", cache=cache)
    assert card.base == "qwen2.5-coder-0.5b" and card.size_bytes < 2 * 2**20  # r=8 on q, v: ~1 MiB, not 470

    base_ids, base = serve("qwen2.5-coder-0.5b")
    lora_ids, lora = serve("qwen0.5b-lora-test")
    assert lora_ids != base_ids
    assert serve("qwen2.5-coder-0.5b")[0] == base_ids

    backend = load_backend("qwen2.5-coder-0.5b")
    text = backend.render(PROMPT)
    backend.close()
    torch_base, torch_lora = peft_logits(real_hf, adapter, text)
    moved, torch_moved = lora - base, torch_lora - torch_base
    # The base GGUF is Q4_K_M (the HF folder is its de-quantised copy) and llama.cpp quantises activations,
    # so the match is looser than on the tiny f16 model: measured 0.98 correlation, norm ratio 1.00.
    assert np.corrcoef(moved, torch_moved)[0, 1] > 0.9
    assert 0.85 < np.linalg.norm(moved) / np.linalg.norm(torch_moved) < 1.15


# Back to PEFT, to go on training (appwright models export-peft) ---------------------------------


def test_an_adapter_gguf_comes_back_as_the_peft_adapter_it_was_made_from(tiny, tiny_adapter, user_registry, cache,
                                                                         tmp_path):
    from safetensors.torch import load_file

    export_adapter("tiny-lora", tiny_adapter, tmp_path / "out", cache=cache)
    done = CliRunner().invoke(app, ["models", "export-peft", "tiny-lora", "--out", str(tmp_path / "back")],
                              env={"COLUMNS": "400"})
    assert done.exit_code == 0, done.output
    back = tmp_path / "back" / "adapter"
    want, got = load_file(str(tiny_adapter / "adapter_model.safetensors")), load_file(str(back / "adapter_model.safetensors"))
    assert sorted(got) == sorted(want)
    for key in want:  # f16 in the GGUF: the values come back to within its precision
        np.testing.assert_allclose(got[key].numpy(), want[key].numpy(), rtol=1e-3, atol=1e-3)
    config = json.loads((back / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], sorted(config["target_modules"])) == (4, 8, ["q_proj", "v_proj"])
    text = "def total(xs):"
    base, original = peft_logits(tiny, tiny_adapter, text)
    _, again = peft_logits(tiny, back, text)  # PEFT loads it, and it changes the model as the original did
    moved, moved_again = original - base, again - base
    assert np.abs(moved).max() > 0.3 and np.corrcoef(moved, moved_again)[0, 1] > 0.999
    assert 0.99 < np.linalg.norm(moved_again) / np.linalg.norm(moved) < 1.01


def test_export_peft_says_why_it_cannot_run(tiny_gguf, tiny_adapter, user_registry, cache, tmp_path):
    runner = CliRunner()

    def run(name: str, out: Path) -> tuple[int, str]:
        r = runner.invoke(app, ["models", "export-peft", name, "--out", str(out)], env={"COLUMNS": "400"})
        assert "Traceback" not in r.output
        return r.exit_code, " ".join(r.output.split())

    assert run("nope", tmp_path / "a")[0] == 2
    code, said = run(TINY, tmp_path / "a")
    assert code == 2 and "is not a LoRA entry" in said
    card = export_adapter("tiny-lora", tiny_adapter, tmp_path / "out", cache=cache)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, said = run("tiny-lora", tmp_path / "full")
    assert code == 2 and "is not empty" in said and (tmp_path / "full" / "keep.txt").read_text() == "mine"
    adapter = Path(card.gguf)
    adapter.write_bytes(adapter.read_bytes()[:-64])  # its card pins the sha256 of the whole file
    code, said = run("tiny-lora", tmp_path / "b")
    assert code == 1 and str(adapter) in said and not (tmp_path / "b").exists()
    user_registry.write_text(user_registry.read_text() + f'\n[models."model-as-lora"]\nbackend = "llamacpp"\n'
                                                         f'base = "{TINY}"\nlora = "{tiny_gguf}"\n')
    code, said = run("model-as-lora", tmp_path / "c")  # a model's GGUF named as an adapter
    assert code == 2 and "not a GGUF LoRA adapter" in said and not (tmp_path / "c").exists()


@pytest.mark.slow
def test_the_shipped_model_comes_back_as_a_peft_adapter_that_computes_what_llamacpp_serves(real_hf_05b, tmp_path,
                                                                                            monkeypatch):
    monkeypatch.setenv("APPWRIGHT_MODELS_TOML", str(tmp_path / "models.toml"))
    done = CliRunner().invoke(app, ["models", "export-peft", "appwright-0.5b", "--out", str(tmp_path / "aw")])
    assert done.exit_code == 0, done.output
    stages = json.loads(card_path(get_model("appwright-0.5b").lora_path()).read_text())["stages"]
    run = json.loads((tmp_path / "aw" / "run.json").read_text())  # its training stages, for the next run's record
    assert run == {**stages[-1], "previous": stages[:-1]} and run["kind"] == "sft" and run["steps"] > 0
    assert run["base"] == "qwen2.5-coder-0.5b"
    config = json.loads((tmp_path / "aw" / "adapter" / "adapter_config.json").read_text())
    assert (config["r"], config["lora_alpha"], len(config["target_modules"])) == (16, 32, 7)

    base_ids, base = serve("qwen2.5-coder-0.5b")
    ours_ids, ours = serve("appwright-0.5b")
    backend = load_backend("qwen2.5-coder-0.5b")
    text = backend.render(PROMPT)
    backend.close()
    torch_base, torch_ours = peft_logits(real_hf_05b, tmp_path / "aw" / "adapter", text)
    moved, torch_moved = ours - base, torch_ours - torch_base
    assert ours_ids != base_ids and np.abs(moved).max() > 1.0
    # as for a new adapter above (a Q4_K_M base in llama.cpp, its float32 copy in torch)
    assert np.corrcoef(moved, torch_moved)[0, 1] > 0.9
    assert 0.85 < np.linalg.norm(moved) / np.linalg.norm(torch_moved) < 1.15
