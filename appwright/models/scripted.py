"""Replays recorded completions, in order. For unit tests of the harness only:
it never looks at the prompt, so it proves nothing about a model."""

from __future__ import annotations

import json
from pathlib import Path

from appwright.models.base import Completion, GenerationConfig, Message, ModelError, OnToken, ToolSpec


class ScriptedBackend:
    constrains = False  # ignores GenerationConfig.grammar
    structured = False  # and json_schema

    def __init__(self, replies: list[str], name: str = "scripted"):
        self.name = name
        self.replies = list(replies)
        self.calls: list[list[Message]] = []  # what the harness sent, for tests to inspect

    @classmethod
    def from_file(cls, path: str | Path) -> "ScriptedBackend":
        """A JSON list of reply strings, or JSONL with one {"text": ...} per line."""
        text = Path(path).read_text()
        try:
            replies = json.loads(text)
        except json.JSONDecodeError:
            replies = [json.loads(line)["text"] for line in text.splitlines() if line.strip()]
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise ModelError(f"{path}: expected a JSON list of reply strings")
        return cls(replies, name=f"scripted:{Path(path).name}")

    def complete(self, messages: list[Message], tools: list[ToolSpec] | None = None,
                 config: GenerationConfig = GenerationConfig(), on_token: OnToken | None = None) -> Completion:
        self.calls.append(list(messages))
        if not self.replies:
            raise ModelError("the scripted backend has no replies left")
        text = self.replies.pop(0)
        if on_token:
            on_token(text)
        prompt_tokens = sum(len(m.content) for m in messages) // 4  # a stand-in count: ~4 characters a token
        return Completion(text=text, model=self.name, prompt_tokens=prompt_tokens,
                          completion_tokens=max(1, len(text) // 4), latency_s=0.0, first_token_s=0.0,
                          cost_usd=0.0, finish_reason="stop")

    def close(self) -> None:
        pass
