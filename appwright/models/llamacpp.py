"""The embedded backend: a GGUF model run in-process by llama.cpp (llama-cpp-python).

    backend = LlamaCppBackend(spec, ensure_model(spec))
    done = backend.complete([Message("system", docs), Message("user", "Build a notes app")],
                            on_token=print)

How one call runs (see `complete`):
  1. render the prompt with the chat template stored in the GGUF, through a sandboxed
     jinja2 environment (as transformers does), with `tools` as OpenAI-style dicts;
  2. tokenize it with special tokens parsed and no extra BOS (the template has its own);
  3. generate token by token with `Llama.generate`; llama.cpp keeps the KV cache of the
     previous call and re-reads only the prompt after the longest common prefix (a long,
     fixed system prompt is read once per process); `cached_prompt_tokens` says how much;
  4. stop at an end-of-generation token, a stop string or max_tokens, streaming decoded
     text through `on_token` (UTF-8 split across tokens is held back until whole);
  5. return exact token ids, counts, time to first token, latency and the estimated cost.

`completion_token_ids` include the end token the model sampled (`<|im_end|>`), which
training needs; `text` does not. A stop string cuts `text` but not the ids.

A LoRA entry (`spec.lora`) loads its base's GGUF (`path`) and applies the GGUF adapter at
run time through llama-cpp-python's `lora_path` (scale 1.0: the adapter's own alpha / r).
llama-cpp-python then reads the base into memory instead of mapping it (it turns mmap off
whenever `lora_path` is set), so a LoRA model's load reads the whole base file.

Speculative decoding by prompt lookup (`spec.lookup_tokens`, models/lookup.py): tokens copied from
the context are proposed and checked in one batch; an edit that sends its page back is written
about twice as fast; a drafted token is kept only where the sampler picks it. 0 turns it off.

`GenerationConfig.grammar` (GBNF) constrains sampling: llama.cpp masks every token that the
grammar does not allow, and once the grammar is complete only an end token is left.

Not done here: batching, several sequences at once, GPU offload settings, thread safety (one backend serves one caller at a time; a lock
makes concurrent callers wait rather than corrupt the cache).
"""

from __future__ import annotations

import codecs
import json
import os
import random
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from appwright.models.base import Completion, GenerationConfig, Message, ModelError, OnToken, ToolSpec
from appwright.models.lookup import PromptLookup
from appwright.models.registry import ModelSpec

MAX_DEFAULT_CTX = 16384  # KV cache size when the caller does not say; the 0.5B needs ~12 KiB per token
_LOAD_LOCK = threading.Lock()


@contextmanager
def _without_extra_buffers(llama_cpp_module):
    """Load with `use_extra_bufts = False` (no weight repacking into CPU-specific layouts).

    Why: llama-cpp-python 0.3.36 built here (AVX-512 + AMX) segfaults in the first decode
    on this VM with its default extra buffer types; without them it runs (measured
    2026-11-25). `Llama()` does not expose the flag, so the defaults function it calls is
    swapped for the duration of the constructor, under a lock.
    """
    original = llama_cpp_module.llama_model_default_params

    def params():
        p = original()
        p.use_extra_bufts = False
        return p

    with _LOAD_LOCK:
        llama_cpp_module.llama_model_default_params = params
        try:
            yield
        finally:
            llama_cpp_module.llama_model_default_params = original


def _batch_eval(llm, all_logits_up_to: int):
    """`Llama.eval` for speculative decoding, without its two costs: given a draft model,
    llama-cpp-python asks llama.cpp for logits at every position of every batch, the prompt's
    included (151,936 floats a token, 600 KB, computed and copied into an n_ctx-row array). Here
    a batch of up to `all_logits_up_to` tokens (the sampled token and a draft) gets logits at
    every position, which checking a draft needs; a longer one (a prompt) only at its last. The
    sampler reads logits from llama.cpp, never from `Llama.scores`, which stays unused."""

    def eval(tokens) -> None:
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
        for i in range(0, len(tokens), llm.n_batch):
            batch = tokens[i:i + llm.n_batch]
            llm._batch.set_batch(batch=batch, n_past=llm.n_tokens, logits_all=len(tokens) <= all_logits_up_to)
            llm._ctx.decode(llm._batch)
            llm.input_ids[llm.n_tokens:llm.n_tokens + len(batch)] = batch
            llm.n_tokens += len(batch)
        llm._requires_eval = False

    return eval


@contextmanager
def _grammar_checked(llm, config: GenerationConfig):
    """Sampling under `config.grammar` for the next `llm.generate`, the way llama.cpp's own
    common sampler does it: sample as usual, check that one token against the grammar, and only
    when the grammar refuses it apply the grammar to the whole vocabulary and sample again from
    what is left. The token then has exactly the probability it has when the grammar masks the
    vocabulary first, but the 151,936-token check runs only on refusals. Measured: free 41 tok/s,
    grammar on every step 20 to 27 tok/s (docs/LOG.md)."""
    import ctypes

    import llama_cpp.llama_cpp as low
    import numpy as np

    grammar = low.llama_sampler_init_grammar(llm._model.vocab, config.grammar.encode(), b"root")
    if not grammar:
        raise ModelError("llama.cpp could not parse the grammar (its parser printed why on stderr)")
    rest = llm._init_sampler(top_p=config.top_p, temp=config.temperature)  # the usual chain, for refusals
    one = (low.llama_token_data * 1)()
    single = low.llama_token_data_array(data=ctypes.cast(one, low.llama_token_data_p), size=1, selected=-1,
                                        sorted=False)
    full = llm._candidates  # n_vocab entries, owned by llm
    n_vocab = llm.n_vocab()

    def sample(idx=None, **_ignored) -> int:
        ridx = idx - llm.n_tokens if idx is not None else -1
        token = llm._sampler.sample(llm._ctx, ridx)  # the usual chain (generate made it; no grammar)
        one[0].id, one[0].logit, one[0].p = token, 0.0, 0.0
        single.size, single.selected = 1, -1
        low.llama_sampler_apply(grammar, ctypes.byref(single))
        if one[0].logit == float("-inf"):  # refused: mask the whole vocabulary, sample again
            logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(ridx), shape=(n_vocab,))
            full.copy_logits(logits)
            full.candidates.selected = -1
            low.llama_sampler_apply(grammar, ctypes.byref(full.candidates))
            low.llama_sampler_apply(rest.sampler, ctypes.byref(full.candidates))
            token = int(full.candidates_data.id[full.candidates.selected])
        low.llama_sampler_accept(grammar, token)
        return token

    llm.sample = sample
    try:
        yield
    finally:
        del llm.sample
        rest.close()
        low.llama_sampler_free(grammar)


def render_chat_template(template: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
                         add_generation_prompt: bool = True) -> str:
    """Render a Hugging Face chat template the way transformers does (sandboxed jinja2)."""
    from jinja2.exceptions import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, separators=None,
               sort_keys: bool = False) -> str:
        # jinja's own tojson HTML-escapes < > & ', which would change what the model saw in training
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(messages=messages, tools=tools or None,
                                            add_generation_prompt=add_generation_prompt)


class LlamaCppBackend:
    constrains = True  # GenerationConfig.grammar
    structured = False  # json_schema: the harness gives it the grammar instead
    def __init__(self, spec: ModelSpec, path: str | Path, n_threads: int | None = None, n_ctx: int | None = None,
                 extra_buffers: bool = False, lookup_tokens: int | None = None):
        """`lookup_tokens`: the longest prompt-lookup draft, default `spec.lookup_tokens` (0: none)."""
        try:
            import llama_cpp
            import llama_cpp.llama_cpp as low_level
        except ImportError:
            raise ModelError("the llamacpp backend needs llama-cpp-python: pip install llama-cpp-python==0.3.36") from None
        self.name = spec.name
        self.spec = spec
        t0 = time.perf_counter()
        lora = spec.lora_path()
        if lora is not None and not lora.is_file():
            raise ModelError(f"{spec.name}: its LoRA adapter {lora} does not exist")
        with nullcontext() if extra_buffers else _without_extra_buffers(low_level):
            try:
                self._llm = llama_cpp.Llama(model_path=str(path),
                                            n_ctx=n_ctx or min(spec.context_length, MAX_DEFAULT_CTX),
                                            n_threads=n_threads or os.cpu_count(),
                                            lora_path=str(lora) if lora is not None else None, verbose=False)
            except RuntimeError as e:  # llama.cpp could not set the adapter on the context
                if lora is None:
                    raise
                raise ModelError(f"{spec.name}: llama.cpp could not apply the LoRA adapter {lora} to {path}: {e}") \
                    from None
        # llama-cpp-python 0.3.36 checks the adapter `is None`, but a failed llama_adapter_lora_init returns a
        # NULL ctypes pointer (falsy, not None): a GGUF that is no adapter, or one made for another base, would
        # be served silently as the base alone. Measured here with a model GGUF passed as the adapter.
        if lora is not None and not self._llm._lora_adapter:
            self._llm.close()
            raise ModelError(f"{spec.name}: llama.cpp could not load the LoRA adapter {lora} onto {path}: it is not "
                             f"a GGUF adapter, or was made for another base (`appwright models export --adapter` "
                             f"writes one from a run on this base)")
        self.load_s = time.perf_counter() - t0
        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(f"{path} carries no tokenizer.chat_template; this backend needs one")
        self._template = template
        self._end_ids = {self._llm.token_eos()}
        for marker in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
            ids = self._llm.tokenize(marker.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                self._end_ids.add(ids[0])
        self._lock = threading.Lock()
        lookup_tokens = spec.lookup_tokens if lookup_tokens is None else lookup_tokens
        self.lookup = PromptLookup(lookup_tokens) if lookup_tokens > 0 else None  # counts proposed/kept
        if self.lookup is not None:
            self._llm.draft_model = self.lookup  # after Llama(): passed in, it would ask for every logit
            self._llm.eval = _batch_eval(self._llm, 1 + lookup_tokens)

    def render(self, messages: list[Message], tools: list[ToolSpec] | None = None) -> str:
        """The prompt text. A final assistant message is a prefix the model continues
        (Completion.text holds only what comes after it)."""
        prefix = ""
        if messages and messages[-1].role == "assistant":
            messages, prefix = messages[:-1], messages[-1].content
        return render_chat_template(self._template, [m.to_dict() for m in messages],
                                    [t.to_openai() for t in tools] if tools else None) + prefix

    def complete(self, messages: list[Message], tools: list[ToolSpec] | None = None,
                 config: GenerationConfig = GenerationConfig(), on_token: OnToken | None = None) -> Completion:
        with self._lock:
            return self._complete(messages, tools, config, on_token)

    def _complete(self, messages, tools, config, on_token) -> Completion:
        llm = self._llm
        t0 = time.perf_counter()
        # 1-2. prompt text -> token ids
        prompt_ids = llm.tokenize(self.render(messages, tools).encode(), add_bos=False, special=True)
        room = llm.n_ctx() - len(prompt_ids)
        if room <= 0:
            raise ModelError(f"{self.name}: the prompt has {len(prompt_ids)} tokens, the context holds {llm.n_ctx()}")
        max_tokens = min(config.max_tokens, room)
        # What llama.cpp will keep of the previous call's KV cache (mirrors Llama.generate:
        # if the whole prompt matches, it re-reads one token to refresh the logits).
        cached = 0
        for a, b in zip(llm.input_ids[: llm.n_tokens], prompt_ids):
            if a != b:
                break
            cached += 1
        if cached == len(prompt_ids):
            cached -= 1
        llm.set_seed(config.seed if config.seed is not None else random.randrange(2**31))

        # 3-4. sample (_generate); reset=True is what enables llama.cpp's prefix reuse (reset=False
        # would append the new prompt after the old one's tokens)
        if self.lookup is not None:
            self.lookup.reset()
        checked = _grammar_checked(llm, config) if config.grammar else nullcontext()
        with checked:
            text, ids, first_token_s, finish = self._generate(llm, prompt_ids, config, max_tokens, t0, on_token)
        latency = time.perf_counter() - t0

        # 5. the record
        return Completion(text=text, model=self.name, prompt_tokens=len(prompt_ids), completion_tokens=len(ids),
                          latency_s=latency, first_token_s=first_token_s,
                          cost_usd=self.spec.price.cost(len(prompt_ids), len(ids)), finish_reason=finish,
                          cached_prompt_tokens=max(cached, 0), prompt_token_ids=list(prompt_ids),
                          continued_prefix=bool(messages) and messages[-1].role == "assistant",
                          completion_token_ids=ids)

    def _generate(self, llm, prompt_ids, config, max_tokens, t0, on_token):
        """(text, token ids, time to first token, finish reason), streaming text through on_token."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        holdback = max((len(s) for s in config.stop), default=1) - 1
        text, sent, ids = "", 0, []
        first_token_s, finish = None, "length"
        for token in llm.generate(prompt_ids, temp=config.temperature, top_p=config.top_p, reset=True):
            if first_token_s is None:
                first_token_s = time.perf_counter() - t0
            ids.append(token)
            if token in self._end_ids:
                finish = "stop"
                break
            text += decoder.decode(llm.detokenize([token], special=True))
            cut = min((i for i in (text.find(s) for s in config.stop if s) if i >= 0), default=-1)
            if cut >= 0:
                text, finish = text[:cut], "stop"
                break
            if len(ids) >= max_tokens:
                break
            if on_token and len(text) - holdback > sent:  # keep back what may be the start of a stop string
                on_token(text[sent: len(text) - holdback])
                sent = len(text) - holdback
        if finish == "length" or not config.stop:
            text += decoder.decode(b"", final=True)
        if on_token and len(text) > sent:
            on_token(text[sent:])
        return text, ids, first_token_s, finish

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
