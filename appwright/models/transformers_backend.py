"""A model run by Hugging Face transformers on torch: a local HF folder, or a GGUF file
that transformers de-quantises into a float model (`gguf_file=`).

    backend = TransformersBackend(spec, path)   # path: an HF folder or a .gguf file

This is the backend training shares a model with: same tokenizer, same chat template
(`apply_chat_template(..., tools=...)`), exact token ids. It is slow on a CPU (the 0.5B
made 1.6 tokens/s on 2 cores, MODELS.md): serve with llama.cpp instead.

transformers and torch are imported when a backend is built, so `appwright.models`
imports without them; building one without them raises a ModelError saying what to
install. Not done here: prefix caching across calls (each call re-reads its prompt),
batching, quantised loading, streaming through TextIteratorStreamer (the whole text
goes to on_token once, at the end).
"""

from __future__ import annotations

import time
from pathlib import Path

from appwright.models.base import Completion, GenerationConfig, Message, ModelError, OnToken, ToolSpec
from appwright.models.registry import ModelSpec

INSTALL_HINT = "pip install torch transformers gguf (CPU wheels: pip install torch --index-url https://download.pytorch.org/whl/cpu)"


class TransformersBackend:
    constrains = False  # ignores GenerationConfig.grammar
    structured = False  # and json_schema

    def __init__(self, spec: ModelSpec, path: str | Path, device: str = "cpu"):
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise ModelError(f"the transformers backend needs torch and transformers ({e.name} is missing): "
                             f"{INSTALL_HINT}") from None
        path = Path(path)
        if path.suffix == ".gguf":
            folder, kwargs = str(path.parent), {"gguf_file": path.name}
        else:
            folder, kwargs = str(path), {}
        t0 = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        self.model = AutoModelForCausalLM.from_pretrained(folder, **kwargs).to(device).eval()
        self.load_s = time.perf_counter() - t0
        self.name = spec.name
        self.spec = spec
        self.device = device

    def complete(self, messages: list[Message], tools: list[ToolSpec] | None = None,
                 config: GenerationConfig = GenerationConfig(), on_token: OnToken | None = None) -> Completion:
        import torch

        t0 = time.perf_counter()
        # 1. prompt ids through the model's own chat template
        continued = bool(messages) and messages[-1].role == "assistant"  # a prefix to continue
        prompt_ids = self.tokenizer.apply_chat_template([m.to_dict() for m in messages],
                                                        tools=[t.to_openai() for t in tools] if tools else None,
                                                        add_generation_prompt=not continued,
                                                        continue_final_message=continued,
                                                        tokenize=True, return_dict=False)
        if not isinstance(prompt_ids, list):  # some versions return a BatchEncoding
            prompt_ids = list(prompt_ids["input_ids"])
        if config.seed is not None:
            torch.manual_seed(config.seed)
        # 2. generate
        sample = config.temperature > 0
        with torch.no_grad():
            out = self.model.generate(torch.tensor([prompt_ids], device=self.device), max_new_tokens=config.max_tokens,
                                      do_sample=sample, temperature=config.temperature if sample else None,
                                      top_p=config.top_p if sample else None,
                                      pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        ids = out[0, len(prompt_ids):].tolist()
        # 3. text up to the first stop string; ids keep the end token, as in the llama.cpp backend
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        finish = "stop" if ids and ids[-1] == self.tokenizer.eos_token_id or len(ids) < config.max_tokens else "length"
        for stop in config.stop:
            if stop and stop in text:
                text, finish = text[: text.index(stop)], "stop"
        if on_token and text:
            on_token(text)
        latency = time.perf_counter() - t0
        return Completion(text=text, model=self.name, prompt_tokens=len(prompt_ids), completion_tokens=len(ids),
                          latency_s=latency, first_token_s=None, cost_usd=self.spec.price.cost(len(prompt_ids), len(ids)),
                          finish_reason=finish, prompt_token_ids=list(prompt_ids), completion_token_ids=ids,
                          continued_prefix=continued)

    def close(self) -> None:
        self.model = None
