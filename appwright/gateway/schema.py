"""OpenAI's wire format, as far as the gateway speaks it: the request it reads, the bodies and
stream chunks it writes, and the error shape.

    request = ChatRequest.model_validate(json_body)      # pydantic ValidationError -> 400
    completion_body(...), chunk_body(...), error_body("...", "invalid_request_error", "model_not_found")

Read and used: model, messages (string content or a list of text parts; role `developer` is
taken as `system`), stream, stream_options.include_usage, max_tokens / max_completion_tokens,
temperature, top_p, seed, stop, n (only 1). Refused with 400: tools and functions, images and
other non-text parts, response_format other than text, logprobs. Other fields (user,
presence_penalty, metadata, ...) are accepted and ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from appwright.models.base import Message

UNSUPPORTED = ("tools", "tool_choice", "functions", "function_call", "parallel_tool_calls", "logprobs",
               "top_logprobs", "audio", "prediction")


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart]

    def to_message(self) -> Message:
        text = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content)
        return Message("system" if self.role == "developer" else self.role, text)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # checked against UNSUPPORTED, then ignored

    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = 1
    response_format: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _supported(self) -> "ChatRequest":
        given = [k for k in UNSUPPORTED if (self.model_extra or {}).get(k) not in (None, False, [])]
        if given:
            raise ValueError(f"{', '.join(given)}: not supported by the Appwright gateway (plain chat only)")
        if self.n != 1:
            raise ValueError("n: the gateway answers with one choice; send n=1 or leave it out")
        if self.response_format not in (None, {"type": "text"}):
            raise ValueError("response_format: only {'type': 'text'} is supported")
        if isinstance(self.stop, list) and len(self.stop) > 4:
            raise ValueError("stop: at most 4 sequences")
        return self

    def to_messages(self) -> list[Message]:
        return [m.to_message() for m in self.messages]

    def stop_list(self) -> tuple[str, ...]:
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


def error_body(message: str, type_: str, code: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


def usage_body(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def completion_body(id_: str, created: int, model: str, text: str, finish_reason: str, prompt_tokens: int,
                    completion_tokens: int, extension: dict[str, Any]) -> dict[str, Any]:
    """A `chat.completion`; `extension` goes under "appwright" (which model, what was tried, the cost)."""
    return {"id": id_, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason, "logprobs": None}],
            "usage": usage_body(prompt_tokens, completion_tokens), "appwright": extension}


def chunk_body(id_: str, created: int, model: str, delta: dict[str, Any] | None,
               finish_reason: str | None = None, usage: dict[str, int] | None = None,
               extension: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `chat.completion.chunk`; delta None: the usage chunk (no choices), as OpenAI sends it last."""
    body: dict[str, Any] = {"id": id_, "object": "chat.completion.chunk", "created": created, "model": model,
                            "choices": [] if delta is None else
                            [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]}
    if usage is not None:
        body["usage"] = usage
    if extension is not None:
        body["appwright"] = extension
    return body
