"""The one interface every model backend implements, and the records it returns.

A backend takes chat messages (and, for the `tools` protocol, tool specs) and
returns a `Completion`: the text, exact token counts, latency, time to first
token, cost, and the token ids where the backend can give them (llama.cpp and
transformers do; an HTTP endpoint does not). The agent harness parses tool
calls out of the text itself, so every backend is driven the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: a name, one line saying what it does, JSON-schema parameters."""
    name: str
    description: str
    parameters: dict[str, Any]

    def to_openai(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}


@dataclass(frozen=True)
class GenerationConfig:
    max_tokens: int = 2048
    temperature: float = 0.2
    top_p: float = 0.95
    seed: int | None = None
    stop: tuple[str, ...] = ()
    # A GBNF grammar the completion must match (llama.cpp's format). Only backends whose
    # `constrains` is True honour it; the harness asks the others for free text.
    grammar: str | None = None
    # A JSON schema the completion must match (OpenAI's `response_format`). Only backends whose
    # `structured` is True honour it.
    json_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens. `as_of`: the date a frontier price was read;
    `note`: for a local model, how the estimate was made."""
    input_per_m: float = 0.0
    output_per_m: float = 0.0
    as_of: str | None = None
    note: str | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    first_token_s: float | None
    cost_usd: float
    finish_reason: str  # "stop" | "length" | "error"
    cached_prompt_tokens: int = 0  # prompt tokens reused from the previous call (prefix cache)
    # True when the messages ended with an assistant message and the backend continued it:
    # `text` then holds only what comes after that prefix. Backends that cannot continue
    # (HTTP endpoints, scripted replies) answer afresh and leave this False.
    continued_prefix: bool = False
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    # True when an HTTP server sent no usage numbers: the token counts (and cost) are then 0, not a guess.
    usage_missing: bool = False


OnToken = Callable[[str], None]


class Backend(Protocol):
    """What the harness, evals and training call. `on_token` streams text as it is made.
    A final assistant message is a prefix to continue where the backend can (see
    Completion.continued_prefix). `constrains`: it samples under `GenerationConfig.grammar`;
    `structured`: it answers in `GenerationConfig.json_schema`."""
    name: str
    constrains: bool
    structured: bool

    def complete(self, messages: list[Message], tools: list[ToolSpec] | None = None,
                 config: GenerationConfig = GenerationConfig(), on_token: OnToken | None = None) -> Completion: ...

    def close(self) -> None: ...


class ModelError(RuntimeError):
    """A model could not be loaded or answered; the message says what to do."""
