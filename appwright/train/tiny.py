"""A tiny, randomly initialised Qwen2 model with the real tokenizer: the CI stand-in for the 0.5B.

    folder = tiny_qwen2(tokenizer_dir, out)   # 2 layers, hidden 64, the real 151,936-token vocabulary

It has the 0.5B's architecture, vocabulary, special tokens and chat template, so every code
path (chat template, assistant masks, LoRA target modules, GGUF export, llama.cpp loading) is
the real one; only the sizes differ. It emits garbage, so its rewards are ~0: it tests the
loop, not learning. Embeddings are tied (as in the 0.5B release), which keeps it at ~9.8M
parameters, most of them the embedding table.
"""

from __future__ import annotations

import json
from pathlib import Path

from appwright.train.hf import SOURCE_FILE


def tiny_qwen2(tokenizer_dir: Path, out: Path, layers: int = 2, hidden: int = 64, heads: int = 4,
               kv_heads: int = 2, seed: int = 0) -> Path:
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                         max_position_embeddings=32768, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=end,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=[end, tokenizer.pad_token_id],
                                               pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    (out / SOURCE_FILE).write_text(json.dumps({
        "format": 1, "base": f"tiny-qwen2-{layers}x{hidden}", "gguf": "", "gguf_bytes": 0,
        "parameters": sum(p.numel() for p in model.parameters()), "seconds": 0.0}) + "\n", encoding="utf-8")
    return out


def cached_tokenizer(gguf: Path, cache: Path) -> Path:
    """The GGUF's tokenizer saved under `cache` (read from the GGUF once: ~24 s), keyed by its size."""
    from appwright.train.hf import save_tokenizer

    folder = cache / f"tokenizer-{gguf.stem}-{gguf.stat().st_size}"
    if not (folder / "tokenizer_config.json").is_file():
        save_tokenizer(gguf, folder)
    return folder
