"""`appwright models export-hf` on the real embedded 0.5B: the command that every training step
starts from. It used to stop with a traceback (transformers will not save a model it loaded
from a GGUF); now the folder it writes (the `real_hf_05b` fixture, made through the command) is
the model llama.cpp serves: teacher-forced on llama.cpp's own greedy answer, the HF model picks
the same tokens."""

import json

import pytest
from typer.testing import CliRunner

from appwright.cli import app
from appwright.models import GenerationConfig, Message, get_model

pytestmark = pytest.mark.slow


@pytest.mark.timeout(600)
def test_export_hf_writes_the_model_llamacpp_serves(real_hf_05b):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from appwright.models.llamacpp import LlamaCppBackend

    out = real_hf_05b
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "qwen2" and config["num_hidden_layers"] == 24 and "quantization_config" not in config
    source = json.loads((out / "appwright.json").read_text())
    assert source["base"] == "qwen2.5-coder-0.5b" and source["parameters"] == 630_167_424

    spec = get_model("qwen2.5-coder-0.5b")
    messages = [Message("user", "Write a Python function that returns the sum of a list of numbers.")]
    backend = LlamaCppBackend(spec, spec.cache_path(), n_ctx=512)
    try:
        done = backend.complete(messages, config=GenerationConfig(max_tokens=12, temperature=0.0, seed=0))
    finally:
        backend.close()
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    model = AutoModelForCausalLM.from_pretrained(str(out), dtype=torch.float32)
    ids = torch.tensor([done.prompt_token_ids + done.completion_token_ids])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0]
    n = len(done.prompt_token_ids)
    picks = logits[n - 1:n - 1 + len(done.completion_token_ids)].argmax(-1).tolist()
    same = sum(a == b for a, b in zip(picks, done.completion_token_ids))
    assert same >= len(picks) - 1, (tokenizer.decode(picks), done.text)

    again = CliRunner().invoke(app, ["models", "export-hf", "qwen2.5-coder-0.5b", "--out", str(out)])
    assert again.exit_code == 2 and "already holds files" in again.output
