"""Replays recorded completions, in order. For unit tests of the harness only: it proves
nothing about a model.

Replies are one list, replayed in order whatever is asked, or, keyed by task, a JSON object
{text: [replies]}: a call takes the next reply of the first key found in the request's first
user message, so runs that deal tasks out in any order (threads, Ray workers) get each
task's own replies."""

from __future__ import annotations

import json
from pathlib import Path

from appwright.models.base import Completion, GenerationConfig, Message, ModelError, OnToken, ToolSpec


class ScriptedBackend:
    constrains = False  # ignores GenerationConfig.grammar
    structured = False  # and json_schema

    def __init__(self, replies: list[str], name: str = "scripted", keyed: dict[str, list[str]] | None = None):
        self.name = name
        self.replies = list(replies)
        self.keyed = {k: list(v) for k, v in (keyed or {}).items()}
        self.calls: list[list[Message]] = []  # what the harness sent, for tests to inspect

    @classmethod
    def from_file(cls, path: str | Path) -> "ScriptedBackend":
        """A JSON list of reply strings, a JSON object {text: [replies]} keyed by task, or JSONL
        with one {"text": ...} per line."""
        text = Path(path).read_text()
        try:
            replies = json.loads(text)
        except json.JSONDecodeError:
            replies = [json.loads(line)["text"] for line in text.splitlines() if line.strip()]
        name = f"scripted:{Path(path).name}"
        if isinstance(replies, dict) and all(isinstance(v, list) and all(isinstance(r, str) for r in v)
                                             for v in replies.values()):
            return cls([], name=name, keyed=replies)
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise ModelError(f"{path}: expected a JSON list of reply strings, or an object of such lists")
        return cls(replies, name=name)

    def _queue(self, messages: list[Message]) -> list[str]:
        if not self.keyed:
            return self.replies
        first = next((m.content for m in messages if m.role == "user"), "")
        return next((q for key, q in self.keyed.items() if key in first), [])

    def complete(self, messages: list[Message], tools: list[ToolSpec] | None = None,
                 config: GenerationConfig = GenerationConfig(), on_token: OnToken | None = None) -> Completion:
        self.calls.append(list(messages))
        replies = self._queue(messages)
        if not replies:
            raise ModelError("the scripted backend has no replies left" + (" for this request" if self.keyed else ""))
        text = replies.pop(0)
        if on_token:
            on_token(text)
        prompt_tokens = sum(len(m.content) for m in messages) // 4  # a stand-in count: ~4 characters a token
        return Completion(text=text, model=self.name, prompt_tokens=prompt_tokens,
                          completion_tokens=max(1, len(text) // 4), latency_s=0.0, first_token_s=0.0,
                          cost_usd=0.0, finish_reason="stop")

    def close(self) -> None:
        pass
