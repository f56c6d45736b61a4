"""An OpenAI-compatible `/chat/completions` endpoint over HTTP (OpenAI, Anthropic's
compatibility endpoint, llama.cpp `llama-server`, vLLM).

    backend = OpenAIBackend(get_model("gpt-4.1-mini"))   # reads $OPENAI_API_KEY

One call: POST {base_url}/chat/completions with `stream: true` and
`stream_options: {include_usage: true}`; text deltas go to `on_token` as they arrive;
token counts come from the final usage chunk (a server that sends none gets counts of
0 and `usage_missing=True`, never a guess). 429 and 5xx answers and
connection errors are retried with exponential backoff (honouring Retry-After) before
any token has streamed; after that an error is raised, not retried, so text is never
sent twice.

`GenerationConfig.json_schema` goes out as `response_format: {"type": "json_schema", ...}` when
the registry entry says the server takes it (`structured_output`: OpenAI, vLLM, llama-server);
Anthropic's compatibility endpoint ignores `response_format`, so its entry leaves it off.

Not done here: native tool-call fields (the tool specs are sent as `tools`, but the
harness parses calls from the text; a server that answers with `tool_calls` deltas has
them rendered as Qwen-style `<tool_call>` JSON text), token ids (HTTP gives none), images.
"""

from __future__ import annotations

import json
import os
import time

import httpx

from appwright.models.base import Completion, GenerationConfig, Message, ModelError, OnToken, ToolSpec
from appwright.models.registry import ModelSpec

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    constrains = False  # ignores GenerationConfig.grammar

    def __init__(self, spec: ModelSpec, *, transport: httpx.BaseTransport | None = None, timeout_s: float = 120.0,
                 max_retries: int = 4, backoff_s: float = 1.0, api_key: str | None = None):
        # api_key: the key to send; default the environment variable the spec names (the gateway
        # passes one it read from keys.toml too).
        headers = {"Content-Type": "application/json"}
        key = api_key or (os.environ.get(spec.api_key_env) if spec.api_key_env else None)
        if spec.api_key_env and not key:
            raise ModelError(f"model {spec.name!r} needs an API key: set the environment variable {spec.api_key_env}")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.name = spec.name
        self.spec = spec
        self.structured = spec.structured_output
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._client = httpx.Client(base_url=spec.base_url.rstrip("/") + "/", headers=headers, transport=transport,
                                    timeout=httpx.Timeout(timeout_s, connect=10.0))

    def _body(self, messages: list[Message], tools: list[ToolSpec] | None, config: GenerationConfig) -> dict:
        if messages and messages[-1].role == "assistant":  # a prefix: not portable over HTTP, so answer afresh
            messages = messages[:-1]
        body = {"model": self.spec.model, "messages": [m.to_dict() for m in messages], "stream": True,
                "stream_options": {"include_usage": True}, "max_tokens": config.max_tokens,
                "temperature": config.temperature, "top_p": config.top_p}
        if tools:
            body["tools"] = [t.to_openai() for t in tools]
        if config.seed is not None:
            body["seed"] = config.seed
        if config.stop:
            body["stop"] = list(config.stop)
        if config.json_schema is not None and self.structured:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": config.json_schema}}
        return body

    def complete(self, messages: list[Message], tools: list[ToolSpec] | None = None,
                 config: GenerationConfig = GenerationConfig(), on_token: OnToken | None = None) -> Completion:
        body = self._body(messages, tools, config)
        t0 = time.perf_counter()
        for attempt in range(self.max_retries + 1):
            try:
                with self._client.stream("POST", "chat/completions", json=body) as response:
                    if response.status_code in RETRY_STATUS and attempt < self.max_retries:
                        self._sleep(attempt, response.headers.get("retry-after"))
                        continue
                    if response.status_code >= 400:
                        detail = response.read().decode(errors="replace")[:300]
                        raise ModelError(f"{self.name}: HTTP {response.status_code} from {self.spec.base_url}: {detail}")
                    return self._read_stream(response, t0, on_token)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError) as e:
                if attempt >= self.max_retries:
                    raise ModelError(f"{self.name}: {type(e).__name__} talking to {self.spec.base_url}: {e}") from None
                self._sleep(attempt, None)
        raise ModelError(f"{self.name}: gave up after {self.max_retries + 1} attempts")  # unreachable in practice

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        try:
            wait = float(retry_after) if retry_after else self.backoff_s * 2 ** attempt
        except ValueError:
            wait = self.backoff_s * 2 ** attempt
        time.sleep(min(wait, 60.0))

    def _read_stream(self, response: httpx.Response, t0: float, on_token: OnToken | None) -> Completion:
        parts: list[str] = []
        first_token_s, finish, usage = None, "stop", None
        calls: dict[int, dict] = {}  # index -> {"name", "arguments"} for servers that answer with tool_calls
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            if "error" in chunk:
                raise ModelError(f"{self.name}: the server reported an error mid-stream: {chunk['error']}")
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices", []):
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    if first_token_s is None:
                        first_token_s = time.perf_counter() - t0
                    parts.append(delta["content"])
                    if on_token:
                        on_token(delta["content"])
                for call in delta.get("tool_calls") or []:
                    slot = calls.setdefault(call.get("index", 0), {"name": "", "arguments": ""})
                    fn = call.get("function") or {}
                    slot["name"] += fn.get("name") or ""
                    slot["arguments"] += fn.get("arguments") or ""
                if choice.get("finish_reason"):
                    finish = "length" if choice["finish_reason"] == "length" else "stop"
        for slot in calls.values():
            try:
                args = json.loads(slot["arguments"] or "{}")
            except json.JSONDecodeError:
                args = slot["arguments"]
            text = f'<tool_call>\n{json.dumps({"name": slot["name"], "arguments": args})}\n</tool_call>'
            parts.append(("\n" if parts else "") + text)
            if on_token:
                on_token(parts[-1])
        prompt = int((usage or {}).get("prompt_tokens") or 0)
        completion = int((usage or {}).get("completion_tokens") or 0)
        cached = int(((usage or {}).get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        return Completion(text="".join(parts), model=self.name, prompt_tokens=prompt, completion_tokens=completion,
                          latency_s=time.perf_counter() - t0, first_token_s=first_token_s,
                          cost_usd=self.spec.price.cost(prompt, completion), finish_reason=finish,
                          cached_prompt_tokens=cached, usage_missing=usage is None)

    def close(self) -> None:
        self._client.close()
